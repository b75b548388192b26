#include <immintrin.h>
namespace xunit::bench {
namespace {
using V = __m256;
constexpr int kLanes = 8;
inline V vset(float v) { return _mm256_set1_ps(v); }
inline V vfmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline float vsum(V v) {
  float x[8];
  _mm256_storeu_ps(x, v);
  return x[0] + x[1] + x[2] + x[3] + x[4] + x[5] + x[6] + x[7];
}
}  // namespace
#define FMA_LOOP_NAME fma_loop_avx2
#include "bench/fma_loop.inc"
}  // namespace xunit::bench
