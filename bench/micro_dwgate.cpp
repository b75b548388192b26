// Microbenchmarks of every dw-conv+gate variant (kernels/dwgate): one thread, one channel block,
// a chunk of rows as the engine streams it. Counters: GFLOP/s of the depthwise conv (2 flops per
// tap and lane) and GB/s of the rows read and written once.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "kernels/dwgate/dwgate.h"
#include "kernels/isa.h"

namespace {

using namespace xunit::kernels;

void run(benchmark::State &state, DwGateFn fn, int block) {
  const int width = int(state.range(0)), rows = int(state.range(1)), kernel = int(state.range(2));
  const int in_rows = rows + kernel - 1;
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> input(size_t(in_rows) * width * block), output(size_t(rows) * width * block);
  const size_t lanes = size_t(block);
  std::vector<float> weights(size_t(kernel) * kernel * lanes), bias(lanes);
  for (auto *v : {&input, &weights, &bias})
    for (auto &x : *v) x = d(rng) * 0.3f;
  std::vector<const float *> in_ptrs;
  std::vector<float *> out_ptrs;
  for (int i = 0; i < in_rows; ++i) in_ptrs.push_back(input.data() + size_t(i) * width * block);
  for (int i = 0; i < rows; ++i) out_ptrs.push_back(output.data() + size_t(i) * width * block);
  DwGateParams p;
  p.in_rows = in_ptrs.data();
  p.out_rows = out_ptrs.data();
  p.weights = weights.data();
  p.bias = bias.data();
  p.rows = rows;
  p.width = width;
  p.kernel = kernel;
  p.block = block;
  for (auto _ : state) {
    fn(p);
    benchmark::ClobberMemory();
  }
  const double pixels = double(rows) * width * block;
  state.counters["GFLOP/s"] =
      benchmark::Counter(pixels * kernel * kernel * 2 * 1e-9 * double(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["GB/s"] = benchmark::Counter(
      pixels * 2 * sizeof(float) * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
}

void shapes(benchmark::internal::Benchmark *b) {
  for (int kernel : {3, 5, 7}) b->Args({512, 32, kernel});
  b->Args({64, 8, 7});
  b->Args({2048, 8, 7});
}

void BM_f32_dwgate__scalar(benchmark::State &s) { run(s, f32_dwgate__scalar, 16); }
void BM_f32_dwgate_c8__avx2(benchmark::State &s) {
  if (cpu_isa() < Isa::Avx2) return s.SkipWithError("no AVX2");
  run(s, f32_dwgate_c8__avx2, 8);
}
void BM_f32_dwgate_c16__avx2(benchmark::State &s) {
  if (cpu_isa() < Isa::Avx2) return s.SkipWithError("no AVX2");
  run(s, f32_dwgate_c16__avx2, 16);
}
void BM_f32_dwgate_c16__avx512(benchmark::State &s) {
  if (cpu_isa() < Isa::Avx512) return s.SkipWithError("no AVX-512");
  run(s, f32_dwgate_c16__avx512, 16);
}

BENCHMARK(BM_f32_dwgate__scalar)->Args({512, 4, 7});
BENCHMARK(BM_f32_dwgate_c8__avx2)->Apply(shapes);
BENCHMARK(BM_f32_dwgate_c16__avx2)->Apply(shapes);
BENCHMARK(BM_f32_dwgate_c16__avx512)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();
