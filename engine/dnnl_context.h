// What every oneDNN primitive of the engine shares: one CPU engine (its instruction set capped
// as XUNIT_ISA says, before any code is generated), a stream per thread, and our channel blocks
// as oneDNN memory layouts.
#pragma once
#include <dnnl.hpp>

namespace xunit {

dnnl::engine &dnnl_cpu_engine();
dnnl::stream &dnnl_thread_stream();
// nChw16c, nChw8c, or nchw for block 1.
dnnl::memory::format_tag dnnl_layout(int block);

}  // namespace xunit
