// Compiled with the AVX-512 flags (see kernels/CMakeLists.txt); called only on AVX-512 CPUs.
#include "kernels/affine_act/affine_act.h"
#include "kernels/simd/f32_avx512.inc"

// (after the wrappers it uses)
#include "kernels/affine_act/f32_affine_act_simd.inc"

namespace xunit::kernels {
void f32_affine_act_c16__avx512(const AffineActParams &p) {
  if (p.block == 16) return affine_act<1>(p);
  f32_affine_act__scalar(p);  // (not registered for other blocks)
}
}  // namespace xunit::kernels
