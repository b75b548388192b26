// ISA detection: the levels match the flags their translation units are compiled with.
#include <doctest/doctest.h>

#include <set>
#include <sstream>
#include <string>

#include "kernels/isa.h"

using xunit::kernels::Isa;
namespace kernels = xunit::kernels;

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
