// The list of pointwise-conv variants and the choice among them.
#include "kernels/isa.h"
#include "kernels/pointwise/pointwise.h"

namespace xunit::kernels {

PointwiseFn select_pointwise(int block) {
  const Isa isa = active_isa();
  if (block == 16 && isa >= Isa::Avx512) return f32_pointwise_c16__avx512;
  if (block == 8 && isa >= Isa::Avx2) return f32_pointwise_c8__avx2;
  return f32_pointwise__scalar;
}

}  // namespace xunit::kernels
