// ISA detection and XUNIT_ISA: the levels match the flags their translation units are compiled
// with, and XUNIT_ISA means the same for our kernels and for oneDNN.
#include <doctest/doctest.h>

#include <set>
#include <sstream>
#include <string>

#include "engine/dnnl_isa.h"
#include "kernels/isa.h"

using namespace xunit;
using kernels::Isa;

namespace {

constexpr Isa kLevels[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16};

// The X of every -mX in a flag list ("-mavx2 -mfma -Wno-x" -> {avx2, fma}).
std::set<std::string> m_flags(const std::string &flags) {
  std::set<std::string> out;
  std::istringstream in(flags);
  std::string f;
  while (in >> f)
    if (f.rfind("-m", 0) == 0) out.insert(f.substr(2));
  return out;
}

std::set<std::string> features(Isa isa) {
  std::set<std::string> out;
  for (const char *f : kernels::isa_features(isa)) out.insert(f);
  return out;
}

}  // namespace

TEST_CASE("ISA: each level needs exactly the -m flags its translation units are compiled with") {
  CHECK(features(Isa::Scalar).empty());
  CHECK(features(Isa::Avx2) == m_flags(XUNIT_AVX2_FLAGS_TEXT));
  CHECK(features(Isa::Avx512) == m_flags(XUNIT_AVX512_FLAGS_TEXT));
  CHECK(features(Isa::Avx512Bf16) == m_flags(XUNIT_AVX512BF16_FLAGS_TEXT));
  CHECK(features(Isa::Avx512).count("avx512dq") == 1);
  for (Isa level : kLevels)
    for (const char *f : kernels::isa_features(level)) {
      CAPTURE(f);
      CHECK(kernels::cpu_has_feature(f) != -1);  // a name cpu_has_feature() knows
    }
  CHECK(kernels::cpu_has_feature("sse9") == -1);
}

TEST_CASE("ISA: cpu_isa() is the highest level whose features the CPU all has") {
  const Isa cpu = kernels::cpu_isa();
  for (Isa level : kLevels) {
    bool all = true;
    for (const char *f : kernels::isa_features(level))
      all = all && kernels::cpu_has_feature(f) == 1;
    CAPTURE(kernels::isa_name(level));
    // Levels are cumulative: the CPU has all of a level's features exactly up to cpu_isa().
    CHECK(all == (int(level) <= int(cpu)));
  }
  MESSAGE("this CPU: " << std::string(kernels::isa_name(cpu)));
}

TEST_CASE("ISA: XUNIT_ISA=avx512bf16 parses and never lowers the level below the CPU's") {
  Isa parsed;
  REQUIRE(kernels::parse_isa("avx512bf16", &parsed));
  CHECK(parsed == Isa::Avx512Bf16);
  for (Isa cpu : kLevels) {
    CAPTURE(kernels::isa_name(cpu));
    // The highest level: whatever the CPU has, and no cap on oneDNN.
    CHECK(kernels::isa_from_env("avx512bf16", cpu) == cpu);
    CHECK((dnnl_isa_cap(kernels::isa_from_env("avx512bf16", cpu), cpu) == dnnl::cpu_isa::all));
    // Nothing set or nonsense: the CPU's level, no cap.
    CHECK(kernels::isa_from_env(nullptr, cpu) == cpu);
    CHECK(kernels::isa_from_env("sse9", cpu) == cpu);
    // Any level: at most the CPU's, and oneDNN capped exactly when ours was lowered.
    for (Isa want : kLevels) {
      const Isa got = kernels::isa_from_env(kernels::isa_name(want), cpu);
      CHECK(got == (int(want) < int(cpu) ? want : cpu));
      CHECK((dnnl_isa_cap(got, cpu) ==
             (int(got) < int(cpu) ? dnnl_isa_for(got) : dnnl::cpu_isa::all)));
    }
  }
  // The one mapping of our levels to oneDNN's.
  CHECK((dnnl_isa_for(Isa::Scalar) == dnnl::cpu_isa::sse41));
  CHECK((dnnl_isa_for(Isa::Avx2) == dnnl::cpu_isa::avx2));
  CHECK((dnnl_isa_for(Isa::Avx512) == dnnl::cpu_isa::avx512_core));
  CHECK((dnnl_isa_for(Isa::Avx512Bf16) == dnnl::cpu_isa::avx512_core_bf16));
  // The old reading capped oneDNN at SSE4.1 for avx512bf16: never again on this CPU.
  CHECK((dnnl_isa_cap(kernels::isa_from_env("avx512bf16", kernels::cpu_isa()),
                      kernels::cpu_isa()) == dnnl::cpu_isa::all));
}
