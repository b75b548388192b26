// The registry of conv-to-few-channels variants (the one list to extend) and the choice among
// them.
#include "kernels/conv_o4/conv_o4.h"

namespace xunit::kernels {

namespace {

constexpr ConvO4Variant kVariants[] = {
    {"c16__avx512", Isa::Avx512, 16, f32_conv_o4_c16__avx512},
    {"c8__avx2", Isa::Avx2, 8, f32_conv_o4_c8__avx2},
};

}  // namespace

VariantList<ConvO4Variant> conv_o4_variants() {
  return {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};
}

ConvO4Fn select_conv_o4(int block) {
  const ConvO4Variant *v = first_variant(conv_o4_variants(), active_isa(),
                                         [&](const ConvO4Variant &c) { return c.block == block; });
  return v ? v->fn : f32_conv_o4__scalar;
}

}  // namespace xunit::kernels
