#include "bench/fma_peak.h"

#include <omp.h>

#include <algorithm>
#include <chrono>

#include "kernels/isa.h"

namespace xunit::bench {

// One loop per ISA, each in its own translation unit with its own -m flags.
double fma_loop_avx512(long iterations);  // returns flops done
double fma_loop_avx2(long iterations);
double fma_loop_scalar(long iterations);

double measure_fma_peak_gflops(int threads, double seconds) {
  const kernels::Isa isa = kernels::active_isa();
  auto loop = isa >= kernels::Isa::Avx512 ? fma_loop_avx512
              : isa >= kernels::Isa::Avx2 ? fma_loop_avx2
                                          : fma_loop_scalar;
  loop(1000);  // warm up (and wake the cores)
  double best = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    double flops = 0;
    const auto t0 = std::chrono::steady_clock::now();
    long iterations = 1 << 16;
    double elapsed = 0;
    while (elapsed < seconds / 3) {
#pragma omp parallel for num_threads(threads) reduction(+ : flops)
      for (int t = 0; t < threads; ++t) flops += loop(iterations);
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      iterations *= 2;
    }
    best = std::max(best, flops / elapsed / 1e9);
  }
  return best;
}

}  // namespace xunit::bench
