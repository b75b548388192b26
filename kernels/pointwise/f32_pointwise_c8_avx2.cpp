// Compiled with the AVX2 flags (see kernels/CMakeLists.txt); called only on AVX2+FMA CPUs.
#include <cstddef>

#include "kernels/pointwise/pointwise.h"
#include "kernels/simd/f32_avx2.inc"

namespace {
constexpr int kBlock = 8;
// 16 vector registers: P * OB accumulators + OB weights + 1 broadcast. 6 pixels x 2 blocks
// (15 registers) feeds 12 FMAs from 8 loads with 12 independent accumulators; 2 x 4 fed 8 from
// 6 with 8 (barely the FMA latency x 2 pipes). One Zen 3 core, xunit-micro-pointwise, 128->32 /
// 160->80 with BN-ReLU before: 2 x 4 48 / 34 GFLOP/s, 4 x 3 63 / 56, 6 x 2 66 / 70 (peak ~90).
constexpr int kMaxOB = 2;
constexpr int pix_for(int ob) { return ob == 1 ? 12 : ob == 2 ? 6 : ob == 3 ? 3 : 2; }
}  // namespace

#include "kernels/pointwise/pointwise_simd.inc"

namespace xunit::kernels {
void f32_pointwise_c8__avx2(const PointwiseParams &p) { pointwise(p); }
}  // namespace xunit::kernels
