#include "engine/row_schedule.h"

#include <algorithm>
#include <climits>

#include "common/error.h"
#include "engine/ops/footprint.h"

namespace xunit {

RowSchedule::RowSchedule(const Graph &graph, const Plan &plan, int height, const StreamShape &shape)
    : plan_(plan) {
  const int chunk_rows = shape.chunk_rows;
  XUNIT_CHECK(height >= 1 && chunk_rows >= 1, "internal error: bad row schedule");
  const size_t n = graph.values.size();
  rows_.resize(n);
  for (size_t v = 0; v < n; ++v) {
    if (!plan.values[v].computed) continue;
    const Value &val = graph.values[v];
    rows_[v].height = height * val.scale;
    rows_[v].chunk = chunk_rows * val.scale;
  }
  // Delays: how far each value's frontier trails k * chunk. A step's output row y needs rows up
  // to y + r of its input (its radius, or what a resampling reads): the delays add up along
  // the graph as the receptive field does. A virtual concat trails its slowest part.
  auto delay_of = [&](int v) {
    int d = rows_[size_t(v)].delay;
    for (int part : plan.values[size_t(v)].parts) d = std::max(d, rows_[size_t(part)].delay);
    return d;
  };
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const Step &s = plan.steps[i];
    int d = 0;
    for (int v : s.inputs) d = std::max(d, delay_of(v));
    if (s.sum_value >= 0) d = std::max(d, rows_[size_t(s.sum_value)].delay);
    // Its first input is read through the main op's footprint, the others row for row.
    d = std::max(d, op_radius(*s.op, delay_of(s.inputs[0])));
    rows_[size_t(s.output)].delay = d;
  }
  for (size_t v = 0; v < n; ++v) {
    if (!plan.values[v].computed) continue;
    const long needed =
        (long(rows_[v].height) + rows_[v].delay + rows_[v].chunk - 1) / rows_[v].chunk;
    XUNIT_CHECK(needed < INT_MAX / 2, "internal error: too many passes");
    passes_ = std::max(passes_, int(needed));
  }

  // Replay the passes to size the carries: in every pass, the oldest row a consumer reads
  // before the chunk of that pass decides how far back a Ring must keep rows.
  max_window_.assign(n, 0);
  carry_rows_.assign(n, 0);
  for (int k = 1; k <= passes_; ++k) {
    for (size_t v = 0; v < n; ++v) {
      const ValuePlan &vp = plan.values[v];
      if (!vp.computed) continue;
      const ValueRows &vr = rows_[v];
      if (vp.storage == Storage::Window) {
        const RowRange w = window(int(v), k);
        max_window_[v] = std::max(max_window_[v], w.size());
        carry_rows_[v] = std::max(carry_rows_[v], vr.frontier(k - 1) - std::max(w.lo, 0));
        continue;
      }
      for (int c : vp.consumers) {
        RowRange out = rows_[size_t(plan.steps[size_t(c)].output)].in_pass(k);
        if (out.empty()) continue;
        RowRange need = rows_needed(c, int(v), out);
        need.lo = std::max(need.lo, 0);
        need.hi = std::min(need.hi, vr.height);
        if (need.empty()) continue;
        XUNIT_CHECK(need.hi <= vr.frontier(k),
                    "internal error: a step reads rows not yet computed");
        carry_rows_[v] = std::max(carry_rows_[v], vr.frontier(k - 1) - need.lo);
      }
    }
  }
}

RowRange RowSchedule::rows_needed(int step, int input, RowRange out) const {
  if (out.empty()) return {0, 0};
  const Step &s = plan_.steps[size_t(step)];
  // Whether `input` is the step's first input (a conv's or dw gate's source), itself or as a
  // part of a virtual concat.
  const std::vector<int> &parts = plan_.values[size_t(s.inputs[0])].parts;
  const bool source =
      input == s.inputs[0] || std::find(parts.begin(), parts.end(), input) != parts.end();
  // (a dw gate's separate multiplicand and a conv's Sum operand are read row for row)
  if (!source) return out;
  return op_source_rows(*s.op, out, rows_[size_t(input)].height);
}

RowRange RowSchedule::window(int value, int k) const {
  const ValuePlan &vp = plan_.values[size_t(value)];
  const Step &conv = plan_.steps[size_t(vp.consumers.at(0))];
  const ValueRows &out = rows_[size_t(conv.output)];
  return {out.frontier(k - 1) - conv.radius, out.frontier(k) + conv.radius};
}

}  // namespace xunit
