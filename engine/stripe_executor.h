// Runs the whole plan over one stripe of an image: `width` input columns (the columns the stripe
// owns plus its halo), every row, streamed top to bottom in passes of `chunk_rows` input rows
// (engine/row_schedule.h). Memory is proportional to the stripe width and the chunk height,
// never to the image height. All scratch lives in one Arena: the carries of every value, and
// one region whose buffers each value borrows from its producer's step to its last reader's
// step of a pass (assigned once, by liveness, like registers).
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

#include "engine/arena.h"
#include "engine/compiled_model.h"
#include "engine/row_schedule.h"
#include "engine/row_store.h"
#include "engine/run_params.h"

namespace xunit {

class StripeExecutor {
 public:
  StripeExecutor(const CompiledModel &model, int height, int width, const StreamShape &shape,
                 Arena &arena);

  // Arena bytes for such a stripe (stores, scratch windows, oneDNN scratchpad).
  static size_t arena_bytes(const CompiledModel &model, int height, int width,
                            const StreamShape &shape);

  // Fills input rows `rows` (input resolution) of `input`; called once per pass with new rows.
  using LoadFn = std::function<void(RowStore &input, RowRange rows)>;
  // Receives output rows `rows` (output resolution) of `output`, once per pass.
  using StoreFn = std::function<void(const RowStore &output, RowRange rows)>;
  // Called after each pass; returning false stops the run (cancellation).
  using ContinueFn = std::function<bool(int pass, int passes)>;

  // `threads` > 1 parallelizes every step (oneDNN uses the calling thread's OpenMP setting);
  // `params` reach every step (the noise level). Returns false when stopped early.
  bool run(int threads, const RunParams &params, const LoadFn &load, const StoreFn &store,
           const ContinueFn &keep_going = {});

  int passes() const { return schedule_.passes(); }

  // Seconds spent in each step so far (filled only when profiling is on, see set_profiling).
  const std::vector<double> &step_seconds() const { return step_seconds_; }
  void set_profiling(bool on) { step_seconds_.assign(on ? model_.plan().steps.size() : 0, 0.0); }

 private:
  struct Layout;
  void run_step(size_t index, int pass, const RowOpContext &ctx, const RunParams &params);
  // Where the channels of a value are read from (several stores for a virtual concat).
  Parts parts_of(int value) const;
  // Runs `write` on rows `rows` of `out`, through a float32 staging buffer when `out` holds
  // bfloat16.
  void produce(RowStore &out, RowRange rows, const RowOpContext &ctx, char *staging,
               const std::function<void(RowStore &)> &write);

  const CompiledModel &model_;
  RowSchedule schedule_;
  std::vector<RowStore> stores_;  // per value id (computed values only)
  // Per value: the steps that produce it (-1: the input, loaded first) and read it last
  // (steps.size(): the output, stored last), and its buffer for the current pass.
  std::vector<int> birth_, death_;
  std::vector<char *> pass_memory_;
  // Per step: its own scratch (StepProgram::pass_scratch_bytes), a bf16 output's float32
  // staging.
  std::vector<char *> assembled_memory_, staging_memory_;
  char *input_staging_ = nullptr;
  const float *zero_row_ = nullptr;
  SharedScratch shared_scratch_;
  std::vector<double> step_seconds_;
};

}  // namespace xunit
