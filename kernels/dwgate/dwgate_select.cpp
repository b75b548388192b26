// The list of dw-conv+gate variants and the choice among them.
#include "kernels/dwgate/dwgate.h"
#include "kernels/isa.h"

namespace xunit::kernels {

DwGateFn select_dwgate(int block) {
  const Isa isa = active_isa();
  if (block == 16 && isa >= Isa::Avx512) return f32_dwgate_c16__avx512;
  if (block == 16 && isa >= Isa::Avx2) return f32_dwgate_c16__avx2;
  if (block == 8 && isa >= Isa::Avx2) return f32_dwgate_c8__avx2;
  return f32_dwgate__scalar;
}

}  // namespace xunit::kernels
