// Microbenchmarks of the pointwise-conv variants (kernels/pointwise): one thread, a chunk of 8
// rows of 512 pixels. Shapes of a Dense xUnit network: a dense layer's BN -> ReLU -> conv1x1
// (C -> 32, then ReLU) and a transition (C -> C/2); the same without the pre-activation.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "bench/micro_main.h"
#include "kernels/convert/convert.h"
#include "kernels/isa.h"
#include "kernels/pointwise/pointwise.h"

namespace {

using namespace xunit::kernels;

void run(benchmark::State &state, PointwiseFn fn, int block, Products products) {
  const int width = 512, rows = 8, in_c = int(state.range(0)), out_c = int(state.range(1));
  const bool pre = state.range(2) != 0;
  const int in_planes = in_c / block, out_planes = out_c / block;
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> input(size_t(in_c) * rows * width), output(size_t(out_c) * rows * width);
  std::vector<float> weights(size_t(in_c) * out_c), bias(size_t(out_c), 0.1f),
      s(size_t(in_c), 1.1f), t(size_t(in_c), -0.1f),
      zeros(size_t(in_c > out_c ? in_c : out_c), 0.f);
  for (auto *v : {&input, &weights})
    for (auto &x : *v) x = d(rng) * 0.3f;
  std::vector<const float *> in_ptrs;
  std::vector<float *> out_ptrs;
  for (int i = 0; i < in_planes * rows; ++i)
    in_ptrs.push_back(input.data() + size_t(i) * width * block);
  for (int i = 0; i < out_planes * rows; ++i)
    out_ptrs.push_back(output.data() + size_t(i) * width * block);
  PointwiseParams p;
  p.in_rows = in_ptrs.data();
  p.out_rows = out_ptrs.data();
  const std::vector<uint16_t> packed =
      pack_bf16_input_pairs(weights.data(), size_t(in_c), size_t(out_c));
  p.weights = products == Products::Bf16 ? static_cast<const void *>(packed.data())
                                         : static_cast<const void *>(weights.data());
  p.bias = bias.data();
  if (pre) p.pre_scale = s.data(), p.pre_shift = t.data(), p.pre_slope = zeros.data();
  p.post_slope = zeros.data();
  p.rows = rows;
  p.width = width;
  p.block = block;
  p.in_planes = in_planes;
  p.out_planes = out_planes;
  std::vector<float> scratch(size_t(pointwise_scratch_floats(p)));
  p.scratch = scratch.data();
  for (auto _ : state) {
    fn(p);
    benchmark::ClobberMemory();
  }
  const double macs = double(rows) * width * in_c * out_c;
  state.counters["GFLOP/s"] =
      benchmark::Counter(2 * macs * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
}

void shapes(benchmark::internal::Benchmark *b) {
  for (int pre : {1, 0}) {
    b->Args({128, 32, pre});  // dense layer bottleneck
    b->Args({192, 32, pre});
    b->Args({160, 80, pre});  // transition
  }
}

// Every registered variant (kernels/pointwise/pointwise_select.cpp) and the reference.
void register_all() {
  for (Products products : {Products::F32, Products::Bf16})
    benchmark::RegisterBenchmark(
        products == Products::F32 ? "pointwise_f32__scalar" : "pointwise_bf16__scalar",
        [products](benchmark::State &s) { run(s, pointwise_reference(products), 16, products); })
        ->Args({128, 32, 1});
  for (const PointwiseVariant &v : pointwise_variants())
    benchmark::RegisterBenchmark((std::string("pointwise_") + v.name).c_str(), [v](benchmark::State
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
