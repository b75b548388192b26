// The registry of dw-conv+gate variants (the one list to extend) and the choice among them.
#include "kernels/dwgate/dwgate.h"

namespace xunit::kernels {

namespace {

constexpr DwGateVariant kVariants[] = {
    {"c16__avx512", Isa::Avx512, 16, GateFunction::Sigmoid, f32_dwgate_c16__avx512},
    {"gaussian_c16__avx512", Isa::Avx512, 16, GateFunction::Gaussian,
     f32_dwgate_gaussian_c16__avx512},
    {"c16__avx2", Isa::Avx2, 16, GateFunction::Sigmoid, f32_dwgate_c16__avx2},
    {"gaussian_c16__avx2", Isa::Avx2, 16, GateFunction::Gaussian, f32_dwgate_gaussian_c16__avx2},
    {"c8__avx2", Isa::Avx2, 8, GateFunction::Sigmoid, f32_dwgate_c8__avx2},
    {"gaussian_c8__avx2", Isa::Avx2, 8, GateFunction::Gaussian, f32_dwgate_gaussian_c8__avx2},
};

}  // namespace

const char *gate_function_name(GateFunction gate) {
  const int i = int(gate);
  return i >= 0 && i < kGateFunctionCount ? kGateFunctionNames[i] : "?";
}

DwGateFn dwgate_reference(GateFunction gate) {
  return gate == GateFunction::Gaussian ? f32_dwgate_gaussian__scalar : f32_dwgate__scalar;
}

VariantList<DwGateVariant> dwgate_variants() {
  return {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};
}

DwGateFn select_dwgate(int block, GateFunction gate) {
  const DwGateVariant *v =
      first_variant(dwgate_variants(), active_isa(),
                    [&](const DwGateVariant &c) { return c.block == block && c.gate == gate; });
  return v ? v->fn : dwgate_reference(gate);
}

DwGateFn select_dwgate(int block) { return select_dwgate(block, GateFunction::Sigmoid); }

}  // namespace xunit::kernels
