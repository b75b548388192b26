// Runtime instruction-set selection. XUNIT_ISA=scalar|avx2|avx512|avx512bf16 forces a path (never
// one the CPU lacks: asking for more than the CPU has falls back to the best available one).
#pragma once

namespace xunit::kernels {

// Ordered: each level includes the ones below. Avx512Bf16 adds the bfloat16 conversions and
// dot products (Cooper Lake, Sapphire Rapids, Zen 4).
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Avx512Bf16 = 3 };

Isa cpu_isa();                   // what this CPU supports (cpuid + OS xsave state)
Isa active_isa();                // cpu_isa(), lowered by XUNIT_ISA or set_isa_override()
void set_isa_override(Isa isa);  // for tests; the effective ISA is min(isa, cpu_isa())
void clear_isa_override();
const char *isa_name(Isa isa);
bool parse_isa(const char *name, Isa *out);

}  // namespace xunit::kernels
