#include "engine/row_store.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace xunit {

void RowStore::init_ring(const RowLayout &layout, const ValueRows &rows, int chunks, float *memory) {
  kind_ = Kind::Ring;
  layout_ = layout;
  rows_ = rows;
  height_ = rows.height;
  chunks_ = chunks;
  chunk_rows_ = rows.chunk;
  memory_ = memory;
  pass_ = 0;
}

void RowStore::init_window(const RowLayout &layout, const ValueRows &rows, int max_rows, float *memory) {
  kind_ = Kind::Window;
  layout_ = layout;
  rows_ = rows;
  height_ = rows.height;
  chunk_rows_ = max_rows;
  memory_ = memory;
  held_ = {0, 0};
  current_ = memory;
}

void RowStore::init_dense(const RowLayout &layout, int height, float *memory) {
  kind_ = Kind::Dense;
  layout_ = layout;
  height_ = height;
  memory_ = current_ = memory;
  held_ = {0, 0};
}

void RowStore::begin_ring_pass(int k) { pass_ = k; }

void RowStore::set_dense_rows(RowRange range) { held_ = range; }

void RowStore::begin_window_pass(int k, RowRange window) {
  check(window.size() <= chunk_rows_, "internal error: window larger than its buffer");
  const size_t half = size_t(chunk_rows_) * layout_.planes() * layout_.row_floats();
  float *next = current_ == memory_ ? memory_ + half : memory_;
  const int produced = rows_.frontier(k - 1);  // rows of earlier passes
  const size_t bytes = layout_.row_floats() * sizeof(float);
  for (int p = 0; p < layout_.planes(); ++p)
    for (int y = window.lo; y < window.hi; ++y) {
      float *dst = at(next, window, p, y);
      if (y < 0 || y >= height_)
        std::memset(dst, 0, bytes);  // zero padding of the conv
      else if (y < produced) {
        check(y >= held_.lo && y < held_.hi, "internal error: window row not carried over");
        std::memcpy(dst, at(current_, held_, p, y), bytes);  // carried over
      }
      // else: written by the producer in this or a later pass
    }
  current_ = next;
  held_ = window;
}

float *RowStore::row(int plane, int y) const {
  if (kind_ != Kind::Ring) return at(current_, held_, plane, y);
  const int p = rows_.pass_of(y);
  if (p > pass_ || p <= pass_ - chunks_ || y < 0 || y >= height_)
    throw Error("internal error: row " + std::to_string(y) + " is not held by the ring");
  float *slot = memory_ + size_t(p % chunks_) * size_t(chunk_rows_) * layout_.planes() * layout_.row_floats();
  return at(slot, rows_.in_pass(p), plane, y);
}

float *RowStore::dense() const {
  if (kind_ != Kind::Ring) return current_;
  return memory_ + size_t(pass_ % chunks_) * size_t(chunk_rows_) * layout_.planes() * layout_.row_floats();
}

}  // namespace xunit
