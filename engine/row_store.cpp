#include "engine/row_store.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace xunit {

void RowStore::init_ring(const RowLayout &layout, const ValueRows &rows, int chunks, int carry_rows, void *memory) {
  kind_ = Kind::Ring;
  layout_ = layout;
  rows_ = rows;
  height_ = rows.height;
  chunks_ = chunks;
  chunk_rows_ = rows.chunk;
  memory_ = static_cast<char *>(memory);
  pass_ = 0;
  carry_rows_ = carry_rows;
  carry_ = memory_ + size_t(chunks) * size_t(chunk_rows_) * layout.planes() * layout.row_bytes();
  carried_ = {0, 0};
}

void RowStore::init_window(const RowLayout &layout, const ValueRows &rows, int max_rows, int carry_rows, void *memory) {
  kind_ = Kind::Window;
  layout_ = layout;
  rows_ = rows;
  height_ = rows.height;
  window_rows_ = max_rows;
  carry_rows_ = carry_rows;
  memory_ = current_ = static_cast<char *>(memory);
  carry_ = memory_ + size_t(max_rows) * layout.planes() * layout.row_bytes();
  held_ = {0, 0};
}

void RowStore::init_dense(const RowLayout &layout, int height, void *memory) {
  kind_ = Kind::Dense;
  layout_ = layout;
  height_ = height;
  memory_ = current_ = static_cast<char *>(memory);
  held_ = {0, 0};
}

void RowStore::copy_held(const char *from, RowRange from_rows, char *to, RowRange to_rows, RowRange rows) const {
  if (rows.empty()) return;
  const size_t bytes = size_t(rows.size()) * layout_.row_bytes();
  for (int p = 0; p < layout_.planes(); ++p)
    std::memmove(at(to, to_rows, p, rows.lo), at(const_cast<char *>(from), from_rows, p, rows.lo), bytes);
}

void RowStore::begin_ring_pass(int k) {
  if (carry_rows_ > 0 && pass_ >= 1) {
    // Keep the last carry_rows_ rows produced so far: what is left of the old carry, then the
    // chunk about to be overwritten.
    const RowRange chunk = rows_.in_pass(pass_);
    const RowRange keep = {std::max(0, chunk.hi - carry_rows_), chunk.hi};
    const RowRange old_block = {carried_.hi - carry_rows_, carried_.hi};
    const RowRange new_block = {keep.hi - carry_rows_, keep.hi};
    // The carry buffer is a dense block of carry_rows_ rows ending at carried_.hi; moving the
    // rows that stay to their place in the new block is a shift within each plane.
    const RowRange stay = {std::max(keep.lo, carried_.lo), std::min(keep.hi, carried_.hi)};
    if (!stay.empty() && old_block.lo != new_block.lo) copy_held(carry_, old_block, carry_, new_block, stay);
    copy_held(slot(pass_), chunk, carry_, new_block, {std::max(keep.lo, chunk.lo), keep.hi});
    carried_ = keep;
  }
  pass_ = k;
}

void RowStore::set_dense_rows(RowRange range) { held_ = range; }

void RowStore::begin_window_pass(int k, RowRange window) {
  check(window.size() <= window_rows_, "internal error: window larger than its buffer");
  const int produced = rows_.frontier(k - 1);  // rows of earlier passes
  const RowRange carry = {std::max(window.lo, 0), produced};
  if (!carry.empty())
    check(carry.lo >= held_.lo && carry.hi <= held_.hi && carry.size() <= carry_rows_,
          "internal error: window rows not carried over");
  if (window.size() == held_.size()) {
    // Same layout (every pass but the first and the last): move the rows up in each plane.
    const RowRange old_held = held_;
    held_ = window;
    copy_held(current_, old_held, current_, held_, carry);
  } else {
    const RowRange parked = {carry.lo, carry.lo + carry_rows_};
    copy_held(current_, held_, carry_, parked, carry);
    held_ = window;
    copy_held(carry_, parked, current_, held_, carry);
  }
  for (int p = 0; p < layout_.planes(); ++p)
    for (int y = window.lo; y < window.hi; ++y)
      if (y < 0 || y >= height_) std::memset(at(current_, held_, p, y), 0, layout_.row_bytes());  // zero padding
}

void *RowStore::row_bytes(int plane, int y) const {
  if (kind_ != Kind::Ring) return at(current_, held_, plane, y);
  const int p = rows_.pass_of(y);
  if (y < 0 || y >= height_ || p > pass_) throw Error("internal error: row " + std::to_string(y) + " not computed yet");
  if (p > pass_ - chunks_) return at(slot(p), rows_.in_pass(p), plane, y);
  if (y < carried_.lo || y >= carried_.hi)
    throw Error("internal error: row " + std::to_string(y) + " is no longer held");
  return at(carry_, {carried_.hi - carry_rows_, carried_.hi}, plane, y);
}

float *RowStore::row(int plane, int y) const {
  check(layout_.element_bytes == 4, "internal error: float rows of a bfloat16 store");
  return static_cast<float *>(row_bytes(plane, y));
}

void *RowStore::dense() const { return kind_ == Kind::Ring ? slot(pass_) : current_; }

}  // namespace xunit
