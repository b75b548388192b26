// Microbenchmarks of the conv-to-few-channels variants (kernels/conv_o4): one thread, the last
// layer of a restoration network (64 features -> 3 channels, 5x5) on a chunk of rows.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "bench/micro_main.h"
#include "kernels/conv_o4/conv_o4.h"
#include "kernels/isa.h"

namespace {

using namespace xunit::kernels;

void run(benchmark::State &state, ConvO4Fn fn, int block) {
  const int width = int(state.range(0)), rows = int(state.range(1)), kernel = int(state.range(2));
  const int out = int(state.range(3)), channels = int(state.range(4)), planes = channels / block,
            in_n = rows + kernel - 1;
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> input(size_t(planes) * in_n * width * block),
      output(size_t(out) * rows * width);
  std::vector<float> weights(size_t(out) * planes * kernel * kernel * block), bias(4, 0.1f);
  for (auto *v : {&input, &weights})
    for (auto &x : *v) x = d(rng) * 0.3f;
  std::vector<const float *> in_ptrs;
  std::vector<float *> out_ptrs;
  for (int i = 0; i < planes * in_n; ++i)
    in_ptrs.push_back(input.data() + size_t(i) * width * block);
  for (int i = 0; i < out * rows; ++i) out_ptrs.push_back(output.data() + size_t(i) * width);
  ConvO4Params p;
  p.in_rows = in_ptrs.data();
  p.out_rows = out_ptrs.data();
  p.weights = weights.data();
  p.bias = bias.data();
  p.rows = rows;
  p.width = width;
  p.kernel = kernel;
  p.block = block;
  p.planes = planes;
  p.out_channels = out;
  p.in_stride = in_n;
  p.out_stride = rows;
  for (auto _ : state) {
    fn(p);
    benchmark::ClobberMemory();
  }
  const double macs = double(rows) * width * channels * kernel * kernel * out;
  state.counters["GFLOP/s"] =
      benchmark::Counter(2 * macs * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["GB/s"] = benchmark::Counter(
      double(rows) * width * (channels + out) * 4 * 1e-9 * double(state.iterations()),
      benchmark::Counter::kIsRate);
}

void shapes(benchmark::internal::Benchmark *b) {
  b->Args({512, 32, 5, 3, 64});
  b->Args({512, 32, 5, 1, 64});
  b->Args({512, 32, 3, 3, 64});
  b->Args({512, 32, 5, 3, 208});  // the tail of a Dense xUnit network
}

// Every registered variant (kernels/conv_o4/conv_o4_select.cpp) and the reference.
void register_all() {
  benchmark::RegisterBenchmark("f32_conv_o4__scalar", [](benchmark::State &s) {
    run(s, f32_conv_o4__scalar, 16);
  })->Args({512, 2, 5, 3, 64});
  for (const ConvO4Variant &v : conv_o4_variants())
    benchmark::RegisterBenchmark(
        (std::string("f32_conv_o4_") + v.name).c_str(),
        [v](benchmark::State &s) {
          if (int(cpu_isa()) < int(v.isa))
            return s.SkipWithError((std::string("needs ") + isa_name(v.isa)).c_str());
          run(s, v.fn, v.block);
        })
        ->Apply(shapes);
}

}  // namespace

int main(int argc, char **argv) {
  return xunit::bench::run_microbenchmarks(argc, argv, register_all);
}
