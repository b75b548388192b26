// Compiled with the AVX512-BF16 flags; called only on CPUs with avx512_bf16.
#include <immintrin.h>

#include "common/half.h"
#include "kernels/convert/convert.h"

namespace xunit::kernels {

void f32_to_bf16__avx512bf16(const float *src, uint16_t *dst, size_t n) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512bh pair =
        _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
    _mm512_storeu_si512(dst + i, reinterpret_cast<const __m512i &>(pair));
  }
  for (; i + 16 <= n; i += 16) {
    const __m256bh half = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst + i),
                        reinterpret_cast<const __m256i &>(half));
  }
  for (; i < n; ++i) dst[i] = float_to_bf16(src[i]);
}

}  // namespace xunit::kernels
