// Compiled with the AVX-512 flags (see kernels/CMakeLists.txt); called only on AVX-512 CPUs.
#include <cstddef>

#include "kernels/pointwise/pointwise.h"
#include "kernels/simd/f32_avx512.inc"

namespace {
constexpr int kBlock = 16;
// 32 vector registers: P * OB accumulators + OB weights + 1 broadcast.
constexpr int kMaxOB = 4;
constexpr int pix_for(int ob) { return ob == 1 ? 24 : ob == 2 ? 12 : ob == 3 ? 8 : 6; }
}  // namespace

#include "kernels/pointwise/pointwise_simd.inc"

namespace xunit::kernels {
void f32_pointwise_c16__avx512(const PointwiseParams &p) { pointwise(p); }
}  // namespace xunit::kernels
