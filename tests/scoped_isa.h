// Forcing the kernels' instruction set for one scope in a test: the previous state comes back when
// the scope ends, also when a REQUIRE or an exception leaves it early, so that one test's override
// never leaks into the tests after it. Tests set the override only through this guard.
#pragma once
#include "kernels/isa.h"

namespace xunit::testing {

class ScopedIsa {
 public:
  explicit ScopedIsa(kernels::Isa isa) : previous_(current()) {
    kernels::set_isa_override(isa);
    current() = int(isa);
  }
  ~ScopedIsa() {
    if (previous_ < 0)
      kernels::clear_isa_override();
    else
      kernels::set_isa_override(kernels::Isa(previous_));
    current() = previous_;
  }
  ScopedIsa(const ScopedIsa &) = delete;
  ScopedIsa &operator=(const ScopedIsa &) = delete;

 private:
  // kernels/isa.h has no getter for the override: the guards keep the state they set (-1: none).
  static int &current() {
    static int isa = -1;
    return isa;
  }
  int previous_;
};

}  // namespace xunit::testing
