// Compiled with the AVX2 flags (see kernels/CMakeLists.txt); called only on AVX2+FMA CPUs.
#include <cstddef>

#include "kernels/simd/f32_avx2.inc"
#include "kernels/winograd/winograd.h"

namespace {
constexpr int kBlock = 8;
}  // namespace

#include "kernels/winograd/winograd_simd.inc"

namespace xunit::kernels {
void f32_winograd_f4x4_3x3_c8__avx2(const WinogradParams &p) { winograd_f4x4_3x3(p); }
}  // namespace xunit::kernels
