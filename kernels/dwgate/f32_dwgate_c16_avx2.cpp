// Compiled with -mavx2 -mfma (see kernels/CMakeLists.txt); called only when the CPU has AVX2+FMA.
#include <immintrin.h>

#include "kernels/dwgate/dwgate.h"

namespace {
using V = __m256;
constexpr int kLanes = 8;
constexpr int kPix = 4;
inline V vset(float v) { return _mm256_set1_ps(v); }
inline V vload(const float *p) { return _mm256_loadu_ps(p); }
inline void vstore(float *p, V v) { _mm256_storeu_ps(p, v); }
inline V vadd(V a, V b) { return _mm256_add_ps(a, b); }
inline V vmul(V a, V b) { return _mm256_mul_ps(a, b); }
inline V vdiv(V a, V b) { return _mm256_div_ps(a, b); }
inline V vmin(V a, V b) { return _mm256_min_ps(a, b); }
inline V vmax(V a, V b) { return _mm256_max_ps(a, b); }
inline V vneg(V a) { return _mm256_sub_ps(_mm256_setzero_ps(), a); }
inline V vfmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline V vfnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
inline V vround(V a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
// a * 2^n for integral n in [-128, 127]: build 2^n in the exponent field.
inline V vscale2(V a, V n) {
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(a, _mm256_castsi256_ps(e));
}
}  // namespace

#include "kernels/dwgate/f32_dwgate_simd.inc"

namespace xunit::kernels {
void f32_dwgate_c16__avx2(const DwGateParams &p) { dwgate_block16(p); }
}  // namespace xunit::kernels
