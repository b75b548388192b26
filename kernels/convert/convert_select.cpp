// The registry of float32 -> bfloat16 variants (the one list to extend) and the choice.
#include "kernels/convert/convert.h"

namespace xunit::kernels {

namespace {

constexpr F32ToBf16Variant kVariants[] = {
    {"avx512bf16", Isa::Avx512Bf16, f32_to_bf16__avx512bf16},
    {"avx512", Isa::Avx512, f32_to_bf16__avx512},
};

}  // namespace

VariantList<F32ToBf16Variant> f32_to_bf16_variants() {
  return {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};
}

F32ToBf16Fn select_f32_to_bf16() {
  const F32ToBf16Variant *v = first_variant(f32_to_bf16_variants(), active_isa(),
                                            [](const F32ToBf16Variant &) { return true; });
  return v ? v->fn : f32_to_bf16__scalar;
}

}  // namespace xunit::kernels
