// The list of dw-conv+gate variants and the choice among them.
#include "kernels/dwgate/dwgate.h"
#include "kernels/isa.h"

namespace xunit::kernels {

DwGateFn select_dwgate(int block) {
  if (block == 16) {
    switch (active_isa()) {
      case Isa::Avx512: return f32_dwgate_c16__avx512;
      case Isa::Avx2: return f32_dwgate_c16__avx2;
      case Isa::Scalar: break;
    }
  }
  return f32_dwgate__scalar;
}

}  // namespace xunit::kernels
