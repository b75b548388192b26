#include "kernels/affine_act/affine_act.h"

namespace xunit::kernels {

void f32_affine_act__scalar(const AffineActParams &p) {
  const int B = p.block;
  for (size_t x = 0; x < p.pixels; ++x) {
    const float *s = p.src + x * size_t(B);
    float *d = p.dst + x * size_t(B);
    for (int l = 0; l < B; ++l) {
      float v = s[l];
      if (p.scale) {
        v = v * p.scale[l];
        v = v + p.shift[l];
      }
      if (p.act == Activation::Relu) v = v < 0.f ? 0.f : v;
      if (p.act == Activation::Slope) v = v < 0.f ? v * p.slope[l] : v;
      d[l] = v;
    }
  }
}

}  // namespace xunit::kernels
