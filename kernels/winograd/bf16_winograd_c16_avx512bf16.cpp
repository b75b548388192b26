// Compiled with the AVX512-BF16 flags (see kernels/CMakeLists.txt); called only on CPUs with
// avx512_bf16. The float32 transforms of winograd_simd.inc with bfloat16 products: V is rounded
// to bfloat16 as it is stored, and each vdpbf16ps multiplies two input channels of a broadcast
// tile by 16 output channels' weights (twice the multiplications of a float32 FMA at the same
// rate), summing in float32.
#include <cstddef>
#include <cstdint>

#include "kernels/simd/bf16_avx512bf16.inc"
#include "kernels/simd/f32_avx512.inc"
#include "kernels/winograd/winograd.h"

namespace {
constexpr int kBlock = 16;
}  // namespace

#include "kernels/winograd/winograd_simd.inc"

namespace {

// m[pos][out block][tile][lane] for every tile of the batch and out blocks ob .. ob + NOB:
// kTiles x NOB accumulators (24 of AVX-512's 32 registers for NOB = 2), a pair of input
// channels per step.
template <int NOB>
inline void bf16_gemm_block(const WinogradParams &p, const uint16_t *v, const uint16_t *u, float *m,
                            int ob) {
  const size_t ocp = size_t(p.out_planes) * kBlock;
  __m512 acc[kTiles][NOB];
  for (int j = 0; j < kTiles; ++j)
    for (int b = 0; b < NOB; ++b) acc[j][b] = _mm512_setzero_ps();
  for (int icb = 0; icb < p.in_planes; ++icb) {
    const uint16_t *vb = v + size_t(icb) * kTiles * kBlock;
    const uint16_t *ub = u + (size_t(icb) * (kBlock / 2) * ocp + size_t(ob) * kBlock) * 2;
    for (int pair = 0; pair < kBlock / 2; ++pair) {
      __m512bh w[NOB];
      for (int b = 0; b < NOB; ++b)
        w[b] = vload_bf16_pairs(ub + (pair * ocp + size_t(b) * kBlock) * 2);
      for (int j = 0; j < kTiles; ++j) {
        // Input channels 2 pair and 2 pair + 1 of tile j.
        const __m512bh x = vbroadcast_bf16_pair(vb + j * kBlock + 2 * pair);
        for (int b = 0; b < NOB; ++b) acc[j][b] = vdot_bf16_pairs(acc[j][b], x, w[b]);
      }
    }
  }
  for (int b = 0; b < NOB; ++b)
    for (int j = 0; j < kTiles; ++j)
      _mm512_storeu_ps(m + ((size_t(ob + b) * kTiles) + j) * kBlock, acc[j][b]);
}

struct Bf16Products {
  using Elem = uint16_t;
  static void store(uint16_t *to, V v) { vstore_bf16(to, v); }
  static void products(const WinogradParams &p, const uint16_t *v, float *m) {
    const size_t icp = size_t(p.in_planes) * kBlock, ocp = size_t(p.out_planes) * kBlock;
    for (int pos = 0; pos < 36; ++pos) {
      const uint16_t *vp = v + size_t(pos) * p.in_planes * kTiles * kBlock;
      const uint16_t *up = static_cast<const uint16_t *>(p.weights) + size_t(pos) * icp * ocp;
      float *mp = m + size_t(pos) * p.out_planes * kTiles * kBlock;
      int ob = 0;
      for (; ob + 2 <= p.out_planes; ob += 2) bf16_gemm_block<2>(p, vp, up, mp, ob);
      if (ob < p.out_planes) bf16_gemm_block<1>(p, vp, up, mp, ob);
    }
  }
};

}  // namespace

namespace xunit::kernels {
void bf16_winograd_f4x4_3x3_c16__avx512bf16(const WinogradParams &p) {
  winograd_f4x4_3x3<Bf16Products>(p);
}
}  // namespace xunit::kernels
