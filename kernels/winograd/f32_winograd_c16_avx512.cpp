// Compiled with the AVX-512 flags (see kernels/CMakeLists.txt); called only on AVX-512 CPUs.
#include <cstddef>

#include "kernels/simd/f32_avx512.inc"
#include "kernels/winograd/winograd.h"

namespace {
constexpr int kBlock = 16;
}  // namespace

#include "kernels/winograd/winograd_simd.inc"

namespace xunit::kernels {
void f32_winograd_f4x4_3x3_c16__avx512(const WinogradParams &p) { winograd_f4x4_3x3(p); }
}  // namespace xunit::kernels
