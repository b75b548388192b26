#include "common/half.h"
#include "kernels/convert/convert.h"

namespace xunit::kernels {

void f32_to_bf16__scalar(const float *src, uint16_t *dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = float_to_bf16(src[i]);
}

}  // namespace xunit::kernels
