// Every registered pointwise-conv variant (kernels/pointwise/pointwise_select.cpp) against the
// scalar reference (a runnable variant the test did not exercise is a failure): channel counts,
// widths (tiles and their remainders), output block groups, and each pre/post stage on and off.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/half.h"
#include "kernels/convert/convert.h"
#include "kernels/isa.h"
#include "kernels/pointwise/pointwise.h"
#include "scoped_isa.h"

using namespace xunit::kernels;

namespace {

// The registered variants this CPU can run.
std::vector<PointwiseVariant> runnable_variants() {
  std::vector<PointwiseVariant> v;
  for (const PointwiseVariant &d : pointwise_variants())
    if (int(d.isa) <= int(cpu_isa())) v.push_back(d);
  return v;
}

// One random problem; `stages` bit 0: pre affine, 1: pre activation, 2: post activation,
// 3: post affine. Returns the largest difference of `fn` to `ref` (by default the reference of
// `products`) relative to max(1, |ref|).
float compare(PointwiseFn fn, int block, int in_planes, int out_planes, int rows, int width,
              int stages, unsigned seed, Products products = Products::F32,
              PointwiseFn ref = nullptr) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  const int C = in_planes * block, O = out_planes * block;
  auto random = [&](size_t n, float scale) {
    std::vector<float> v(n);
    for (auto &x : v) x = d(rng) * scale;
    return v;
  };
  std::vector<float> input = random(size_t(C) * rows * width, 1.f);
  std::vector<float> weights = random(size_t(C) * O, 1.f / std::sqrt(float(C)));
  std::vector<float> bias = random(size_t(O), 0.3f), pre_s = random(size_t(C), 0.5f),
                     pre_t = random(size_t(C), 0.5f);
  std::vector<float> pre_a = random(size_t(C), 0.2f), post_a = random(size_t(O), 0.2f);
  std::vector<float> post_s = random(size_t(O), 0.5f), post_t = random(size_t(O), 0.5f);
  std::vector<const float *> in;
  for (int pl = 0; pl < in_planes; ++pl)
    for (int i = 0; i < rows; ++i)
      in.push_back(input.data() + (size_t(pl) * rows + i) * width * block);
  std::vector<float> want(size_t(O) * rows * width, -1.f), got(want.size(), -2.f);
  std::vector<float *> want_rows, got_rows;
  for (int q = 0; q < out_planes * rows; ++q) {
    want_rows.push_back(want.data() + size_t(q) * width * block);
    got_rows.push_back(got.data() + size_t(q) * width * block);
  }
  PointwiseParams p;
  p.in_rows = in.data();
  const std::vector<uint16_t> packed = pack_bf16_input_pairs(weights.data(), size_t(C), size_t(O));
  p.weights = products == Products::Bf16 ? static_cast<const void *>(packed.data())
                                         : static_cast<const void *>(weights.data());
  p.bias = bias.data();
  if (stages & 1) p.pre_scale = pre_s.data(), p.pre_shift = pre_t.data();
  if (stages & 2) p.pre_slope = pre_a.data();
  if (stages & 4) p.post_slope = post_a.data();
  if (stages & 8) p.post_scale = post_s.data(), p.post_shift = post_t.data();
  p.rows = rows;
  p.width = width;
  p.block = block;
  p.in_planes = in_planes;
  p.out_planes = out_planes;
  std::vector<float> scratch(size_t(pointwise_scratch_floats(p)) + 16);
  p.scratch = scratch.data();
  p.out_rows = want_rows.data();
  (ref ? ref : pointwise_reference(products))(p);
  p.out_rows = got_rows.data();
  fn(p);
  float worst = 0;
  for (size_t k = 0; k < want.size(); ++k) {
    const float e = std::abs(got[k] - want[k]) / std::max(1.f, std::abs(want[k]));
    if (!(e <= worst)) worst = e;  // NaN-propagating
  }
  return worst;
}

}  // namespace

TEST_CASE("pointwise: every registered variant matches the scalar reference") {
  std::vector<PointwiseVariant> variants = runnable_variants();
  if (cpu_isa() >= Isa::Avx2) REQUIRE(!variants.empty());
  std::set<PointwiseFn> exercised;
  unsigned seed = 1;
  float worst[2] = {0, 0};
  for (const PointwiseVariant &v : variants)
    for (int in_planes : {1, 2, 5, 13})
      for (int out_planes : {1, 2, 3, 4, 5, 9})
        for (int width : {1, 5, 13, 31})
          for (int stages : {0, 3, 12, 15, 2, 4}) {
            CAPTURE(v.name);
            CAPTURE(in_planes);
            CAPTURE(out_planes);
            CAPTURE(width);
            CAPTURE(stages);
            const float e = compare(v.fn, v.block, in_planes, out_planes, 1 + int(seed % 3), width,
                                    stages, seed, v.products);
            ++seed;
            // Summation order differs (FMA, per-block accumulators; bf16: pairs of products,
            // whose bf16 inputs are the reference's: its pre-affine is fused as theirs).
            CHECK(e <= 2e-5f);
            worst[int(v.products)] = std::max(worst[int(v.products)], e);
            exercised.insert(v.fn);
          }
  MESSAGE("largest relative difference to the reference: f32 " << worst[0] << ", bf16 "
                                                               << worst[1]);
  for (const PointwiseVariant &v : pointwise_variants()) {
    if (int(v.isa) > int(cpu_isa())) {
      MESSAGE("not run on this CPU (needs " << std::string(isa_name(v.isa))
                                            << "): " << std::string(v.name));
      continue;
    }
    INFO("registered, runnable here, not exercised: " << std::string(v.name));
    CHECK(exercised.count(v.fn) == 1);
  }
  // The comparison can fail: one wrong output is seen.
  auto off = [](const PointwiseParams &p) {
    f32_pointwise__scalar(p);
    p.out_rows[0][0] += 1e-3f;
  };
  CHECK(compare(off, 8, 1, 1, 1, 5, 15, 1) > 2e-5f);
  auto off_bf16 = [](const PointwiseParams &p) {
    bf16_pointwise__scalar(p);
    p.out_rows[0][0] += 1e-3f;
  };
  CHECK(compare(off_bf16, 16, 1, 1, 1, 5, 15, 1, Products::Bf16) > 2e-5f);
}

