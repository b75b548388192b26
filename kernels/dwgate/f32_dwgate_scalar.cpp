#include <cmath>

#include "kernels/dwgate/dwgate.h"

namespace xunit::kernels {

void f32_dwgate__scalar(const DwGateParams &p) {
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
        float v = m[x * B + lane] / (1.f + std::exp(-acc));
        if (p.post_scale) v = v * p.post_scale[lane] + p.post_shift[lane];
        out[x * B + lane] = v;
      }
  }
}

}  // namespace xunit::kernels
