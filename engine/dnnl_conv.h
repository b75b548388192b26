// A conv step (conv + fused post-ops) executed by oneDNN on one chunk of rows.
//
// The source is a dense tensor of rows + 2r rows (the rows outside the image are zeros in it,
// so the conv pads only left and right), the destination a dense tensor of `rows` rows; both in
// the layouts the plan chose (nChw16c / nChw8c, or nchw for sources with few channels). One
// primitive per (rows, width, thread count) is created on first use and reused (oneDNN splits
// the work for the OpenMP thread count current at creation); primitives are executed
// concurrently from many threads, each passing its own scratchpad and stream.
#pragma once
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/graph.h"
#include "engine/plan.h"
#include "kernels/winograd/winograd.h"

namespace xunit {

struct ConvScratch {
  void *data = nullptr;
  size_t bytes = 0;
};

// Whether our Winograd (kernels/winograd) computes a conv step with these post-ops, given a
// 16- or 8-lane blocked source and destination and a variant for that block: a Conv2d (not
// dilated), 3x3, dense, of at least 16 channels in and out (narrower ones do not pay for the
// transforms), whose post-ops start with its Sum if it has one (it adds the residual itself;
// the rest is applied after), under ConvAlgorithm::Auto. The planner asks it too: a step is
// marked bf16_products only where this holds.
bool our_winograd_fits(const Op &op, const std::vector<PostOp> &post, ConvAlgorithm algorithm);

// The unary ops a conv step applies as post-ops (oneDNN's eltwise and binary post-ops express
// them; what Winograd cannot fuse is applied after it): the planner fuses only these.
bool conv_fuses(OpType type);

class DnnlConv {
 public:
  // src_block / dst_block: the channel blocks of the source and destination tensors.
  // out_order, when not empty, permutes the output channels: result channel i is the op's
  // channel out_order[i] (so that a following pixel shuffle reads whole vectors).
  DnnlConv(const Graph &graph, const Step &step, int src_block, int dst_block,
           ConvAlgorithm algorithm, std::vector<int> out_order = {});
  ~DnnlConv();
  DnnlConv(const DnnlConv &) = delete;
  DnnlConv &operator=(const DnnlConv &) = delete;

  // Scratchpad bytes for a chunk of `rows` output rows of `width` pixels.
  size_t scratch_bytes(int rows, int width) const;
  // src: rows + 2 * radius rows; dst: rows rows, holding the Sum operand when the step has one.
  // (src is bfloat16 for a step computed in bf16, else float32.)
  void execute(int rows, int width, const void *src, float *dst, ConvScratch scratch) const;
  // oneDNN's name of the implementation chosen for this shape (e.g. "jit_wino_4x3:avx512_core").
  std::string implementation(int rows, int width) const;

 private:
  struct Instance;
  std::shared_ptr<Instance> instance(int rows, int width) const;

  // Post-ops that oneDNN did not fuse (a suffix of the step's), applied to the result.
  void apply_post_ops(const std::vector<PostOp> &ops, int rows, int width, float *dst) const;
  void execute_winograd(int rows, int width, const float *src, float *dst,
                        ConvScratch scratch) const;
  size_t winograd_thread_floats() const;

  const Step &step_;
  const Graph *graph_;
  int src_block_, dst_block_;
  ConvAlgorithm algorithm_;
  // The step's tensors with the output channels in result order.
  std::vector<float> weights_, bias_;
  std::vector<std::vector<float>> affine_;  // per Affine post-op: scale then shift
  // Our Winograd (null: oneDNN runs the conv), its transformed weights and padded bias, and
  // the post-ops applied after it (all but a leading Sum, which it adds itself).
  const kernels::WinogradVariant *winograd_ = nullptr;
  kernels::WinogradWeights winograd_weights_;
  std::vector<float> winograd_bias_;
  std::vector<PostOp> winograd_post_;
  mutable std::mutex mutex_;
  mutable std::map<std::array<int, 3>, std::shared_ptr<Instance>> cache_;  // rows, width, threads
};

}  // namespace xunit
