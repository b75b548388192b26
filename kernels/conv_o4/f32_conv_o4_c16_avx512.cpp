// Compiled with the AVX-512 flags (see kernels/CMakeLists.txt); called only on AVX-512 CPUs.
#include <immintrin.h>

#include <cstddef>

#include "kernels/conv_o4/conv_o4.h"

namespace {
using V = __m512;
constexpr int kBlock = 16;
inline V vzero() { return _mm512_setzero_ps(); }
inline V vload(const float *p) { return _mm512_loadu_ps(p); }
inline V vfmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline float vsum(V v) { return _mm512_reduce_add_ps(v); }
}  // namespace

#include "kernels/conv_o4/f32_conv_o4_simd.inc"

namespace xunit::kernels {
void f32_conv_o4_c16__avx512(const ConvO4Params &p) { conv_o4(p); }
}  // namespace xunit::kernels
