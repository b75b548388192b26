#include <immintrin.h>
namespace xunit::bench {
namespace {
using V = __m512;
constexpr int kLanes = 16;
inline V vset(float v) { return _mm512_set1_ps(v); }
inline V vfmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline float vsum(V v) { return _mm512_reduce_add_ps(v); }
}  // namespace
#define FMA_LOOP_NAME fma_loop_avx512
#include "bench/fma_loop.inc"
}  // namespace xunit::bench
