#include "engine/stripe_executor.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>

#include "common/error.h"
#include "engine/step_ops.h"

namespace xunit {

namespace {

constexpr size_t kAlign = 64;
size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

RowLayout value_layout(const CompiledModel &m, int value, int width) {
  const Value &v = m.graph().values[size_t(value)];
  const ValuePlan &vp = m.plan().values[size_t(value)];
  return {v.channels, vp.block, width * v.scale, vp.bf16 ? 2 : 4};
}

// The layout a conv step reads its source in (a window assembled from a Ring is copied into it).
RowLayout conv_source_layout(const CompiledModel &m, size_t step, int width) {
  const Step &s = m.plan().steps[step];
  const Value &in = m.graph().values[size_t(s.inputs[0])];
  return {in.channels, m.conv_source_block(step), width * in.scale, s.bf16 ? 2 : 4};
}

}  // namespace

// Where everything of a stripe lives in its arena.
struct StripeExecutor::Layout {
  std::vector<size_t> store_offset;  // per value (computed ones)
  size_t assembled_offset = 0, staging_offset = 0, zero_offset = 0, scratch_offset = 0;
  size_t assembled_bytes = 0, staging_bytes = 0, zero_bytes = 0, scratch_bytes = 0, total = 0;

  Layout(const CompiledModel &m, const RowSchedule &s, int width) {
    const Graph &g = m.graph();
    const Plan &plan = m.plan();
    size_t at = 0;
    auto take = [&](size_t bytes) {
      size_t offset = at;
      at += align_up(bytes);
      return offset;
    };
    store_offset.assign(g.values.size(), 0);
    for (size_t v = 0; v < g.values.size(); ++v) {
      const ValuePlan &vp = plan.values[v];
      if (!vp.computed) continue;
      RowLayout l = value_layout(m, int(v), width);
      const size_t bytes =
          vp.storage == Storage::Ring
              ? RowStore::ring_bytes(l, s.rows(int(v)).chunk, s.ring_chunks(int(v)), s.carry_rows(int(v)))
              : RowStore::window_bytes(l, s.max_window_rows(int(v)), s.window_carry_rows(int(v)));
      store_offset[v] = take(bytes);
      l.element_bytes = 4;
      zero_bytes = std::max(zero_bytes, l.row_bytes());
      // A bf16 value is produced in float32 into a staging buffer first, a pass's rows at a time.
      if (vp.bf16) staging_bytes = std::max(staging_bytes, RowStore::dense_bytes(l, s.rows(int(v)).chunk));
    }
    // Conv sources held in a Ring are copied into one shared window; and every distinct chunk
    // height of a conv sizes the shared oneDNN scratchpad.
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const Step &st = plan.steps[i];
      if (st.kind != StepKind::Conv) continue;
      const ValueRows &out = s.rows(st.output);
      const int w = width * g.values[size_t(st.output)].scale;
      std::vector<int> heights;
      for (int k = 1; k <= s.passes(); ++k) {
        const int n = out.in_pass(k).size();
        if (n > 0 && std::find(heights.begin(), heights.end(), n) == heights.end()) heights.push_back(n);
      }
      for (int n : heights) scratch_bytes = std::max(scratch_bytes, m.conv(i)->scratch_bytes(n, w));
      const RowLayout src = conv_source_layout(m, i, width);
      zero_bytes = std::max(zero_bytes, src.row_bytes());
      if (plan.values[size_t(st.inputs[0])].storage == Storage::Ring)
        assembled_bytes = std::max(assembled_bytes, RowStore::dense_bytes(src, out.chunk + 2 * st.radius));
    }
    assembled_offset = take(assembled_bytes);
    staging_offset = take(staging_bytes);
    zero_offset = take(zero_bytes);
    scratch_offset = take(scratch_bytes);
    total = at;
  }
};

size_t StripeExecutor::arena_bytes(const CompiledModel &model, int height, int width, const StreamShape &shape) {
  RowSchedule schedule(model.graph(), model.plan(), height, shape);
  return Layout(model, schedule, width).total;
}

StripeExecutor::StripeExecutor(const CompiledModel &model, int height, int width, const StreamShape &shape,
                               Arena &arena)
    : model_(model), width_(width), schedule_(model.graph(), model.plan(), height, shape) {
  const Layout layout(model, schedule_, width);
  char *base = static_cast<char *>(arena.get(layout.total));
  const Graph &g = model.graph();
  stores_.resize(g.values.size());
  for (size_t v = 0; v < g.values.size(); ++v) {
    const ValuePlan &vp = model.plan().values[v];
    if (!vp.computed) continue;
    char *memory = base + layout.store_offset[v];
    const RowLayout l = value_layout(model, int(v), width);
    if (vp.storage == Storage::Ring)
      stores_[v].init_ring(l, schedule_.rows(int(v)), schedule_.ring_chunks(int(v)), schedule_.carry_rows(int(v)),
                           memory);
    else
      stores_[v].init_window(l, schedule_.rows(int(v)), schedule_.max_window_rows(int(v)),
                             schedule_.window_carry_rows(int(v)), memory);
  }
  std::memset(base + layout.zero_offset, 0, layout.zero_bytes);
  zero_row_ = reinterpret_cast<const float *>(base + layout.zero_offset);
  assembled_memory_ = base + layout.assembled_offset;
  staging_memory_ = base + layout.staging_offset;
  conv_scratch_ = {base + layout.scratch_offset, layout.scratch_bytes};
}

