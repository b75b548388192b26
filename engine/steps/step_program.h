// One compiled step: what a step kind packs once per compiled model (weights in the kernels'
// layouts, oneDNN primitives) and how it runs on the rows of one pass. Each kind lives in its
// own file of engine/steps/ (docs/adding-an-op.md); the stripe executor only calls this.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/plan.h"
#include "engine/run_params.h"
#include "engine/steps/row_access.h"

namespace xunit {

// Memory shared by all steps of a stripe, sized by the largest request (oneDNN's scratchpad).
struct SharedScratch {
  void *data = nullptr;
  size_t bytes = 0;
};

// What a step reads and writes in one pass.
struct StepIo {
  const RowOpContext &ctx;
  const std::vector<Parts> &inputs;  // per step input: the stores holding its channels
  const RowStore *sum;               // the value a Sum post-op adds, or null
  RowStore &out;                     // float32 output rows (bf16 outputs are converted after)
  RowRange rows;                     // the output rows of this pass
  void *scratch;                     // pass_scratch_bytes() bytes, for this step alone
  SharedScratch shared;              // shared_scratch_bytes() bytes at least
  const RunParams &params;           // the run's inputs besides the image (the noise level)
};

class StepProgram {
 public:
  virtual ~StepProgram() = default;
  // Scratch of its own for a pass of up to `rows` output rows, `width` input pixels wide (the
  // stripe's width at the graph input's resolution).
  virtual size_t pass_scratch_bytes(int rows, int width) const { return 0; }
  // Scratch it borrows from the shared region for a pass of exactly `rows` output rows.
  virtual size_t shared_scratch_bytes(int rows, int width) const { return 0; }
  virtual void run(const StepIo &io) const = 0;
  // For profiles: the implementation chosen for a pass of `rows` output rows ("" if nothing
  // more to say than the step kind).
  virtual std::string implementation(int rows, int width) const { return ""; }
};

// Everything a step kind may consult when it compiles a step.
struct StepCompile {
  const Graph &graph;
  const Plan &plan;
  const Step &step;
  int conv_algorithm;  // ConvAlgorithm (engine/dnnl_conv.h)
};

// The program of a step, by its kind (engine/steps/compile_step.cpp).
std::unique_ptr<StepProgram> compile_step(const StepCompile &c);

// Per kind, in engine/steps/<kind>_step.cpp.
std::unique_ptr<StepProgram> compile_conv_step(const StepCompile &c);
std::unique_ptr<StepProgram> compile_conv_o4_step(const StepCompile &c);
std::unique_ptr<StepProgram> compile_dwgate_step(const StepCompile &c);
std::unique_ptr<StepProgram> compile_elementwise_step(const StepCompile &c);
std::unique_ptr<StepProgram> compile_binary_step(const StepCompile &c);
std::unique_ptr<StepProgram> compile_pixel_shuffle_step(const StepCompile &c);
std::unique_ptr<StepProgram> compile_upsample_step(const StepCompile &c);
std::unique_ptr<StepProgram> compile_concat_step(const StepCompile &c);
std::unique_ptr<StepProgram> compile_resize_step(const StepCompile &c);
std::unique_ptr<StepProgram> compile_pointwise_step(const StepCompile &c);
std::unique_ptr<StepProgram> compile_conv_transpose_step(const StepCompile &c);
std::unique_ptr<StepProgram> compile_noise_level_map_step(const StepCompile &c);

}  // namespace xunit
