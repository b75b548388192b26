// The unary ops (OpClass::Unary): element-wise functions of a value and its channel. This is
// their one definition: the reference executor, the element-wise step, conv post-ops, the
// shuffle's fused activation and the pointwise kernel's slopes all evaluate them through it.
#pragma once
#include <vector>

#include "engine/graph.h"

namespace xunit {

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
};

// Affines, then at most one piecewise-linear activation, composed per channel into
//   u = act(v * scale[c] + shift[c], slope[c])      (act(v, a) = v < 0 ? a * v : v)
// what the pointwise and dw gate steps apply to their source as they read it (engine/plan.cpp
// fuses such element-wise steps into them). Padded channels get scale, shift and slope 0.
struct PreActivation {
  PreActivation(const Graph &g, const std::vector<const Op *> &ops, int channels, int padded);
  bool empty() const { return scale.empty() && slope.empty(); }
  // dst[x * block + l] = u(src[x * block + l], c0 + l) for every lane of `width` pixels.
  void apply_row(const float *src, float *dst, int width, int block, int c0) const;

  std::vector<float> scale, shift;  // empty: no affine
  std::vector<float> slope;         // empty: no activation
};

}  // namespace xunit
