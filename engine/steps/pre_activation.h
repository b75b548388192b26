// Affines, then at most one piecewise-linear activation, composed per channel into
//   u = act(v * scale[c] + shift[c])     (act: none, ReLU, or v < 0 ? slope[c] * v : v)
// what the pointwise and dw gate steps apply to their source as they read it (engine/plan.cpp
// fuses such element-wise steps into them) and what an element-wise step made of such ops runs
// in one pass (kernels/affine_act). Padded channels get scale, shift and slope 0.
#pragma once
#include <vector>

#include "engine/graph.h"
#include "kernels/affine_act/affine_act.h"

namespace xunit {

// Whether `ops` (unary ops applied in order) have that form.
bool is_pre_activation(const std::vector<const Op *> &ops);

struct PreActivation {
  // `ops` must have the form above (throws otherwise).
  PreActivation(const Graph &g, const std::vector<const Op *> &ops, int channels, int padded);
  bool empty() const { return scale.empty() && act == kernels::Activation::None; }
  // dst[x * block + l] = u(src[x * block + l], c0 + l) for every lane of `width` pixels (in
  // place allowed).
  void apply_row(const float *src, float *dst, int width, int block, int c0) const;
  // Per channel, the slope of the activation for negative values (0 for ReLU); empty when
  // there is no activation: what kernels/pointwise takes.
  std::vector<float> negative_slopes() const;

  std::vector<float> scale, shift;  // empty: no affine
  std::vector<float> slope;         // Slope only
  kernels::Activation act = kernels::Activation::None;
  int padded = 0;
};

}  // namespace xunit
