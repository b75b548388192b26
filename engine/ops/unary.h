// The unary ops (OpClass::Unary): element-wise functions of a value and its channel. This is
// their one definition: the reference executor, the element-wise step, conv post-ops, the
// shuffle's fused activation and the pointwise kernel's slopes all evaluate them through it.
#pragma once
#include <vector>

#include "engine/graph.h"

namespace xunit {

// ReLU-like activations: v < 0 ? a * v : v (ReLU a = 0, leaky ReLU, PReLU).
inline bool is_relu_like(OpType t) {
  return t == OpType::Relu || t == OpType::LeakyRelu || t == OpType::PRelu;
}

class UnaryFn {
 public:
  // `op` must be a unary op (throws otherwise); its tensors must outlive this object.
  UnaryFn(const Graph &g, const Op &op);

  OpType type() const { return type_; }
  float operator()(float v, int c) const;

  // dst[x * block + l] = f(src[x * block + l], c0 + l) for the `lanes` real lanes of each of
  // `width` pixels (lanes beyond stay as they are: padding). src may equal dst.
  void apply_row(const float *src, float *dst, int width, int block, int c0, int lanes) const;

  // A piecewise-linear activation, v < 0 ? slope * v : v (ReLU 0, leaky ReLU alpha, PReLU its
  // channel's slope): what kernels/pointwise fuses. False for every other op.
  bool negative_slope(int c, float *slope) const;
  // y = v * scale + shift: Affine's parameters of channel c. False for every other op.
  bool affine(int c, float *scale, float *shift) const;

 private:
  OpType type_;
  float alpha_ = 0.f, beta_ = 0.f;
  const float *scale_ = nullptr, *shift_ = nullptr, *slope_ = nullptr;
  bool shared_slope_ = false;
  // Leaky ReLU's alpha or a shared PReLU slope, once per lane of the widest block: the per-lane
  // slopes kernels/affine_act takes.
  static constexpr size_t kMaxBlock = 16;
  std::vector<float> uniform_slope_;
};

}  // namespace xunit
