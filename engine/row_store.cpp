#include "engine/row_store.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace xunit {

void RowStore::init_ring(const RowLayout &layout, const ValueRows &rows, int carry_rows,
                         void *carry) {
  kind_ = Kind::Ring;
  layout_ = layout;
  rows_ = rows;
  height_ = rows.height;
  carry_rows_ = carry_rows;
  carry_ = static_cast<char *>(carry);
  carried_ = held_ = {0, 0};
  pass_ = 0;
}

void RowStore::init_window(const RowLayout &layout, const ValueRows &rows, int carry_rows,
                           void *carry) {
  init_ring(layout, rows, carry_rows, carry);
  kind_ = Kind::Window;
}

void RowStore::init_dense(const RowLayout &layout, int height, void *memory) {
  kind_ = Kind::Dense;
  layout_ = layout;
  height_ = height;
  current_ = static_cast<char *>(memory);
  held_ = {0, 0};
}

void RowStore::copy_held(const char *from, RowRange from_rows, char *to, RowRange to_rows,
                         RowRange rows) const {
  if (rows.empty()) return;
  const size_t bytes = size_t(rows.size()) * layout_.row_bytes();
  for (int p = 0; p < layout_.planes(); ++p)
    std::memmove(at(to, to_rows, p, rows.lo), at(const_cast<char *>(from), from_rows, p, rows.lo),
                 bytes);
}

void RowStore::begin_ring_pass(int k, void *memory) {
  pass_ = k;
  held_ = rows_.in_pass(k);
  current_ = static_cast<char *>(memory);
}

void RowStore::begin_window_pass(int k, RowRange window, void *memory) {
  pass_ = k;
  held_ = window;
  current_ = static_cast<char *>(memory);
  const RowRange carry = {std::max(window.lo, 0), rows_.frontier(k - 1)};  // rows of earlier passes
  if (!carry.empty())
    XUNIT_CHECK(carry.lo >= carried_.lo && carry.hi <= carried_.hi,
                "internal error: window rows not carried over");
  copy_held(carry_, carry_block(), current_, held_, carry);
  for (int p = 0; p < layout_.planes(); ++p)
    for (int y = window.lo; y < window.hi; ++y)
      if (y < 0 || y >= height_)
        std::memset(at(current_, held_, p, y), 0, layout_.row_bytes());  // zero padding
}

void RowStore::end_pass() {
  if (carry_rows_ == 0) return;
  // Keep the last carry_rows_ rows produced so far: what stays of the old carry, moved to its
  // place in the new block, then the rows of this pass.
  const int produced = rows_.frontier(pass_);
  const RowRange keep = {std::max(0, produced - carry_rows_), produced};
  const RowRange new_block = {produced - carry_rows_, produced};
  const RowRange fresh = {std::max(keep.lo, rows_.frontier(pass_ - 1)), keep.hi};
  const RowRange stay = {std::max(keep.lo, carried_.lo), std::min(keep.hi, carried_.hi)};
  if (!stay.empty() && new_block.lo != carry_block().lo)
    copy_held(carry_, carry_block(), carry_, new_block, stay);
  copy_held(current_, held_, carry_, new_block, fresh);
  carried_ = keep;
}

void RowStore::set_dense_rows(RowRange range) { held_ = range; }

void *RowStore::row_bytes(int plane, int y) const {
  if (kind_ != Kind::Ring || (y >= held_.lo && y < held_.hi)) return at(current_, held_, plane, y);
  if (y < carried_.lo || y >= carried_.hi)
    throw Error("internal error: row " + std::to_string(y) + " is not held (pass " +
                std::to_string(pass_) + ")");
  return at(carry_, carry_block(), plane, y);
}

float *RowStore::row(int plane, int y) const {
  XUNIT_CHECK(layout_.element_bytes == 4, "internal error: float rows of a bfloat16 store");
  return static_cast<float *>(row_bytes(plane, y));
}

void *RowStore::dense() const { return current_; }

}  // namespace xunit
