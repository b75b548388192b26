// The references: one tile and one output channel at a time, in plain float arithmetic; the
// Bf16 one rounds the transformed inputs to bfloat16 (its weights come rounded) and sums the
// exact products in float.
#include "common/half.h"
#include "kernels/winograd/winograd.h"
#include "kernels/winograd/winograd_transforms.h"

namespace xunit::kernels {

namespace {

template <Products kProducts>
void reference(const WinogradParams &p) {
  const int B = p.block, icp = p.in_planes * B, ocp = p.out_planes * B;
  auto mul = [](float a, float b) { return a * b; };
  auto in = [&](int c, int y, int x) -> float {  // zero beyond the window and the sides
    if (y >= p.rows + 2 || x < 0 || x >= p.width) return 0.f;
    return p.src[((size_t(c / B) * (p.rows + 2) + y) * p.width + x) * B + c % B];
  };
  // U[pos][c][o] in either packing.
  auto weight = [&](int pos, int c, int o) -> float {
    if (kProducts == Products::Bf16)
      return bf16_to_float(static_cast<const uint16_t *>(
          p.weights)[((size_t(pos) * icp / 2 + size_t(c / 2)) * ocp + o) * 2 + c % 2]);
    return static_cast<const float *>(p.weights)[(size_t(pos) * icp + c) * ocp + o];
  };
  std::vector<float> v(size_t(36) * icp);
  for (int ty = p.tile_row_begin; ty < p.tile_row_end; ++ty)
    for (int tx = p.tile_col_begin; tx < p.tile_col_end; ++tx) {
      for (int c = 0; c < icp; ++c) {  // V = B^T d B per input channel
        float d[6][6], t[6][6];
        for (int i = 0; i < 6; ++i)
          for (int j = 0; j < 6; ++j) d[i][j] = in(c, 4 * ty + i, 4 * tx - 1 + j);
        winograd::input_2d(d, t, mul);
        for (int pos = 0; pos < 36; ++pos) {
          const float x = t[pos / 6][pos % 6];
          v[size_t(pos) * icp + c] =
              kProducts == Products::Bf16 ? bf16_to_float(float_to_bf16(x)) : x;
        }
      }
      for (int o = 0; o < ocp; ++o) {
        float m[6][6];
        for (int pos = 0; pos < 36; ++pos) {
          float acc = 0.f;
          for (int c = 0; c < icp; ++c) acc += v[size_t(pos) * icp + c] * weight(pos, c, o);
          m[pos / 6][pos % 6] = acc;
        }
        float y4[4][4];
        winograd::output_2d(m, y4, mul);
        for (int i = 0; i < 4; ++i) {
          const float *r = y4[i];
          const int y = 4 * ty + i;
          if (y >= p.rows) continue;
          for (int j = 0; j < 4; ++j) {
            const int x = 4 * tx + j;
            if (x >= p.width) continue;
            float &out = p.dst[((size_t(o / B) * p.rows + y) * p.width + x) * B + o % B];
            out = (p.accumulate ? out : 0.f) + r[j] + p.bias[o];
          }
        }
      }
    }
}

}  // namespace

void f32_winograd_f4x4_3x3__scalar(const WinogradParams &p) { reference<Products::F32>(p); }

void bf16_winograd_f4x4_3x3__scalar(const WinogradParams &p) { reference<Products::Bf16>(p); }

}  // namespace xunit::kernels
