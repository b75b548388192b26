// Compiled with the AVX2 flags (see kernels/CMakeLists.txt); called only when the CPU has AVX2+FMA.
// 16-lane blocks as two 8-lane halves: used when an nChw16c model runs on an AVX2 CPU.
#include "kernels/dwgate/dwgate.h"
#include "kernels/simd/f32_avx2.inc"

namespace {
constexpr int kBlock = 16;
constexpr int kPix = 8;
}  // namespace

#include "kernels/dwgate/f32_dwgate_simd.inc"

namespace xunit::kernels {
void f32_dwgate_c16__avx2(const DwGateParams &p) { dwgate_rows<GateFunction::Sigmoid>(p); }
void f32_dwgate_gaussian_c16__avx2(const DwGateParams &p) {
  dwgate_rows<GateFunction::Gaussian>(p);
}
}  // namespace xunit::kernels
