// A half-open range of rows [lo, hi).
#pragma once

namespace xunit {

struct RowRange {
  int lo = 0, hi = 0;  // [lo, hi)
  bool empty() const { return hi <= lo; }
  int size() const { return hi > lo ? hi - lo : 0; }
};

}  // namespace xunit
