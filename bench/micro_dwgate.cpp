// Microbenchmarks of every registered dw-conv+gate variant (kernels/dwgate), both gates: one
// thread, one channel block, a chunk of rows as the engine streams it. Counters: GFLOP/s of the
// depthwise conv (2 flops per tap and lane), GB/s of the rows read and written once, and ns per
// output element.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "bench/micro_main.h"
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
  // Time per output element (one pixel of one lane): comparable across gates and blocks.
  state.counters["ns/elem"] =
      benchmark::Counter(pixels * 1e-9 * double(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Every registered variant (kernels/dwgate/dwgate_select.cpp) and the references, named
// f32_dwgate[_gaussian]_<block>__<isa>: the gates compare at equal names. Kernel 7 and 9
// (the xUnit paper's) at an engine-like chunk, 3 and 5 and other widths for the sigmoid.
void register_all() {
  auto add = [](const std::string &name, DwGateFn fn, int block, Isa isa, bool all_shapes) {
    benchmark::internal::Benchmark *b =
        benchmark::RegisterBenchmark(name.c_str(), [fn, block, isa](benchmark::State &s) {
          if (int(cpu_isa()) < int(isa))
            return s.SkipWithError((std::string("needs ") + isa_name(isa)).c_str());
          run(s, fn, block);
        });
    for (int kernel : {7, 9}) b->Args({512, 32, kernel});
    if (all_shapes) {
      for (int kernel : {3, 5}) b->Args({512, 32, kernel});
      b->Args({64, 8, 7});
      b->Args({2048, 8, 7});
    }
  };
  for (const DwGateVariant &v : dwgate_variants())
    add(std::string("f32_dwgate_") + v.name, v.fn, v.block, v.isa, v.gate == GateFunction::Sigmoid);
  for (GateFunction gate : {GateFunction::Sigmoid, GateFunction::Gaussian})
    add(std::string("f32_dwgate_") + (gate == GateFunction::Sigmoid ? "" : "gaussian_") + "_scalar",
        dwgate_reference(gate), 16, Isa::Scalar, false);
}

}  // namespace

int main(int argc, char **argv) {
  return xunit::bench::run_microbenchmarks(argc, argv, register_all);
}
