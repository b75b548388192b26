// Compiled with the AVX-512 flags (see kernels/CMakeLists.txt); called only on AVX-512 CPUs.
#include "kernels/dwgate/dwgate.h"
#include "kernels/simd/f32_avx512.inc"

namespace {
constexpr int kBlock = 16;
constexpr int kPix = 8;
}  // namespace

#include "kernels/dwgate/f32_dwgate_simd.inc"

namespace xunit::kernels {
void f32_dwgate_c16__avx512(const DwGateParams &p) { dwgate_rows<GateFunction::Sigmoid>(p); }
void f32_dwgate_gaussian_c16__avx512(const DwGateParams &p) {
  dwgate_rows<GateFunction::Gaussian>(p);
}
}  // namespace xunit::kernels
