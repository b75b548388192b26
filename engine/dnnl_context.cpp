#include "engine/dnnl_context.h"

#include <string>

#include "common/error.h"
#include "engine/dnnl_isa.h"

namespace xunit {

dnnl::engine &dnnl_cpu_engine() {
  static dnnl::engine engine = [] {
    // XUNIT_ISA lowers oneDNN's instruction set as well as ours, so that a forced path is the
    // whole path: the cap follows kernels::active_isa() (engine/dnnl_isa.h). It must happen
    // before oneDNN generates any code.
    const dnnl::cpu_isa cap = dnnl_isa_cap(kernels::active_isa(), kernels::cpu_isa());
    if (cap != dnnl::cpu_isa::all) dnnl::set_max_cpu_isa(cap);
    return dnnl::engine(dnnl::engine::kind::cpu, 0);
  }();
  return engine;
}

dnnl::stream &dnnl_thread_stream() {
  thread_local dnnl::stream stream(dnnl_cpu_engine());
  return stream;
}

dnnl::memory::format_tag dnnl_layout(int block) {
  using tag = dnnl::memory::format_tag;
  if (block == 16) return tag::nChw16c;
  if (block == 8) return tag::nChw8c;
  if (block == 1) return tag::nchw;
  throw Error("internal error: no oneDNN layout for channel block " + std::to_string(block));
}

}  // namespace xunit
