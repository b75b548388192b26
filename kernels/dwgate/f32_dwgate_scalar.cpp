#include <cmath>

#include "kernels/dwgate/dwgate.h"

namespace xunit::kernels {

namespace {

// m * g(a) for the gate function G, with std::exp: the reference the SIMD gates are tested
// against.
template <GateFunction G>
float gate(float a, float m) {
  static_assert(G == GateFunction::Sigmoid || G == GateFunction::Gaussian, "a gate per kind");
  if constexpr (G == GateFunction::Sigmoid)
    return m / (1.f + std::exp(-a));
  else
    return m * std::exp(-a * a);
}

template <GateFunction G>
void dwgate_rows(const DwGateParams &p) {
  const int k = p.kernel, r = k / 2, B = p.block, W = p.width;
  for (int i = 0; i < p.rows; ++i) {
    const float *const *in = p.in_rows + i;
    float *out = p.out_rows[i];
    const float *m = p.x_rows ? p.x_rows[i] : in[r];
    for (int x = 0; x < W; ++x)
      for (int lane = 0; lane < B; ++lane) {
        float acc = p.bias[lane];
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx) {
            const int sx = x + kx - r;
            if (sx < 0 || sx >= W) continue;
            acc += p.weights[(ky * k + kx) * B + lane] * in[ky][sx * B + lane];
          }
        float v = gate<G>(acc, m[x * B + lane]);
        if (p.post_scale) v = v * p.post_scale[lane] + p.post_shift[lane];
        out[x * B + lane] = v;
      }
  }
}

}  // namespace

void f32_dwgate__scalar(const DwGateParams &p) { dwgate_rows<GateFunction::Sigmoid>(p); }
void f32_dwgate_gaussian__scalar(const DwGateParams &p) { dwgate_rows<GateFunction::Gaussian>(p); }

}  // namespace xunit::kernels
