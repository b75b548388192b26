// Compiled with the AVX-512 flags; called only on AVX-512 CPUs.
#include <immintrin.h>

#include "common/half.h"
#include "kernels/convert/convert.h"

namespace xunit::kernels {

void f32_to_bf16__avx512(const float *src, uint16_t *dst, size_t n) {
  const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(0x7fff),
                quiet = _mm512_set1_epi32(0x400000);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 f = _mm512_loadu_ps(src + i);
    __m512i bits = _mm512_castps_si512(f);
    // bits + 0x7fff + ((bits >> 16) & 1): round to nearest even in the upper half.
    __m512i rounded = _mm512_add_epi32(_mm512_add_epi32(bits, bias),
                                       _mm512_and_si512(_mm512_srli_epi32(bits, 16), one));
    const __mmask16 nan = _mm512_cmp_ps_mask(f, f, _CMP_UNORD_Q);
    rounded = _mm512_mask_mov_epi32(rounded, nan, _mm512_or_si512(bits, quiet));
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst + i),
                        _mm512_cvtepi32_epi16(_mm512_srli_epi32(rounded, 16)));
  }
  for (; i < n; ++i) dst[i] = float_to_bf16(src[i]);
}

}  // namespace xunit::kernels
