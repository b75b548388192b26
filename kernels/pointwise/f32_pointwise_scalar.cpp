#include <cstddef>

#include "kernels/pointwise/pointwise.h"

namespace xunit::kernels {

void f32_pointwise__scalar(const PointwiseParams &p) {
  const int B = p.block, C = p.in_planes * B, O = p.out_planes * B;
  for (int i = 0; i < p.rows; ++i)
    for (int x = 0; x < p.width; ++x) {
      for (int o = 0; o < O; ++o) {
        float acc = p.bias[o];
        for (int c = 0; c < C; ++c) {
          float u = p.in_rows[(c / B) * p.rows + i][x * B + c % B];
          if (p.pre_scale) u = u * p.pre_scale[c] + p.pre_shift[c];
          if (p.pre_slope && u < 0.f) u *= p.pre_slope[c];
          acc += p.weights[size_t(c) * O + o] * u;
        }
        if (p.post_slope && acc < 0.f) acc *= p.post_slope[o];
        if (p.post_scale) acc = acc * p.post_scale[o] + p.post_shift[o];
        p.out_rows[(o / B) * p.rows + i][x * B + o % B] = acc;
      }
    }
}

}  // namespace xunit::kernels
