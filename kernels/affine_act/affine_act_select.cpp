// The registry of affine+activation variants (the one list to extend) and the choice among them.
#include "kernels/affine_act/affine_act.h"

namespace xunit::kernels {

namespace {

constexpr AffineActVariant kVariants[] = {
    {"c16__avx512", Isa::Avx512, 16, f32_affine_act_c16__avx512},
    {"c16__avx2", Isa::Avx2, 16, f32_affine_act_c8__avx2},
    {"c8__avx2", Isa::Avx2, 8, f32_affine_act_c8__avx2},
};

}  // namespace

VariantList<AffineActVariant> affine_act_variants() {
  return {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};
}

AffineActFn select_affine_act(int block) {
  const AffineActVariant *v =
      first_variant(affine_act_variants(), active_isa(),
                    [&](const AffineActVariant &c) { return c.block == block; });
  return v ? v->fn : f32_affine_act__scalar;
}

}  // namespace xunit::kernels
