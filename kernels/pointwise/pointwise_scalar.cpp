// The references: one output value at a time, in plain float arithmetic; the Bf16 one rounds
// each pre-activated input to bfloat16 (its weights come rounded) and sums the exact products
// in float.
#include <cmath>
#include <cstddef>

#include "common/half.h"
#include "kernels/pointwise/pointwise.h"

namespace xunit::kernels {

namespace {

template <Products kProducts>
void reference(const PointwiseParams &p) {
  const int B = p.block, C = p.in_planes * B, O = p.out_planes * B;
  auto weight = [&](int c, int o) -> float {
    if (kProducts == Products::Bf16)
      return bf16_to_float(
          static_cast<const uint16_t *>(p.weights)[(size_t(c / 2) * O + size_t(o)) * 2 + c % 2]);
    return static_cast<const float *>(p.weights)[size_t(c) * O + size_t(o)];
  };
  for (int i = 0; i < p.rows; ++i)
    for (int x = 0; x < p.width; ++x) {
      for (int o = 0; o < O; ++o) {
        float acc = p.bias[o];
        for (int c = 0; c < C; ++c) {
          float u = p.in_rows[(c / B) * p.rows + i][x * B + c % B];
          // The Bf16 reference fuses the affine as the SIMD variants do (an explicit FMA there), so
          // that their inputs round to the same bf16; in float the difference is one rounding.
          if (p.pre_scale)
            u = kProducts == Products::Bf16 ? std::fma(u, p.pre_scale[c], p.pre_shift[c])
                                            : u * p.pre_scale[c] + p.pre_shift[c];
          if (p.pre_slope && u < 0.f) u *= p.pre_slope[c];
          if (kProducts == Products::Bf16) u = bf16_to_float(float_to_bf16(u));
          acc += weight(c, o) * u;
        }
        if (p.post_slope && acc < 0.f) acc *= p.post_slope[o];
        if (p.post_scale) acc = acc * p.post_scale[o] + p.post_shift[o];
        p.out_rows[(o / B) * p.rows + i][x * B + o % B] = acc;
      }
    }
}

}  // namespace

void f32_pointwise__scalar(const PointwiseParams &p) { reference<Products::F32>(p); }
void bf16_pointwise__scalar(const PointwiseParams &p) { reference<Products::Bf16>(p); }

}  // namespace xunit::kernels
