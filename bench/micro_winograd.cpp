// Microbenchmarks of the Winograd F(4x4, 3x3) variants (kernels/winograd): one thread, a chunk
// of 32 rows of a 512-wide 3x3 conv between feature maps, the xDnCNN/xSRGAN body layer.
// GFLOP/s counts the direct conv's arithmetic (what the result is worth), so it can exceed
// the FMA peak.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "bench/micro_main.h"
#include "kernels/isa.h"
#include "kernels/winograd/winograd.h"

namespace {

using namespace xunit::kernels;

void run(benchmark::State &state, WinogradFn fn, int block, Products products) {
  const int width = int(state.range(0)), rows = int(state.range(1)), in = int(state.range(2)),
            out = int(state.range(3));
  const int ip = (in + block - 1) / block, op = (out + block - 1) / block;
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> src(size_t(ip) * (rows + 2) * width * block),
      dst(size_t(op) * rows * width * block);
  std::vector<float> w(size_t(out) * in * 9), bias(size_t(op) * block, 0.1f);
  for (auto *v : {&src, &w})
    for (auto &x : *v) x = d(rng) * 0.3f;
  const WinogradWeights packed = winograd_pack(w.data(), out, in, block, products);
  std::vector<float> scratch(winograd_scratch_floats(ip, op, block));
  WinogradParams p;
  p.src = src.data();
  p.dst = dst.data();
  p.weights = packed.data();
  p.bias = bias.data();
  p.rows = rows;
  p.width = width;
  p.block = block;
  p.in_planes = ip;
  p.out_planes = op;
  p.tile_row_end = (rows + 3) / 4;
  p.tile_col_end = (width + 3) / 4;
  p.scratch = scratch.data();
  for (auto _ : state) {
    fn(p);
    benchmark::ClobberMemory();
  }
  const double macs = double(rows) * width * in * out * 9;
  state.counters["GFLOP/s"] =
      benchmark::Counter(2 * macs * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
}

void shapes(benchmark::internal::Benchmark *b) {
  b->Args({512, 32, 64, 64});
  b->Args({512, 32, 48, 48});
  b->Args({512, 32, 32, 32});
  b->Args({512, 32, 16, 16});
}

// Every registered variant (kernels/winograd/winograd_select.cpp) and the reference.
void register_all() {
  for (Products products : {Products::F32, Products::Bf16})
    benchmark::RegisterBenchmark(
        products == Products::F32 ? "winograd_f32_f4x4_3x3__scalar"
                                  : "winograd_bf16_f4x4_3x3__scalar",
        [products](benchmark::State &s) { run(s, winograd_reference(products), 8, products); })
        ->Args({64, 4, 64, 64});
  for (const WinogradVariant &v : winograd_variants())
    benchmark::RegisterBenchmark((std::string("winograd_") + v.name).c_str(), [v](benchmark::State
                                                                                      &s) {
      if (int(cpu_isa()) < int(v.isa))
        return s.SkipWithError((std::string("needs ") + isa_name(v.isa)).c_str());
      run(s, v.fn, v.block, v.products);
    })->Apply(shapes);
}

}  // namespace

int main(int argc, char **argv) {
  return xunit::bench::run_microbenchmarks(argc, argv, register_all);
}
