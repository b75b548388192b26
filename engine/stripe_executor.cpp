#include "engine/stripe_executor.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "common/error.h"
#include "common/load_budget.h"

namespace xunit {

namespace {

constexpr size_t kAlign = 64;
size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

RowLayout value_layout(const CompiledModel &m, int value, int width) {
  const Value &v = m.graph().values[size_t(value)];
  const ValuePlan &vp = m.plan().values[size_t(value)];
  return {v.channels, vp.block, width * v.scale, vp.bf16 ? 2 : 4};
}

size_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? size_t(pages) * size_t(page) : SIZE_MAX;
}

// A stripe whose scratch is beyond the machine's memory (a lower bound, `bytes`, suffices):
// XUNIT_ERROR_OUT_OF_MEMORY with the figure, before oneDNN is asked for primitives of that size.
void check_fits(size_t bytes, int width) {
  const size_t physical = physical_memory_bytes();
  if (bytes > physical)
    throw OutOfMemoryError("a stripe of " + std::to_string(width) + " columns needs at least " +
                           format_bytes(bytes) + " of scratch, more than this machine's " +
                           format_bytes(physical) + " of memory");
}

}  // namespace

// Offsets for buffers live over step intervals [birth, death], first fit by offset: buffers
// whose intervals overlap get disjoint memory. Returns the region's size.
struct Interval {
  int birth, death;
  size_t bytes, offset = 0;
};
// A lower bound of the region assign_offsets will need: the largest buffer.
static size_t region_estimate(const std::vector<Interval> &intervals) {
  size_t m = 0;
  for (const Interval &i : intervals) m = std::max(m, i.bytes);
  return m;
}

size_t assign_offsets(std::vector<Interval> &intervals) {
  std::vector<size_t> order(intervals.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return intervals[a].birth != intervals[b].birth ? intervals[a].birth < intervals[b].birth
                                                    : intervals[a].bytes > intervals[b].bytes;
  });
  std::vector<size_t> placed;
  size_t total = 0;
  for (size_t i : order) {
    Interval &cur = intervals[i];
    std::vector<std::pair<size_t, size_t>> busy;  // [offset, end) of buffers alive with cur
    for (size_t j : placed)
      if (intervals[j].death >= cur.birth && intervals[j].birth <= cur.death)
        busy.push_back({intervals[j].offset, intervals[j].offset + intervals[j].bytes});
    std::sort(busy.begin(), busy.end());
    size_t at = 0;
    for (auto [lo, hi] : busy) {
      if (at + cur.bytes <= lo) break;
      at = std::max(at, hi);
    }
    cur.offset = at;
    total = std::max(total, at + cur.bytes);
    placed.push_back(i);
  }
  return total;
}

// Where everything of a stripe lives in its arena.
struct StripeExecutor::Layout {
  std::vector<int> birth, death;
  std::vector<size_t> carry_offset, pass_offset;         // per value
  std::vector<size_t> assembled_offset, staging_offset;  // per step (0 bytes when unused)
  size_t input_staging_offset = 0;
  size_t zero_offset = 0, zero_bytes = 0, scratch_offset = 0, scratch_bytes = 0, total = 0;

