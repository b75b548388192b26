// Weight transform and scratch size of the Winograd family (plain code: run once per model).
#include <cstddef>
#include <vector>

#include "kernels/convert/convert.h"
#include "kernels/winograd/winograd.h"

namespace xunit::kernels {

std::vector<float> winograd_pack_weights(const float *w, int out_channels, int in_channels,
                                         int block) {
  static const double G[6][3] = {{1 / 4., 0, 0},
                                 {-1 / 6., -1 / 6., -1 / 6.},
                                 {-1 / 6., 1 / 6., -1 / 6.},
                                 {1 / 24., 1 / 12., 1 / 6.},
                                 {1 / 24., -1 / 12., 1 / 6.},
                                 {0, 0, 1}};
  const int icp = (in_channels + block - 1) / block * block;
  const int ocp = (out_channels + block - 1) / block * block;
  std::vector<float> u(size_t(36) * icp * ocp, 0.f);
  for (int o = 0; o < out_channels; ++o)
    for (int i = 0; i < in_channels; ++i) {
      const float *g = w + (size_t(o) * in_channels + i) * 9;
      double gg[6][3];  // G g
      for (int a = 0; a < 6; ++a)
        for (int b = 0; b < 3; ++b)
          gg[a][b] = G[a][0] * g[0 * 3 + b] + G[a][1] * g[1 * 3 + b] + G[a][2] * g[2 * 3 + b];
      for (int a = 0; a < 6; ++a)
        for (int c = 0; c < 6; ++c)
          u[(size_t(a * 6 + c) * icp + i) * ocp + o] =
              float(gg[a][0] * G[c][0] + gg[a][1] * G[c][1] + gg[a][2] * G[c][2]);
    }
  return u;
}

WinogradWeights winograd_pack(const float *oihw, int out_channels, int in_channels, int block,
                              Products products) {
  WinogradWeights w;
  w.products = products;
  if (products == Products::Bf16)
    w.bf16 =
        pack_bf16_input_pairs(winograd_pack_weights(oihw, out_channels, in_channels, block).data(),
                              size_t(in_channels + block - 1) / block * block,
                              size_t(out_channels + block - 1) / block * block, 36);
  else
    w.f32 = winograd_pack_weights(oihw, out_channels, in_channels, block);
  return w;
}

size_t winograd_scratch_floats(int in_planes, int out_planes, int block) {
  // The transformed inputs and the products of one batch of tiles.
  return size_t(36) * (in_planes + out_planes) * kWinogradBatchTiles * block;
}

}  // namespace xunit::kernels
