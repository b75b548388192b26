// Which rows of which value exist when, as a stripe of the image streams through the network.
//
// The stripe is processed in passes. In pass k every step, in plan order, computes the rows of
// its output that pass k makes possible: value v holds rows [0, frontier(v, k)) after pass k,
//   frontier(v, k) = clamp(k * chunk(v) - delay(v), 0, height(v)),
// where chunk(v) is the chunk height scaled to v's resolution and delay(v) is at least v's
// receptive-field radius in its own rows: rows that far below the input's frontier are the
// first whose whole receptive field has been read. Every row is computed exactly once; nothing
// is recomputed between chunks. The schedule is static, so buffer sizes follow from it.
#pragma once
#include <vector>

#include "engine/graph.h"
#include "engine/plan.h"
#include "engine/row_range.h"

namespace xunit {

// Row geometry of one computed value: enough to find the pass that produced any row.
struct ValueRows {
  int height = 0;  // rows of the value (image height times its scale)
  int chunk = 1;   // rows per full pass
  int delay = 0;   // rows the frontier trails k * chunk by
  int frontier(int k) const {
    long f = long(k) * chunk - delay;
    return f < 0 ? 0 : f > height ? height : int(f);
  }
  RowRange in_pass(int k) const { return {frontier(k - 1), frontier(k)}; }
  // The pass whose chunk holds row y (0 <= y < height).
  int pass_of(int y) const { return (y + delay) / chunk + 1; }
};

// How a stripe streams.
struct StreamShape {
  int chunk_rows = 32;  // input rows per pass (>= 1)
};

class RowSchedule {
 public:
  RowSchedule(const Graph &graph, const Plan &plan, int height, const StreamShape &shape);

  int passes() const { return passes_; }
  const ValueRows &rows(int value) const { return rows_[size_t(value)]; }

  // Rows of value `input` that step `step` reads to compute its output rows `out`, not clipped
  // to the image (rows outside [0, height) are zero padding).
  RowRange rows_needed(int step, int input, RowRange out) const;

  // Rows of a value that must outlive the pass that computed them: consumers in later passes
  // read that far back (a Ring: a conv or gate looking r rows above its chunk, a residual add
  // trailing its operand; a Window: the rows its next window shares with this one).
  int carry_rows(int value) const { return carry_rows_[size_t(value)]; }
  // The rows a Window value holds during pass k: the input window of its conv.
  RowRange window(int value, int k) const;
  // Largest window over all passes (its buffer size).
  int max_window_rows(int value) const { return max_window_[size_t(value)]; }

 private:
  const Plan &plan_;
  int passes_ = 0;
  std::vector<ValueRows> rows_;
  std::vector<int> max_window_, carry_rows_;
};

}  // namespace xunit
