// The registry of pointwise-conv variants (the one list to extend) and the choice among them.
#include "kernels/pointwise/pointwise.h"

namespace xunit::kernels {

namespace {

constexpr PointwiseVariant kVariants[] = {
    {"c16__avx512", Isa::Avx512, 16, f32_pointwise_c16__avx512},
    {"c8__avx2", Isa::Avx2, 8, f32_pointwise_c8__avx2},
};

}  // namespace

VariantList<PointwiseVariant> pointwise_variants() {
  return {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};
}

PointwiseFn select_pointwise(int block) {
  const PointwiseVariant *v =
      first_variant(pointwise_variants(), active_isa(),
                    [&](const PointwiseVariant &c) { return c.block == block; });
  return v ? v->fn : f32_pointwise__scalar;
}

}  // namespace xunit::kernels
