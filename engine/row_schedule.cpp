#include "engine/row_schedule.h"

#include <algorithm>
#include <climits>

#include "common/error.h"
#include "engine/resize_taps.h"

namespace xunit {

BilinearTap bilinear_tap(int dst, int factor, int size) {
  // The same float arithmetic as PyTorch's CPU kernel (area_pixel_compute_source_index).
  float src = std::max((float(dst) + 0.5f) / float(factor) - 0.5f, 0.f);
  BilinearTap tap;
  tap.i0 = std::min(int(src), size - 1);
  tap.i1 = std::min(tap.i0 + 1, size - 1);
  tap.t = src - float(tap.i0);
  return tap;
}

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
    const int d0 = delay_of(s.inputs[0]);
    switch (s.kind) {
      case StepKind::Conv:
      case StepKind::ConvO4:
      case StepKind::DwGate:
        d = std::max(d, d0 + s.radius);
        break;
      case StepKind::PixelShuffle:
        d = s.op->factor * d0 + s.op->factor - 1;
        break;
      case StepKind::Upsample:
        d = (d0 + 1) * s.op->factor;
        break;
      case StepKind::Resize:
        d = (d0 + resize_reach(*s.op)) * s.op->factor;
        break;
      default:
        break;
    }
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
  switch (s.kind) {
    case StepKind::Conv:
    case StepKind::ConvO4:
    case StepKind::DwGate:  // (a dw gate's separate multiplicand is read row for row)
      if (!source) return out;
      return {out.lo - s.radius, out.hi + s.radius};
    case StepKind::Resize: {
      const int h = rows_[size_t(input)].height;
      const ResizeTaps first = resize_taps(*s.op, out.lo, h),
                       last = resize_taps(*s.op, out.hi - 1, h);
      return {first.index[0], last.index[last.count - 1] + 1};
    }
    case StepKind::PixelShuffle: {
      const int f = s.op->factor;
      return {out.lo / f, (out.hi - 1) / f + 1};
    }
    case StepKind::Upsample: {
      const int f = s.op->factor, h = rows_[size_t(input)].height;
      return {bilinear_tap(out.lo, f, h).i0, bilinear_tap(out.hi - 1, f, h).i1 + 1};
    }
    default:
      return out;
  }
}

RowRange RowSchedule::window(int value, int k) const {
  const ValuePlan &vp = plan_.values[size_t(value)];
  const Step &conv = plan_.steps[size_t(vp.consumers.at(0))];
  const ValueRows &out = rows_[size_t(conv.output)];
  return {out.frontier(k - 1) - conv.radius, out.frontier(k) + conv.radius};
}

}  // namespace xunit
