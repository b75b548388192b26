// Compiled with the AVX2 flags (see kernels/CMakeLists.txt); called only on AVX2+FMA CPUs.
#include <cstddef>

#include "kernels/pointwise/pointwise.h"
#include "kernels/simd/f32_avx2.inc"

namespace {
constexpr int kBlock = 8;
// 16 vector registers: P * OB accumulators + OB weights + 1 broadcast.
constexpr int pix_for(int ob) { return ob == 1 ? 12 : ob == 2 ? 6 : ob == 3 ? 3 : 2; }
}  // namespace

#include "kernels/pointwise/f32_pointwise_simd.inc"

namespace xunit::kernels {
void f32_pointwise_c8__avx2(const PointwiseParams &p) { pointwise(p); }
}  // namespace xunit::kernels
