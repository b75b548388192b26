// Compiled with the AVX512-BF16 flags (see kernels/CMakeLists.txt); called only on CPUs with
// avx512_bf16. The body of pointwise_simd.inc with bfloat16 products: every chunk is
// pre-activated (or just converted) into the scratch as bfloat16, and each vdpbf16ps multiplies
// two input channels of a broadcast pixel by 16 output channels' weights, summing in float32.
#include <cstddef>
#include <cstdint>

#include "kernels/pointwise/pointwise.h"
#include "kernels/simd/bf16_avx512bf16.inc"
#include "kernels/simd/f32_avx512.inc"

namespace {
constexpr int kBlock = 16;
// 32 vector registers: P * OB accumulators + OB weights + 1 broadcast.
constexpr int kMaxOB = 4;
constexpr int pix_for(int ob) { return ob == 1 ? 24 : ob == 2 ? 12 : ob == 3 ? 8 : 6; }
}  // namespace

#include "kernels/pointwise/pointwise_simd.inc"

namespace {

struct Bf16Products {
  using Elem = uint16_t;
  static constexpr bool kInPlace = false;  // the rows are float32: always converted first
  static void store(uint16_t *to, V v) { vstore_bf16(to, v); }
  template <int P, int OB, class Src>
  static void accumulate(const PointwiseParams &p, Src src, int ob0, V (&acc)[P][OB]) {
    const size_t O = size_t(p.out_planes) * kBlock;
    for (int pl = 0; pl < p.in_planes; ++pl) {
      const uint16_t *s = src(pl);
      const uint16_t *w = static_cast<const uint16_t *>(p.weights) +
                          (size_t(pl) * (kBlock / 2) * O + size_t(ob0) * kBlock) * 2;
      for (int pair = 0; pair < kBlock / 2; ++pair, w += O * 2) {
        __m512bh wv[OB];
        for (int o = 0; o < OB; ++o) wv[o] = vload_bf16_pairs(w + o * kBlock * 2);
        for (int j = 0; j < P; ++j) {
          // Input channels 2 pair and 2 pair + 1 of pixel j.
          const __m512bh u = vbroadcast_bf16_pair(s + j * kBlock + 2 * pair);
          for (int o = 0; o < OB; ++o) acc[j][o] = vdot_bf16_pairs(acc[j][o], u, wv[o]);
        }
      }
    }
  }
};

}  // namespace

namespace xunit::kernels {
void bf16_pointwise_c16__avx512bf16(const PointwiseParams &p) { pointwise<Bf16Products>(p); }
}  // namespace xunit::kernels
