// Microbenchmarks of the affine+activation variants (kernels/affine_act): one thread, in place,
// one row of 512 pixels of a 64-channel value (8 planes of 8 lanes or 4 of 16), BatchNorm ->
// ReLU and BatchNorm -> PReLU.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/micro_main.h"
#include "kernels/affine_act/affine_act.h"
#include "kernels/isa.h"

namespace {

using namespace xunit::kernels;

void run(benchmark::State &state, AffineActFn fn, int block) {
  const int width = 512, planes = 64 / block;
  const Activation act = state.range(0) ? Activation::Slope : Activation::Relu;
  std::vector<float> rows(size_t(width) * 64), s(size_t(block), 1.1f), t(size_t(block), -0.1f),
      a(size_t(block), 0.2f);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = float(int(i % 17) - 8) * 0.1f;
  AffineActParams p;
  p.scale = s.data();
  p.shift = t.data();
  p.slope = a.data();
  p.act = act;
  p.pixels = size_t(width);
  p.block = block;
  for (auto _ : state) {
    for (int pl = 0; pl < planes; ++pl) {
      p.src = p.dst = rows.data() + size_t(pl) * width * block;
      fn(p);
    }
    benchmark::ClobberMemory();
  }
  state.counters["GB/s"] = benchmark::Counter(
      2.0 * 4 * double(rows.size()) * double(state.iterations()), benchmark::Counter::kIsRate);
}

void register_all() {
  for (int block : {8, 16})
    benchmark::RegisterBenchmark(
        ("f32_affine_act__scalar/c" + std::to_string(block)).c_str(),
        [block](benchmark::State &s) { run(s, f32_affine_act__scalar, block); })
        ->Arg(0)
        ->Arg(1);
  for (const AffineActVariant &v : affine_act_variants())
    benchmark::RegisterBenchmark(
        (std::string("f32_affine_act_") + v.name).c_str(),
        [v](benchmark::State &s) {
          if (int(cpu_isa()) < int(v.isa))
            return s.SkipWithError((std::string("needs ") + isa_name(v.isa)).c_str());
          run(s, v.fn, v.block);
        })
        ->Arg(0)
        ->Arg(1);
}

}  // namespace

int main(int argc, char **argv) {
  return xunit::bench::run_microbenchmarks(argc, argv, register_all);
}
