// The list of conv-to-few-channels variants and the choice among them.
#include "kernels/conv_o4/conv_o4.h"
#include "kernels/isa.h"

namespace xunit::kernels {

ConvO4Fn select_conv_o4(int block) {
  const Isa isa = active_isa();
  if (block == 16 && isa >= Isa::Avx512) return f32_conv_o4_c16__avx512;
  if (block == 8 && isa >= Isa::Avx2) return f32_conv_o4_c8__avx2;
  return f32_conv_o4__scalar;
}

}  // namespace xunit::kernels
