// The registry of Winograd variants (the one list to extend) and the choice among them.
#include "kernels/winograd/winograd.h"

namespace xunit::kernels {

namespace {

constexpr WinogradVariant kVariants[] = {
    {"bf16_f4x4_3x3_c16__avx512bf16", Isa::Avx512Bf16, 16, Products::Bf16,
     bf16_winograd_f4x4_3x3_c16__avx512bf16},
    {"f32_f4x4_3x3_c16__avx512", Isa::Avx512, 16, Products::F32, f32_winograd_f4x4_3x3_c16__avx512},
    {"f32_f4x4_3x3_c8__avx2", Isa::Avx2, 8, Products::F32, f32_winograd_f4x4_3x3_c8__avx2},
};

}  // namespace

VariantList<WinogradVariant> winograd_variants() {
  return {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};
}

const WinogradVariant *select_winograd(int block, Products products) {
  return first_variant(winograd_variants(), active_isa(), [&](const WinogradVariant &c) {
    return c.block == block && c.products == products;
  });
}

WinogradFn winograd_reference(Products products) {
  return products == Products::Bf16 ? bf16_winograd_f4x4_3x3__scalar
                                    : f32_winograd_f4x4_3x3__scalar;
}

}  // namespace xunit::kernels
