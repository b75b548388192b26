// Compiled with -mavx512f (see kernels/CMakeLists.txt); called only when the CPU has AVX-512.
#include <immintrin.h>

#include "kernels/dwgate/dwgate.h"

namespace {
using V = __m512;
constexpr int kLanes = 16;
constexpr int kBlock = 16;
constexpr int kPix = 8;
inline V vset(float v) { return _mm512_set1_ps(v); }
inline V vload(const float *p) { return _mm512_loadu_ps(p); }
inline void vstore(float *p, V v) { _mm512_storeu_ps(p, v); }
inline V vadd(V a, V b) { return _mm512_add_ps(a, b); }
inline V vmul(V a, V b) { return _mm512_mul_ps(a, b); }
inline V vrcp(V a) { return _mm512_rcp14_ps(a); }
inline V vmin(V a, V b) { return _mm512_min_ps(a, b); }
inline V vmax(V a, V b) { return _mm512_max_ps(a, b); }
inline V vfmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline V vfnmadd(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
inline V vround(V a) {
  return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
inline V vscale2(V a, V n) { return _mm512_scalef_ps(a, n); }
}  // namespace

#include "kernels/dwgate/f32_dwgate_simd.inc"

namespace xunit::kernels {
void f32_dwgate_c16__avx512(const DwGateParams &p) { dwgate_rows(p); }
}  // namespace xunit::kernels
