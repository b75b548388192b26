// A loaded model ready to run: the validated graph, its plan and a compiled program per step
// (packed weights, oneDNN primitives). Immutable after construction (the convs' primitive caches
// are internally synchronized) and safe to share between threads.
#pragma once
#include <memory>
#include <vector>

#include "engine/arena.h"
#include "engine/dnnl_conv.h"
#include "engine/graph.h"
#include "engine/plan.h"
#include "engine/steps/step_program.h"

namespace xunit {

struct CompileOptions {
  int simd_block = 0;  // channel block of wide values: 16 or 8; 0 = from the active ISA
  ConvAlgorithm conv_algorithm = ConvAlgorithm::Auto;
  // Bf16 needs AVX-512 (oneDNN emulates the bf16 arithmetic without AVX512-BF16) and throws
  // UnsupportedError otherwise; Auto falls back to Fp32 without native AVX512-BF16.
  Precision precision = Precision::Fp32;
};

class CompiledModel {
 public:
  // `storage` keeps whatever the graph's tensors point into (a mapping or a byte buffer) alive.
  CompiledModel(Graph graph, std::shared_ptr<const void> storage, CompileOptions options = {});
  // Another compilation (e.g. another precision) of an already compiled model's graph.
  CompiledModel(const CompiledModel &other, CompileOptions options);

  const Graph &graph() const { return *graph_; }
  Precision precision() const { return precision_; }
  const Plan &plan() const { return plan_; }
  // The compiled step (engine/steps/step_program.h): its packed parameters and its run.
  const StepProgram &program(size_t step) const { return *programs_[step]; }
  // Scratch memory of finished runs, for the next ones.
  ArenaPool &scratch() const { return scratch_; }

 private:
  void compile(CompileOptions options);

  std::shared_ptr<const void> storage_;
  std::shared_ptr<const Graph> graph_;
  Precision precision_ = Precision::Fp32;
  Plan plan_;
  std::vector<std::unique_ptr<StepProgram>> programs_;  // per step
  mutable ArenaPool scratch_;
};

// The default channel block on this CPU (kernels/isa.h): 16 with AVX-512, else 8.
int default_simd_block();

}  // namespace xunit