TEST_CASE("pointwise: the bf16 reference is the float one with bfloat16 operands") {
  // The float reference given the bf16-rounded weights (as floats) differs from the bf16 one
  // only by the rounding of the pre-activated inputs (2^-9 relative each).
  float worst = 0;
  unsigned seed = 7;
  for (int in_planes : {1, 4, 12})
    for (int stages : {0, 15}) {
      const float d = compare(
          [](const PointwiseParams &p) {
            PointwiseParams q = p;  // float weights unpacked from the bf16 packing
            const int C = p.in_planes * p.block, O = p.out_planes * p.block;
            std::vector<float> w(size_t(C) * O);
            const auto *h = static_cast<const uint16_t *>(p.weights);
            for (int c = 0; c < C; ++c)
              for (int o = 0; o < O; ++o)
                w[size_t(c) * O + o] = xunit::bf16_to_float(h[(size_t(c / 2) * O + o) * 2 + c % 2]);
            q.weights = w.data();
            f32_pointwise__scalar(q);
          },
          16, in_planes, 2, 2, 9, stages, seed++, Products::Bf16, nullptr);
      CHECK(d > 0.f);     // the inputs are rounded too
      CHECK(d <= 2e-2f);  // by 2^-9 relative each
      worst = std::max(worst, d);
    }
  MESSAGE("bf16 reference vs float products of the same rounded weights: " << worst);
}

TEST_CASE("pointwise: the reference computes the documented formula") {
  // 1 input channel block of 8, 1 output block: y[o] = post(b[o] + sum_c w[c][o] * pre(x[c])).
  const int B = 8;
  std::vector<float> x(B), w(B * B, 0.f), b(B, 0.25f), s(B, 2.f), t(B, -1.f), a(B, 0.5f),
      pa(B, 0.f);
  for (int c = 0; c < B; ++c)
    x[size_t(c)] = float(c) * 0.25f;                       // pre: 2x - 1, then *0.5 when negative
  for (int c = 0; c < B; ++c) w[size_t(c) * B + 0] = 1.f;  // output 0 sums every channel
  w[size_t(3) * B + 1] = -2.f;                             // output 1 = -2 * pre(x[3]) + b
  std::vector<float> y(B);
  const float *in[1] = {x.data()};
  float *out[1] = {y.data()};
  PointwiseParams p;
  p.in_rows = in;
  p.out_rows = out;
  p.weights = w.data();
  p.bias = b.data();
  p.pre_scale = s.data();
  p.pre_shift = t.data();
  p.pre_slope = a.data();
  p.post_slope = pa.data();  // ReLU after
  p.rows = p.width = 1;
  p.block = B;
  f32_pointwise__scalar(p);
  float sum = 0.25f;
  for (int c = 0; c < B; ++c) {
    const float u = 2.f * float(c) * 0.25f - 1.f;
    sum += u < 0 ? 0.5f * u : u;
  }
  CHECK(y[0] == doctest::Approx(sum));
  CHECK(y[1] == 0.f);  // -2 * 0.5 + 0.25 < 0, ReLU
  CHECK(y[2] == doctest::Approx(0.25f));
}

TEST_CASE("pointwise: the selection follows the ISA override and the block size") {
  std::set<int> blocks{1, 8, 16};
  for (const PointwiseVariant &v : pointwise_variants()) blocks.insert(v.block);
  std::set<PointwiseFn> selected;
  for (Isa level : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16}) {
    if (int(level) > int(cpu_isa())) continue;
    const xunit::testing::ScopedIsa forced(level);
    REQUIRE(active_isa() == level);
    for (int block : blocks) {
      CAPTURE(isa_name(level));
      CAPTURE(block);
      for (Products products : {Products::F32, Products::Bf16}) {
        const PointwiseVariant *best = nullptr;  // the highest ISA that fits
        for (const PointwiseVariant &v : pointwise_variants())
          if (v.block == block && v.products == products && int(v.isa) <= int(level) &&
              (!best || int(v.isa) > int(best->isa)))
            best = &v;
        const PointwiseFn got = select_pointwise(block, products);
        CHECK((got == (best ? best->fn : pointwise_reference(products))));
        CHECK(has_pointwise_variant(block, products) == (best != nullptr));
        selected.insert(got);
      }
    }
  }
  for (const PointwiseVariant &v : runnable_variants()) {
    INFO("never selected: " << std::string(v.name));
    CHECK(selected.count(v.fn) == 1);
  }
  const xunit::testing::ScopedIsa avx2(Isa::Avx2);
  CHECK((select_pointwise(16, Products::F32) == f32_pointwise__scalar));  // no 16-lane AVX2 one
  CHECK((select_pointwise(16, Products::Bf16) == bf16_pointwise__scalar));
}