void StripeExecutor::produce(RowStore &out, RowRange rows, const RowOpContext &ctx,
                             const std::function<void(RowStore &)> &write) {
  if (out.layout().element_bytes == 4) return write(out);
  // bfloat16 store: produce float32 rows, then convert them.
  RowLayout l = out.layout();
  l.element_bytes = 4;
  RowStore staging;
  staging.init_dense(l, out.height(), staging_memory_);
  staging.set_dense_rows(rows);
  write(staging);
  copy_rows(ctx, staging, out, rows);
}

bool StripeExecutor::run(int threads, const LoadFn &load, const StoreFn &store, const ContinueFn &keep_going) {
  const Graph &g = model_.graph();
  const Plan &plan = model_.plan();
  const RowOpContext ctx{zero_row_, std::max(1, threads)};
  for (int k = 1; k <= schedule_.passes(); ++k) {
    for (size_t v = 0; v < stores_.size(); ++v) {
      if (!plan.values[v].computed) continue;
      if (plan.values[v].storage == Storage::Ring)
        stores_[v].begin_ring_pass(k);
      else
        stores_[v].begin_window_pass(k, schedule_.window(int(v), k));
    }
    const RowRange in_rows = schedule_.rows(g.input).in_pass(k);
    if (!in_rows.empty()) produce(stores_[size_t(g.input)], in_rows, ctx, [&](RowStore &in) { load(in, in_rows); });
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      if (step_seconds_.empty()) {
        run_step(i, k, ctx);
        continue;
      }
      const auto t0 = std::chrono::steady_clock::now();
      run_step(i, k, ctx);
      step_seconds_[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    const RowRange out_rows = schedule_.rows(g.output).in_pass(k);
    if (!out_rows.empty()) store(stores_[size_t(g.output)], out_rows);
    if (keep_going && !keep_going(k, schedule_.passes())) return false;
  }
  return true;
}

void StripeExecutor::run_step(size_t index, int pass, const RowOpContext &ctx) {
  const Graph &g = model_.graph();
  const Step &s = model_.plan().steps[index];
  const RowRange rows = schedule_.rows(s.output).in_pass(pass);
  if (rows.empty()) return;
  RowStore &out = stores_[size_t(s.output)];
  const RowStore &in = stores_[size_t(s.inputs[0])];
  if (s.kind == StepKind::Conv) {
    const RowRange window{rows.lo - s.radius, rows.hi + s.radius};
    const void *src;
    if (model_.plan().values[size_t(s.inputs[0])].storage == Storage::Window) {
      src = in.dense();  // the producer wrote the window in place
    } else {
      assembled_.init_dense(conv_source_layout(model_, index, width_), in.height(), assembled_memory_);
      assembled_.set_dense_rows(window);
      copy_rows(ctx, in, assembled_, window);
      src = assembled_.dense();
    }
    if (s.sum_value >= 0) copy_rows(ctx, stores_[size_t(s.sum_value)], out, rows);
    model_.conv(index)->execute(rows.size(), out.layout().width, src, static_cast<float *>(out.dense()), conv_scratch_);
    return;
  }
  produce(out, rows, ctx, [&](RowStore &dst) {
    switch (s.kind) {
      case StepKind::ConvO4:
        run_conv_o4(ctx, g, s, *model_.conv_o4(index), in, s.sum_value >= 0 ? &stores_[size_t(s.sum_value)] : nullptr,
                    dst, rows);
        break;
      case StepKind::DwGate: run_dwgate(ctx, *model_.gate(index), in, dst, rows); break;
      case StepKind::Elementwise: run_elementwise(ctx, g, *s.op, in, dst, rows); break;
      case StepKind::Binary: run_binary(ctx, s.op->type, in, stores_[size_t(s.inputs[1])], dst, rows); break;
      case StepKind::PixelShuffle:
        run_pixel_shuffle(ctx, g, s.op->factor, s.activation, s.shuffled_input, in, dst, rows);
        break;
      case StepKind::Upsample: run_upsample_bilinear(ctx, s.op->factor, in, dst, rows); break;
      case StepKind::Concat: {
        std::vector<const RowStore *> inputs;
        for (int v : s.inputs) inputs.push_back(&stores_[size_t(v)]);
        run_concat(ctx, inputs, dst, rows);
        break;
      }
      case StepKind::Conv: break;  // above
    }
  });
}

}  // namespace xunit
