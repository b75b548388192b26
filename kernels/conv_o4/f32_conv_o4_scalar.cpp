#include <cstddef>

#include "kernels/conv_o4/conv_o4.h"

namespace xunit::kernels {

void f32_conv_o4__scalar(const ConvO4Params &p) {
  const int k = p.kernel, r = k / 2, B = p.block, in_n = p.in_stride;
  for (int o = 0; o < p.out_channels; ++o)
    for (int i = 0; i < p.rows; ++i)
      for (int x = 0; x < p.width; ++x) {
        float acc = p.bias[o];
        for (int pl = 0; pl < p.planes; ++pl)
          for (int ky = 0; ky < k; ++ky) {
            const float *row = p.in_rows[pl * in_n + i + ky];
            const float *w = p.weights + ((size_t(o) * p.planes + pl) * k * k + ky * k) * B;
            for (int kx = 0; kx < k; ++kx) {
              const int sx = x + kx - r;
              if (sx < 0 || sx >= p.width) continue;
              for (int lane = 0; lane < B; ++lane) acc += w[kx * B + lane] * row[sx * B + lane];
            }
          }
        p.out_rows[o * p.out_stride + i][x] = acc;
      }
}

}  // namespace xunit::kernels
