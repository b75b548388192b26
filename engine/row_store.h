// The rows of one value while a stripe streams through the network (engine/row_schedule.h).
//
// Layout: `planes` channel blocks of `block` lanes (nChw16c / nChw8c; block 1 is nchw). A group
// of consecutive rows is stored plane after plane, each plane `rows * width * block` elements:
// a dense oneDNN tensor of those rows. A value's rows live in two places:
//   - the rows of the current pass, in a buffer lent to the value only from its producer's step
//     to its last consumer's step of that pass (the stripe executor shares these buffers
//     between values whose steps do not overlap): for a Ring the chunk the pass computes (a
//     dense tensor, what oneDNN writes), for a Window the input window of the one conv that
//     reads it (rows outside the image are zero rows, the conv's padding; the producer writes
//     the new rows in place);
//   - a small persistent carry of the last rows later passes still read (a gate's lookback of
//     r rows, the rows a conv's next window shares with this one, a residual's lag).
// A Dense store is one dense tensor of rows [lo, hi) (scratch).
#pragma once
#include <cstddef>

#include "engine/row_schedule.h"

namespace xunit {

struct RowLayout {
  int channels = 0, block = 1, width = 0;
  int element_bytes = 4;  // 4: float32; 2: bfloat16 (the input windows of bf16 convs)
  int planes() const { return (channels + block - 1) / block; }
  size_t row_elements() const { return size_t(width) * size_t(block); }
  size_t row_bytes() const { return row_elements() * size_t(element_bytes); }
};

class RowStore {
 public:
  enum class Kind { Ring, Window, Dense };

  static size_t rows_bytes(const RowLayout &l, int rows) {
    return size_t(rows) * size_t(l.planes()) * l.row_bytes();
  }

  void init_ring(const RowLayout &layout, const ValueRows &rows, int carry_rows, void *carry);
  void init_window(const RowLayout &layout, const ValueRows &rows, int carry_rows, void *carry);
  void init_dense(const RowLayout &layout, int height, void *memory);

  // Pass k reaches this value (before its producer writes): `memory` holds the pass's rows
  // until end_pass. Ring: the chunk of rows_.in_pass(k). Window: the rows `window` (see
  // RowSchedule::window), starting with the carried rows.
  void begin_ring_pass(int k, void *memory);
  void begin_window_pass(int k, RowRange window, void *memory);
  // After the last reader of this pass: keep in the carry what later passes read.
  void end_pass();
  // Dense: hold rows `range` (contents unspecified until written).
  void set_dense_rows(RowRange range);

  const RowLayout &layout() const { return layout_; }
  int height() const { return height_; }
  // Row y of a plane; y must be held (for Window/Dense also rows outside the image).
  void *row_bytes(int plane, int y) const;
  float *row(int plane, int y) const;  // the same, for float32 stores
  // The current pass's chunk (Ring) or window (Window/Dense) as one dense tensor.
  void *dense() const;

 private:
  char *at(char *base, RowRange held, int plane, int y) const {
    return base + (size_t(plane) * size_t(held.size()) + size_t(y - held.lo)) * layout_.row_bytes();
  }
  // The carry: rows [carried_.lo, carried_.hi), the last rows of a dense block of carry_rows_
  // rows that ends at carried_.hi.
  RowRange carry_block() const { return {carried_.hi - carry_rows_, carried_.hi}; }
  // Copies the rows of `from` (in its layout `from_rows`) that lie in `rows` into `to`.
  void copy_held(const char *from, RowRange from_rows, char *to, RowRange to_rows,
                 RowRange rows) const;

  Kind kind_ = Kind::Dense;
  RowLayout layout_;
  ValueRows rows_;
  int height_ = 0;
  int pass_ = 0;
  int carry_rows_ = 0;
  char *carry_ = nullptr;
  RowRange carried_;
  // The rows of the current pass (Ring: its chunk) and the buffer holding them.
  RowRange held_;
  char *current_ = nullptr;
};

}  // namespace xunit