  Layout(const CompiledModel &m, const RowSchedule &s, int width) {
    const Graph &g = m.graph();
    const Plan &plan = m.plan();
    const size_t nv = g.values.size(), ns = plan.steps.size();
    size_t at = 0;
    auto take = [&](size_t bytes) {
      size_t offset = at;
      at += align_up(bytes);
      return offset;
    };
    // Persistent: carries.
    carry_offset.assign(nv, 0);
    for (size_t v = 0; v < nv; ++v)
      if (plan.values[v].computed)
        carry_offset[v] =
            take(RowStore::rows_bytes(value_layout(m, int(v), width), s.carry_rows(int(v))));

    // Borrowed per pass: every value from its producer to its last reader; scratch of a step.
    std::vector<Interval> intervals;
    std::vector<size_t> interval_of_value(nv, SIZE_MAX);
    birth.assign(nv, 0);
    death.assign(nv, 0);
    for (size_t v = 0; v < nv; ++v) {
      const ValuePlan &vp = plan.values[v];
      if (!vp.computed) continue;
      birth[v] = vp.producer;  // -1 for the input
      death[v] = birth[v];
      for (int c : vp.consumers) death[v] = std::max(death[v], c);
      if (int(v) == g.output) death[v] = int(ns);
      RowLayout l = value_layout(m, int(v), width);
      const int rows =
          vp.storage == Storage::Ring ? s.rows(int(v)).chunk : s.max_window_rows(int(v));
      interval_of_value[v] = intervals.size();
      intervals.push_back({birth[v], death[v], align_up(RowStore::rows_bytes(l, rows))});
      l.element_bytes = 4;
      zero_bytes = std::max(zero_bytes, l.row_bytes());
    }
    // The values' buffers alone beyond the machine's memory: OUT_OF_MEMORY before any step is
    // asked for its scratch (oneDNN refuses some giant shapes with an error of its own).
    check_fits(at + region_estimate(intervals), width);
    std::vector<size_t> interval_of_assembled(ns, SIZE_MAX), interval_of_staging(ns, SIZE_MAX);
    size_t interval_of_input_staging = SIZE_MAX;
    for (size_t i = 0; i < ns; ++i) {
      const Step &st = plan.steps[i];
      const ValuePlan &out = plan.values[size_t(st.output)];
      if (out.bf16) {  // produced in float32, then converted
        RowLayout l = value_layout(m, st.output, width);
        l.element_bytes = 4;
        interval_of_staging[i] = intervals.size();
        intervals.push_back(
            {int(i), int(i), align_up(RowStore::rows_bytes(l, s.rows(st.output).chunk))});
      }
      const StepProgram &program = m.program(i);
      const ValueRows &rows = s.rows(st.output);
      if (const size_t own = program.pass_scratch_bytes(rows.chunk, width)) {
        interval_of_assembled[i] = intervals.size();
        intervals.push_back({int(i), int(i), align_up(own)});
      }
      // Buffers beyond the machine's memory fail here, as OUT_OF_MEMORY, before oneDNN is asked
      // for primitives of that size (some of its implementations refuse giant shapes outright).
      check_fits(at + region_estimate(intervals), width);
      // Every distinct chunk height of a step sizes the shared scratch (oneDNN's scratchpad).
      std::vector<int> heights;
      for (int k = 1; k <= s.passes(); ++k) {
        const int n = rows.in_pass(k).size();
        if (n > 0 && std::find(heights.begin(), heights.end(), n) == heights.end())
          heights.push_back(n);
      }
      for (int n : heights)
        scratch_bytes = std::max(scratch_bytes, program.shared_scratch_bytes(n, width));
    }
    if (plan.values[size_t(g.stream_input())].bf16) {
      RowLayout l = value_layout(m, g.stream_input(), width);
      l.element_bytes = 4;
      interval_of_input_staging = intervals.size();
      intervals.push_back(
          {-1, -1, align_up(RowStore::rows_bytes(l, s.rows(g.stream_input()).chunk))});
    }
    // Skew the buffers against each other: chunk sizes are often powers of two, and a kernel
    // reading one buffer while writing another at the same address modulo 4 KiB stalls on
    // false store-to-load dependencies (4K aliasing).
    for (size_t i = 0; i < intervals.size(); ++i) intervals[i].bytes += 64 * (1 + 7 * (i % 16));
    const size_t region = take(assign_offsets(intervals));
    auto offset_of = [&](size_t interval) {
      return interval == SIZE_MAX ? 0 : region + intervals[interval].offset;
    };
    pass_offset.assign(nv, 0);
    for (size_t v = 0; v < nv; ++v) pass_offset[v] = offset_of(interval_of_value[v]);
    assembled_offset.assign(ns, 0);
    staging_offset.assign(ns, 0);
    for (size_t i = 0; i < ns; ++i) {
      assembled_offset[i] = offset_of(interval_of_assembled[i]);
      staging_offset[i] = offset_of(interval_of_staging[i]);
    }
    input_staging_offset = offset_of(interval_of_input_staging);
    zero_offset = take(zero_bytes);
    scratch_offset = take(scratch_bytes);
    total = at;
  }
};

size_t StripeExecutor::arena_bytes(const CompiledModel &model, int height, int width,
                                   const StreamShape &shape) {
  RowSchedule schedule(model.graph(), model.plan(), height, shape);
  return Layout(model, schedule, width).total;
}

StripeExecutor::StripeExecutor(const CompiledModel &model, int height, int width,
                               const StreamShape &shape, Arena &arena)
    : model_(model), schedule_(model.graph(), model.plan(), height, shape) {
  const Layout layout(model, schedule_, width);
  char *base = static_cast<char *>(arena.get(layout.total));
  const Graph &g = model.graph();
  const size_t nv = g.values.size(), ns = model.plan().steps.size();
  stores_.resize(nv);
  pass_memory_.assign(nv, nullptr);
  birth_ = layout.birth;
  death_ = layout.death;
  for (size_t v = 0; v < nv; ++v) {
    const ValuePlan &vp = model.plan().values[v];
    if (!vp.computed) continue;
    const RowLayout l = value_layout(model, int(v), width);
    char *carry = base + layout.carry_offset[v];
    if (vp.storage == Storage::Ring)
      stores_[v].init_ring(l, schedule_.rows(int(v)), schedule_.carry_rows(int(v)), carry);
    else
      stores_[v].init_window(l, schedule_.rows(int(v)), schedule_.carry_rows(int(v)), carry);
    pass_memory_[v] = base + layout.pass_offset[v];
  }
  assembled_memory_.assign(ns, nullptr);
  staging_memory_.assign(ns, nullptr);
  for (size_t i = 0; i < ns; ++i) {
    assembled_memory_[i] = base + layout.assembled_offset[i];
    staging_memory_[i] = base + layout.staging_offset[i];
  }
  input_staging_ = base + layout.input_staging_offset;
  std::memset(base + layout.zero_offset, 0, layout.zero_bytes);
  zero_row_ = reinterpret_cast<const float *>(base + layout.zero_offset);
  shared_scratch_ = {base + layout.scratch_offset, layout.scratch_bytes};
}

