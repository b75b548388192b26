#include "kernels/isa.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace xunit::kernels {

namespace {
std::atomic<int> g_override{-1};
}

Isa cpu_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    return __builtin_cpu_supports("avx512bf16") ? Isa::Avx512Bf16 : Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
  return Isa::Scalar;
}

Isa active_isa() {
  static const Isa cpu = cpu_isa();
  static const int env = [] {
    const char *s = std::getenv("XUNIT_ISA");
    Isa isa;
    return s && parse_isa(s, &isa) ? int(isa) : -1;
  }();
  int want = g_override.load();
  if (want < 0) want = env;
  if (want < 0 || want > int(cpu)) return cpu;
  return Isa(want);
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
