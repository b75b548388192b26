// Runtime instruction-set selection. XUNIT_ISA=scalar|avx2|avx512|avx512bf16 forces a path (never
// one the CPU lacks: asking for more than the CPU has falls back to the best available one).
#pragma once

#include <vector>

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

// The level XUNIT_ISA=`value` gives on a CPU of level `cpu`: min(parsed value, cpu); `cpu` when
// `value` is null or not a level name. active_isa() without an override.
Isa isa_from_env(const char *value, Isa cpu);

// The CPU features (__builtin_cpu_supports names) a level needs, those of the levels below
// included: one per -m flag its translation units are compiled with (top CMakeLists.txt:
// XUNIT_AVX2_FLAGS, XUNIT_AVX512_FLAGS, XUNIT_AVX512BF16_FLAGS). cpu_isa() is the highest level
// whose features the CPU all has.
std::vector<const char *> isa_features(Isa isa);
// 1 if the CPU has the feature, 0 if not, -1 for a name no level uses.
int cpu_has_feature(const char *name);

}  // namespace xunit::kernels
