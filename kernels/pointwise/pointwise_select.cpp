// The registry of pointwise-conv variants (the one list to extend) and the choice among them.
#include "kernels/pointwise/pointwise.h"

namespace xunit::kernels {

namespace {

constexpr PointwiseVariant kVariants[] = {
    {"bf16_c16__avx512bf16", Isa::Avx512Bf16, 16, Products::Bf16, bf16_pointwise_c16__avx512bf16},
    {"f32_c16__avx512", Isa::Avx512, 16, Products::F32, f32_pointwise_c16__avx512},
    {"f32_c8__avx2", Isa::Avx2, 8, Products::F32, f32_pointwise_c8__avx2},
};

}  // namespace

VariantList<PointwiseVariant> pointwise_variants() {
  return {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};
}

namespace {
const PointwiseVariant *find(int block, Products products) {
  return first_variant(pointwise_variants(), active_isa(), [&](const PointwiseVariant &c) {
    return c.block == block && c.products == products;
  });
}
}  // namespace

PointwiseFn select_pointwise(int block, Products products) {
  const PointwiseVariant *v = find(block, products);
  return v ? v->fn : pointwise_reference(products);
}

bool has_pointwise_variant(int block, Products products) {
  return find(block, products) != nullptr;
}

PointwiseFn pointwise_reference(Products products) {
  return products == Products::Bf16 ? bf16_pointwise__scalar : f32_pointwise__scalar;
}

}  // namespace xunit::kernels
