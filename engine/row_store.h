// The rows of one value while a stripe streams through the network (engine/row_schedule.h).
//
// Layout: `planes` channel blocks of `block` lanes (nChw16c / nChw8c; block 1 is nchw). A group
// of consecutive rows is stored plane after plane, each plane `rows * width * block` floats: a
// dense oneDNN tensor of those rows. Three kinds:
//   Ring   the chunk each pass computes is a dense tensor in one of `chunks` slots; a pass
//          overwrites the oldest chunk (the schedule sized the ring so nobody needs it anymore).
//          With one slot, the rows consumers still need from before the current chunk (a conv's
//          or a dw gate's lookback) are kept in a small carry buffer instead of a second chunk.
//   Window the input window of the one conv that reads the value: rows [lo, hi) of the current
//          pass as one dense tensor; rows the previous window already held are carried over,
//          rows outside the image are zero (the conv's padding), the producer writes the rest.
//   Dense  one dense tensor of rows [lo, hi) (scratch: assembled conv inputs).
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

  static size_t ring_bytes(const RowLayout &l, int chunk_rows, int chunks, int carry_rows) {
    return (size_t(chunks) * size_t(chunk_rows) + size_t(carry_rows)) * size_t(l.planes()) * l.row_bytes();
  }
  static size_t window_bytes(const RowLayout &l, int max_rows, int carry_rows) {
    return (size_t(max_rows) + size_t(carry_rows)) * size_t(l.planes()) * l.row_bytes();
  }
  static size_t dense_bytes(const RowLayout &l, int rows) { return size_t(rows) * size_t(l.planes()) * l.row_bytes(); }

  void init_ring(const RowLayout &layout, const ValueRows &rows, int chunks, int carry_rows, void *memory);
  void init_window(const RowLayout &layout, const ValueRows &rows, int max_rows, int carry_rows, void *memory);
  void init_dense(const RowLayout &layout, int height, void *memory);

  // Start of pass k. Ring: the chunk of this pass goes to the oldest slot. Window: lay out the
  // window `rows` (see RowSchedule::window), carrying over what the previous window held.
  void begin_ring_pass(int k);
  void begin_window_pass(int k, RowRange window);
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
  char *slot(int pass) const {
    return memory_ + size_t(pass % chunks_) * size_t(chunk_rows_) * layout_.planes() * layout_.row_bytes();
  }
  // Copies the rows of `from` (in its layout `from_rows`) that lie in `rows` into `to`.
  void copy_held(const char *from, RowRange from_rows, char *to, RowRange to_rows, RowRange rows) const;

  Kind kind_ = Kind::Dense;
  RowLayout layout_;
  ValueRows rows_;
  int height_ = 0;
  char *memory_ = nullptr;
  // Ring
  int chunks_ = 1, chunk_rows_ = 0, pass_ = 0;
  // Ring with one slot: rows [carried_.lo, carried_.hi) kept from earlier chunks, stored as the
  // last rows of a dense block of carry_rows_ rows ending at carried_.hi.
  int carry_rows_ = 0;
  char *carry_ = nullptr;
  RowRange carried_;
  // Window / Dense: the held rows and the buffer holding them.
  RowRange held_;
  char *current_ = nullptr;
  int window_rows_ = 0;
};

}  // namespace xunit
