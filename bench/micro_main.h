// The main() of every kernel microbenchmark: register the family's variants (found in its
// registry at run time), then Google Benchmark's usual flags and run.
#pragma once
#include <benchmark/benchmark.h>

namespace xunit::bench {

inline int run_microbenchmarks(int argc, char **argv, void (*register_all)()) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace xunit::bench
