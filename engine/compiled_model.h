// A loaded model ready to run: the validated graph, its plan, the oneDNN conv objects and the
// packed gate weights. Immutable after construction and safe to share between threads.
#pragma once
#include <memory>
#include <vector>

#include "engine/dnnl_conv.h"
#include "engine/graph.h"
#include "engine/plan.h"

namespace xunit {

// Gate weights packed per 16-lane block as the dwgate kernels expect (padded lanes zero).
struct PackedGate {
  int kernel = 0, block = 0, blocks = 0;
  std::vector<float> weights;  // [blocks][k*k][block]
  std::vector<float> bias;     // [blocks][block]
  std::vector<float> post_scale, post_shift;  // empty when there is no fused affine
};

class CompiledModel {
 public:
  // `storage` keeps whatever the graph's tensors point into (a mapping or a byte buffer) alive.
  CompiledModel(Graph graph, std::shared_ptr<const void> storage);

  const Graph &graph() const { return graph_; }
  const Plan &plan() const { return plan_; }
  const DnnlConv *conv(size_t step) const { return convs_[step].get(); }
  const PackedGate *gate(size_t step) const { return gates_[step].get(); }

  // Float count of each slot for a region of h x w input pixels.
  std::vector<size_t> slot_floats(int h, int w) const;

 private:
  std::shared_ptr<const void> storage_;
  Graph graph_;
  Plan plan_;
  std::vector<std::unique_ptr<DnnlConv>> convs_;
  std::vector<std::unique_ptr<PackedGate>> gates_;
};

}  // namespace xunit
