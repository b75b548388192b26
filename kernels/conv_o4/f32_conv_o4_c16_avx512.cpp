// Compiled with the AVX-512 flags (see kernels/CMakeLists.txt); called only on AVX-512 CPUs.
#include <cstddef>

#include "kernels/conv_o4/conv_o4.h"
#include "kernels/simd/f32_avx512.inc"

namespace {
constexpr int kBlock = 16;
}  // namespace

#include "kernels/conv_o4/f32_conv_o4_simd.inc"

namespace xunit::kernels {
void f32_conv_o4_c16__avx512(const ConvO4Params &p) { conv_o4(p); }
}  // namespace xunit::kernels
