// Compiled with the AVX2 flags (see kernels/CMakeLists.txt); called only on AVX2+FMA CPUs.
#include <cstddef>

#include "kernels/conv_o4/conv_o4.h"
#include "kernels/simd/f32_avx2.inc"

namespace {
constexpr int kBlock = 8;
}  // namespace

#include "kernels/conv_o4/f32_conv_o4_simd.inc"

namespace xunit::kernels {
void f32_conv_o4_c8__avx2(const ConvO4Params &p) { conv_o4(p); }
}  // namespace xunit::kernels
