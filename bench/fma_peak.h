// The machine's FP32 fused-multiply-add peak, measured: the denominator of "% of peak".
#pragma once

namespace xunit::bench {

// GFLOP/s of `threads` threads running independent FMA chains on the widest vectors the CPU
// (or XUNIT_ISA) allows, for about `seconds`.
double measure_fma_peak_gflops(int threads, double seconds = 0.3);

}  // namespace xunit::bench
