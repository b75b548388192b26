// Compiled with the AVX2 flags (see kernels/CMakeLists.txt); called only on AVX2+FMA CPUs.
#include <immintrin.h>

#include <cstddef>

#include "kernels/conv_o4/conv_o4.h"

namespace {
using V = __m256;
constexpr int kBlock = 8;
inline V vzero() { return _mm256_setzero_ps(); }
inline V vload(const float *p) { return _mm256_loadu_ps(p); }
inline V vfmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline float vsum(V v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
}  // namespace

#include "kernels/conv_o4/f32_conv_o4_simd.inc"

namespace xunit::kernels {
void f32_conv_o4_c8__avx2(const ConvO4Params &p) { conv_o4(p); }
}  // namespace xunit::kernels
