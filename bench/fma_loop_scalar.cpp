// Plain x86-64: SSE2 multiply + add (no FMA), 4 lanes.
#include <emmintrin.h>
namespace xunit::bench {
namespace {
using V = __m128;
constexpr int kLanes = 4;
inline V vset(float v) { return _mm_set1_ps(v); }
inline V vfmadd(V a, V b, V c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
inline float vsum(V v) {
  float x[4];
  _mm_storeu_ps(x, v);
  return x[0] + x[1] + x[2] + x[3];
}
}  // namespace
#define FMA_LOOP_NAME fma_loop_scalar
#include "bench/fma_loop.inc"
}  // namespace xunit::bench
