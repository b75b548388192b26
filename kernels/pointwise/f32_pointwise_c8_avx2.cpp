// Compiled with the AVX2 flags (see kernels/CMakeLists.txt); called only on AVX2+FMA CPUs.
#include <immintrin.h>

#include <cstddef>

#include "kernels/pointwise/pointwise.h"

namespace {
using V = __m256;
constexpr int kBlock = 8;
inline V vzero() { return _mm256_setzero_ps(); }
inline V vset(float v) { return _mm256_set1_ps(v); }
inline V vload(const float *p) { return _mm256_loadu_ps(p); }
inline void vstore(float *p, V v) { _mm256_storeu_ps(p, v); }
inline V vmin(V a, V b) { return _mm256_min_ps(a, b); }
inline V vmax(V a, V b) { return _mm256_max_ps(a, b); }
inline V vfmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
// 16 vector registers: P * OB accumulators + OB weights + 1 broadcast.
constexpr int pix_for(int ob) { return ob == 1 ? 12 : ob == 2 ? 6 : ob == 3 ? 3 : 2; }
}  // namespace

#include "kernels/pointwise/f32_pointwise_simd.inc"

namespace xunit::kernels {
void f32_pointwise_c8__avx2(const PointwiseParams &p) { pointwise(p); }
}  // namespace xunit::kernels
