#include "engine/steps/pre_activation.h"

#include "common/error.h"
#include "engine/ops/unary.h"

namespace xunit {

bool is_pre_activation(const std::vector<const Op *> &ops) {
  bool activated = false;
  for (const Op *op : ops) {
    if (activated) return false;
    if (is_relu_like(op->type))
      activated = true;
    else if (op->type != OpType::Affine)
      return false;
  }
  return true;
}

PreActivation::PreActivation(const Graph &g, const std::vector<const Op *> &ops, int channels,
                             int padded_channels)
    : padded(padded_channels) {
  XUNIT_CHECK(is_pre_activation(ops), "internal error: not affines then one activation");
  std::vector<float> sc(size_t(padded), 1.f), sh(size_t(padded), 0.f);
  bool any_affine = false;
  for (const Op *op : ops) {
    const UnaryFn f(g, *op);
    float a, b;
    if (f.affine(0, &a, &b)) {
      any_affine = true;
      for (int c = 0; c < channels; ++c) {
        f.affine(c, &a, &b);
        sc[size_t(c)] *= a;
        sh[size_t(c)] = sh[size_t(c)] * a + b;
      }
      continue;
    }
    if (op->type == OpType::Relu) {
      act = kernels::Activation::Relu;
      continue;
    }
    act = kernels::Activation::Slope;
    slope.assign(size_t(padded), 0.f);
    for (int c = 0; c < channels; ++c) f.negative_slope(c, &slope[size_t(c)]);
  }
  if (any_affine) {
    for (size_t c = size_t(channels); c < size_t(padded); ++c) sc[c] = sh[c] = 0.f;
    scale = std::move(sc);
    shift = std::move(sh);
  }
}

void PreActivation::apply_row(const float *src, float *dst, int width, int block, int c0) const {
  kernels::AffineActParams p;
  p.src = src;
  p.dst = dst;
  if (!scale.empty()) p.scale = scale.data() + c0, p.shift = shift.data() + c0;
  if (!slope.empty()) p.slope = slope.data() + c0;
  p.act = act;
  p.pixels = size_t(width);
  p.block = block;
  kernels::select_affine_act(block)(p);
}

std::vector<float> PreActivation::negative_slopes() const {
  if (act == kernels::Activation::None) return {};
  return act == kernels::Activation::Slope ? slope : std::vector<float>(size_t(padded), 0.f);
}

}  // namespace xunit
