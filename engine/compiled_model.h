// A loaded model ready to run: the validated graph, its plan, the oneDNN conv objects and the
// packed gate weights. Immutable after construction (the convs' primitive caches are internally
// synchronized) and safe to share between threads.
#pragma once
#include <memory>
#include <vector>

#include "engine/arena.h"
#include "engine/dnnl_conv.h"
#include "engine/graph.h"
#include "engine/plan.h"
#include "engine/step_ops.h"

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
  const DnnlConv *conv(size_t step) const { return convs_[step].get(); }
  const PackedGate *gate(size_t step) const { return gates_[step].get(); }
  const PackedConvO4 *conv_o4(size_t step) const { return convs_o4_[step].get(); }
  const PackedPointwise *pointwise(size_t step) const { return pointwise_[step].get(); }
  // The block a conv step's source is read in (its input is copied into a window of it).
  int conv_source_block(size_t step) const;
  // Scratch memory of finished runs, for the next ones.
  ArenaPool &scratch() const { return scratch_; }

 private:
  void compile(CompileOptions options);

  std::shared_ptr<const void> storage_;
  std::shared_ptr<const Graph> graph_;
  Precision precision_ = Precision::Fp32;
  Plan plan_;
  std::vector<std::unique_ptr<DnnlConv>> convs_;
  std::vector<std::unique_ptr<PackedGate>> gates_;
  std::vector<std::unique_ptr<PackedConvO4>> convs_o4_;
  std::vector<std::unique_ptr<PackedPointwise>> pointwise_;
  mutable ArenaPool scratch_;
};

// The default channel block on this CPU (kernels/isa.h): 16 with AVX-512, else 8.
int default_simd_block();

}  // namespace xunit
