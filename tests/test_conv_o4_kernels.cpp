// Every registered conv-to-few-channels variant (kernels/conv_o4/conv_o4_select.cpp) against the
// scalar reference over many shapes and borders. A variant the CPU can run but the test did not
// exercise is a failure.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kernels/conv_o4/conv_o4.h"
#include "kernels/isa.h"
#include "scoped_isa.h"

using namespace xunit::kernels;

namespace {

// Largest |got - want| / max(1, |want|) of `fn` against the reference on random rows.
float compare(ConvO4Fn fn, int block, int planes, int out_channels, int rows, int width, int kernel,
              unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  const int in_n = rows + kernel - 1;
  const size_t row_floats = size_t(width) * block;
  std::vector<std::vector<float>> input(size_t(planes) * in_n, std::vector<float>(row_floats));
  for (auto &row : input)
    for (auto &x : row) x = d(rng);
  std::vector<float> weights(size_t(out_channels) * planes * kernel * kernel * block), bias(4);
  for (auto &x : weights) x = d(rng) * 0.1f;
  for (auto &x : bias) x = d(rng);
  std::vector<const float *> in_ptrs;
  for (auto &row : input) in_ptrs.push_back(row.data());
  std::vector<std::vector<float>> want(size_t(out_channels) * rows,
                                       std::vector<float>(size_t(width), -1.f));
  std::vector<std::vector<float>> got(size_t(out_channels) * rows,
                                      std::vector<float>(size_t(width), -2.f));
  std::vector<float *> want_ptrs, got_ptrs;
  for (auto &row : want) want_ptrs.push_back(row.data());
  for (auto &row : got) got_ptrs.push_back(row.data());
  ConvO4Params p;
  p.in_rows = in_ptrs.data();
  p.weights = weights.data();
  p.bias = bias.data();
  p.rows = rows;
  p.width = width;
  p.kernel = kernel;
  p.block = block;
  p.planes = planes;
  p.out_channels = out_channels;
  p.in_stride = in_n;
  p.out_stride = rows;
  p.out_rows = want_ptrs.data();
  f32_conv_o4__scalar(p);
  p.out_rows = got_ptrs.data();
  fn(p);
  float worst = 0;
  for (size_t r = 0; r < want.size(); ++r)
    for (int x = 0; x < width; ++x) {
      const float e = std::abs(got[r][size_t(x)] - want[r][size_t(x)]) /
                      std::max(1.f, std::abs(want[r][size_t(x)]));
      if (!(e <= worst)) worst = e;
    }
  return worst;
}

}  // namespace

TEST_CASE("conv_o4: every registered variant matches the scalar reference") {
  std::vector<ConvO4Variant> variants;
  for (const ConvO4Variant &v : conv_o4_variants()) {
    if (int(v.isa) <= int(cpu_isa()))
      variants.push_back(v);
    else
      MESSAGE("not run on this CPU (needs " << std::string(isa_name(v.isa))
                                            << "): " << std::string(v.name));
  }
  if (cpu_isa() >= Isa::Avx2) REQUIRE(!variants.empty());
  std::set<ConvO4Fn> exercised;
  unsigned seed = 1;
  float worst = 0;
  for (const ConvO4Variant &v : variants)
    for (int out : {1, 2, 3, 4})
      for (int kernel : {1, 3, 5})
        for (int planes : {1, 3, 9, 26})  // 26: several plane groups at any kernel
          for (int width : {1, 2, 4, 5, 6, 9, 13, 31})
            for (int rows : {1, 3}) {
              CAPTURE(v.name);
              CAPTURE(out);
              CAPTURE(kernel);
              CAPTURE(planes);
              CAPTURE(width);
              const float e = compare(v.fn, v.block, planes, out, rows, width, kernel, seed++);
              CHECK(e <= 5e-5f);  // summation order only: up to 3600 terms
              worst = std::max(worst, e);
              exercised.insert(v.fn);
            }
  MESSAGE("largest relative difference to the reference: " << worst);
  for (const ConvO4Variant &v : conv_o4_variants())
    if (int(v.isa) <= int(cpu_isa())) {
      INFO("registered, runnable here, not exercised: " << std::string(v.name));
      CHECK(exercised.count(v.fn) == 1);
    }
  // The comparison can fail: a wrong bias is seen.
  auto off = [](const ConvO4Params &p) {
    f32_conv_o4__scalar(p);
    p.out_rows[0][0] += 1e-3f;
  };
  CHECK(compare(off, 8, 1, 1, 1, 5, 3, 1) > 5e-5f);
}

TEST_CASE("conv_o4: the selection follows the ISA override") {
  std::set<int> blocks{1, 8, 16};
  for (const ConvO4Variant &v : conv_o4_variants()) blocks.insert(v.block);
  std::set<ConvO4Fn> selected;
  for (Isa level : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16}) {
    if (int(level) > int(cpu_isa())) continue;
    const xunit::testing::ScopedIsa forced(level);
    REQUIRE(active_isa() == level);
    for (int block : blocks) {
      CAPTURE(isa_name(level));
      CAPTURE(block);
      const ConvO4Variant *best = nullptr;  // the highest ISA that fits the level and the block
      for (const ConvO4Variant &v : conv_o4_variants())
        if (v.block == block && int(v.isa) <= int(level) && (!best || int(v.isa) > int(best->isa)))
          best = &v;
      const ConvO4Fn got = select_conv_o4(block);
      CHECK((got == (best ? best->fn : f32_conv_o4__scalar)));
      selected.insert(got);
    }
  }
  for (const ConvO4Variant &v : conv_o4_variants())
    if (int(v.isa) <= int(cpu_isa())) {
      INFO("never selected: " << std::string(v.name));
      CHECK(selected.count(v.fn) == 1);
    }
  // No 16-lane AVX2 variant: the engine uses 8-lane blocks there.
  const xunit::testing::ScopedIsa avx2(Isa::Avx2);
  CHECK((select_conv_o4(16) == f32_conv_o4__scalar));
}
