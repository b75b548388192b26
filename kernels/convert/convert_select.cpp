#include "kernels/convert/convert.h"
#include "kernels/isa.h"

namespace xunit::kernels {

F32ToBf16Fn select_f32_to_bf16() {
  const Isa isa = active_isa();
  if (isa >= Isa::Avx512Bf16) return f32_to_bf16__avx512bf16;
  if (isa >= Isa::Avx512) return f32_to_bf16__avx512;
  return f32_to_bf16__scalar;
}

}  // namespace xunit::kernels
