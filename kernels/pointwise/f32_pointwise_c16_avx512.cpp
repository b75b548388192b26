// Compiled with the AVX-512 flags (see kernels/CMakeLists.txt); called only on AVX-512 CPUs.
#include <immintrin.h>

#include <cstddef>

#include "kernels/pointwise/pointwise.h"

namespace {
using V = __m512;
constexpr int kBlock = 16;
inline V vzero() { return _mm512_setzero_ps(); }
inline V vset(float v) { return _mm512_set1_ps(v); }
inline V vload(const float *p) { return _mm512_loadu_ps(p); }
inline void vstore(float *p, V v) { _mm512_storeu_ps(p, v); }
inline V vmin(V a, V b) { return _mm512_min_ps(a, b); }
inline V vmax(V a, V b) { return _mm512_max_ps(a, b); }
inline V vfmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
// 32 vector registers: P * OB accumulators + OB weights + 1 broadcast.
constexpr int pix_for(int ob) { return ob == 1 ? 24 : ob == 2 ? 12 : ob == 3 ? 8 : 6; }
}  // namespace

#include "kernels/pointwise/f32_pointwise_simd.inc"

namespace xunit::kernels {
void f32_pointwise_c16__avx512(const PointwiseParams &p) { pointwise(p); }
}  // namespace xunit::kernels
