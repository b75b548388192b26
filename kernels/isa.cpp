#include "kernels/isa.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace xunit::kernels {

namespace {

std::atomic<int> g_override{-1};

// The features of each level beyond the one below it: one per -m flag of the level's
// translation units (XUNIT_AVX2_FLAGS, XUNIT_AVX512_FLAGS, XUNIT_AVX512BF16_FLAGS).
struct LevelFeature {
  Isa level;
  const char *name;
};
constexpr LevelFeature kLevelFeatures[] = {
    {Isa::Avx2, "avx2"},
    {Isa::Avx2, "fma"},
    {Isa::Avx512, "avx512f"},
    {Isa::Avx512, "avx512bw"},
    {Isa::Avx512, "avx512vl"},
    {Isa::Avx512, "avx512dq"},
    {Isa::Avx512Bf16, "avx512bf16"},
};

}  // namespace

std::vector<const char *> isa_features(Isa isa) {
  std::vector<const char *> f;
  for (const LevelFeature &lf : kLevelFeatures)
    if (int(lf.level) <= int(isa)) f.push_back(lf.name);
  return f;
}

int cpu_has_feature(const char *name) {
  __builtin_cpu_init();
  // (__builtin_cpu_supports takes a string literal only.)
#define XUNIT_FEATURE(f) \
  if (std::strcmp(name, f) == 0) return __builtin_cpu_supports(f) ? 1 : 0;
  XUNIT_FEATURE("avx2")
  XUNIT_FEATURE("fma")
  XUNIT_FEATURE("avx512f")
  XUNIT_FEATURE("avx512bw")
  XUNIT_FEATURE("avx512vl")
  XUNIT_FEATURE("avx512dq")
  XUNIT_FEATURE("avx512bf16")
#undef XUNIT_FEATURE
  return -1;
}

Isa cpu_isa() {
  Isa best = Isa::Scalar;
  for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16}) {
    for (const char *f : isa_features(isa))
      if (cpu_has_feature(f) != 1) return best;
    best = isa;
  }
  return best;
}

Isa isa_from_env(const char *value, Isa cpu) {
  Isa isa;
  if (!value || !parse_isa(value, &isa) || int(isa) > int(cpu)) return cpu;
  return isa;
}

Isa active_isa() {
  static const Isa cpu = cpu_isa();
  static const Isa env = isa_from_env(std::getenv("XUNIT_ISA"), cpu);
  const int want = g_override.load();
  if (want < 0) return env;
  return want > int(cpu) ? cpu : Isa(want);
}

void set_isa_override(Isa isa) { g_override.store(int(isa)); }
void clear_isa_override() { g_override.store(-1); }

const char *isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return "scalar";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
    case Isa::Avx512Bf16:
      return "avx512bf16";
  }
  return "?";
}

bool parse_isa(const char *name, Isa *out) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16})
    if (std::strcmp(name, isa_name(isa)) == 0) {
      *out = isa;
      return true;
    }
  return false;
}

}  // namespace xunit::kernels
