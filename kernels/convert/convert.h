// float32 -> bfloat16 conversion of a run of values (the inputs of bf16 convolutions), round to
// nearest even; NaN stays NaN. The AVX512-BF16 variant (vcvtneps2bf16) flushes float32
// denormals (below 1.2e-38) to zero, which the others round like any value.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/isa.h"
#include "kernels/registry.h"

namespace xunit::kernels {

void f32_to_bf16__scalar(const float *src, uint16_t *dst, size_t n);
void f32_to_bf16__avx512(const float *src, uint16_t *dst, size_t n);
void f32_to_bf16__avx512bf16(const float *src, uint16_t *dst, size_t n);

using F32ToBf16Fn = void (*)(const float *, uint16_t *, size_t);

// The registry (kernels/registry.h): every SIMD variant, best first; no key but the ISA.
struct F32ToBf16Variant {
  const char *name;
  Isa isa;  // the least ISA it needs
  F32ToBf16Fn fn;
};
VariantList<F32ToBf16Variant> f32_to_bf16_variants();

// The first registered variant whose ISA is at most the active ISA; else the scalar one.
F32ToBf16Fn select_f32_to_bf16();

// `matrices` weight matrices [in][out] (float32, one after the other) rounded to bfloat16 and
// packed as vdpbf16ps takes them, input channels in pairs: [matrices][in / 2][out][2]. The
// layout of every bf16-products kernel (kernels/winograd, kernels/pointwise); `in` even.
std::vector<uint16_t> pack_bf16_input_pairs(const float *weights, size_t in_channels,
                                            size_t out_channels, size_t matrices = 1);

}  // namespace xunit::kernels
