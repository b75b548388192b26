#include <algorithm>
#include <cmath>

#include "kernels/dwgate/dwgate.h"

namespace xunit::kernels {

void f32_dwgate__scalar(const DwGateParams &p) {
  const int k = p.kernel, r = k / 2, B = p.block, W = p.width, H = p.height;
  for (int y = p.row_begin; y < p.row_end; ++y) {
    const int ky0 = std::max(0, r - y), ky1 = std::min(k, H - y + r);
    for (int x = 0; x < W; ++x) {
      const int kx0 = std::max(0, r - x), kx1 = std::min(k, W - x + r);
      const float *center = p.input + (size_t(y) * W + x) * B;
      float *out = p.output + (size_t(y) * W + x) * B;
      for (int lane = 0; lane < B; ++lane) {
        float acc = p.bias[lane];
        for (int ky = ky0; ky < ky1; ++ky) {
          const float *row = p.input + (size_t(y + ky - r) * W) * B;
          for (int kx = kx0; kx < kx1; ++kx)
            acc += p.weights[(ky * k + kx) * B + lane] * row[size_t(x + kx - r) * B + lane];
        }
        float v = center[lane] / (1.f + std::exp(-acc));
        if (p.post_scale) v = v * p.post_scale[lane] + p.post_shift[lane];
        out[lane] = v;
      }
    }
  }
}

}  // namespace xunit::kernels
