// The registry of Winograd variants (the one list to extend) and the choice among them.
#include "kernels/winograd/winograd.h"

namespace xunit::kernels {

namespace {

constexpr WinogradVariant kVariants[] = {
    {"f4x4_3x3_c8__avx2", Isa::Avx2, 8, f32_winograd_f4x4_3x3_c8__avx2},
};

}  // namespace

VariantList<WinogradVariant> winograd_variants() {
  return {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};
}

WinogradFn select_winograd(int block) {
  const WinogradVariant *v =
      first_variant(winograd_variants(), active_isa(),
                    [&](const WinogradVariant &c) { return c.block == block; });
  return v ? v->fn : nullptr;
}

}  // namespace xunit::kernels
