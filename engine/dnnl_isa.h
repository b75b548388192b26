// One meaning of XUNIT_ISA for our kernels and oneDNN alike: oneDNN's instruction-set cap is
// derived from kernels::active_isa() (which parses XUNIT_ISA and applies set_isa_override), by
// this one mapping.
#pragma once

#include <dnnl.hpp>

#include "kernels/isa.h"

namespace xunit {

// oneDNN's counterpart of one of our levels.
inline dnnl::cpu_isa dnnl_isa_for(kernels::Isa isa) {
  switch (isa) {
    case kernels::Isa::Scalar:
      return dnnl::cpu_isa::sse41;  // oneDNN's lowest JIT level
    case kernels::Isa::Avx2:
      return dnnl::cpu_isa::avx2;
    case kernels::Isa::Avx512:
      return dnnl::cpu_isa::avx512_core;
    case kernels::Isa::Avx512Bf16:
      return dnnl::cpu_isa::avx512_core_bf16;
  }
  return dnnl::cpu_isa::all;
}

// The cap to give oneDNN when our active level is `active` on a CPU of level `cpu`: none
// (dnnl::cpu_isa::all) unless the level was lowered below the CPU's (XUNIT_ISA, an override),
// so that oneDNN keeps whatever the CPU has beyond our levels (VNNI, AMX) when nothing was
// forced, and a forced path is the whole path when something was.
inline dnnl::cpu_isa dnnl_isa_cap(kernels::Isa active, kernels::Isa cpu) {
  return int(active) < int(cpu) ? dnnl_isa_for(active) : dnnl::cpu_isa::all;
}

}  // namespace xunit