void StripeExecutor::produce(RowStore &out, RowRange rows, const RowOpContext &ctx, char *staging,
                             const std::function<void(RowStore &)> &write) {
  if (out.layout().element_bytes == 4) return write(out);
  // bfloat16 store: produce float32 rows, then convert them.
  RowLayout l = out.layout();
  l.element_bytes = 4;
  RowStore f32;
  f32.init_dense(l, out.height(), staging);
  f32.set_dense_rows(rows);
  write(f32);
  copy_rows(ctx, f32, out, rows);
}

bool StripeExecutor::run(int threads, const RunParams &params, const LoadFn &load,
                         const StoreFn &store, const ContinueFn &keep_going) {
  const Graph &g = model_.graph();
  const Plan &plan = model_.plan();
  const RowOpContext ctx{zero_row_, std::max(1, threads)};
  const int steps = int(plan.steps.size());
  // The values each step time (-1: loading, steps: storing) begins and ends.
  std::vector<std::vector<int>> born(size_t(steps) + 2), dead(size_t(steps) + 2);
  for (size_t v = 0; v < stores_.size(); ++v)
    if (plan.values[v].computed) {
      born[size_t(birth_[v] + 1)].push_back(int(v));
      dead[size_t(death_[v] + 1)].push_back(int(v));
    }
  for (int k = 1; k <= schedule_.passes(); ++k) {
    for (int t = -1; t <= steps; ++t) {
      for (int v : born[size_t(t + 1)]) {
        if (plan.values[size_t(v)].storage == Storage::Ring)
          stores_[size_t(v)].begin_ring_pass(k, pass_memory_[size_t(v)]);
        else
          stores_[size_t(v)].begin_window_pass(k, schedule_.window(v, k), pass_memory_[size_t(v)]);
      }
      if (t == -1) {
        const RowRange in_rows = schedule_.rows(g.stream_input()).in_pass(k);
        if (!in_rows.empty())
          produce(stores_[size_t(g.stream_input())], in_rows, ctx, input_staging_,
                  [&](RowStore &in) { load(in, in_rows); });
      } else if (t == steps) {
        const RowRange out_rows = schedule_.rows(g.output).in_pass(k);
        if (!out_rows.empty()) store(stores_[size_t(g.output)], out_rows);
      } else if (step_seconds_.empty()) {
        run_step(size_t(t), k, ctx, params);
      } else {
        const auto t0 = std::chrono::steady_clock::now();
        run_step(size_t(t), k, ctx, params);
        step_seconds_[size_t(t)] +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
      for (int v : dead[size_t(t + 1)]) stores_[size_t(v)].end_pass();
    }
    if (keep_going && !keep_going(k, schedule_.passes())) return false;
  }
  return true;
}

Parts StripeExecutor::parts_of(int value) const {
  const ValuePlan &vp = model_.plan().values[size_t(value)];
  if (!vp.is_virtual()) return {{&stores_[size_t(value)], 0}};
  Parts parts;
  int offset = 0;
  for (int v : vp.parts) {
    parts.push_back({&stores_[size_t(v)], offset});
    offset += stores_[size_t(v)].layout().channels;
  }
  return parts;
}

void StripeExecutor::run_step(size_t index, int pass, const RowOpContext &ctx,
                              const RunParams &params) {
  const Step &s = model_.plan().steps[index];
  const RowRange rows = schedule_.rows(s.output).in_pass(pass);
  if (rows.empty()) return;
  std::vector<Parts> inputs;
  for (int v : s.inputs) inputs.push_back(parts_of(v));
  const RowStore *sum = s.sum_value >= 0 ? &stores_[size_t(s.sum_value)] : nullptr;
  produce(stores_[size_t(s.output)], rows, ctx, staging_memory_[index], [&](RowStore &out) {
    model_.program(index).run(
        {ctx, inputs, sum, out, rows, assembled_memory_[index], shared_scratch_, params});
  });
}

}  // namespace xunit
