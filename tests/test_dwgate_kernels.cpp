// Every registered dw-conv+gate variant (kernels/dwgate/dwgate_select.cpp) against the scalar
// reference of its gate function, over many shapes and borders, and the gates alone against
// std::exp over their whole range. A variant the CPU can run but no test exercised is a failure.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kernels/dwgate/dwgate.h"
#include "kernels/isa.h"
#include "scoped_isa.h"

using namespace xunit::kernels;

namespace {

std::string describe(const DwGateVariant &v) {
  return std::string(v.name) + " (" + gate_function_name(v.gate) + ", block " +
         std::to_string(v.block) + ")";
}

// The registered variants this CPU can run (all of them are checked); `report`: say which
// others there are.
std::vector<DwGateVariant> runnable_variants(bool report = false) {
  std::vector<DwGateVariant> v;
  for (const DwGateVariant &d : dwgate_variants()) {
    if (int(d.isa) <= int(cpu_isa()))
      v.push_back(d);
    else if (report)
      MESSAGE("not run on this CPU (needs " << std::string(isa_name(d.isa))
                                            << "): " << describe(d));
  }
  return v;
}

// Fails unless every registered variant the CPU can run is in `exercised`.
void require_all_exercised(const std::set<DwGateFn> &exercised) {
  for (const DwGateVariant &v : runnable_variants()) {
    INFO("registered, runnable here, not exercised: " << describe(v));
    CHECK(exercised.count(v.fn) == 1);
  }
}

struct Case {
  int rows, width, kernel;
  bool affine;
  bool multiplicand;  // gate separate rows (xUnitD) instead of the dw conv's own input
};

// Runs `fn` and `reference` on the same random rows (the first r input rows are the caller's
// zero padding in half of the cases) and returns the largest difference relative to
// max(1, |reference|), NaN if any result is NaN.
float compare_with_reference(DwGateFn fn, DwGateFn reference, int block, const Case &c,
                             unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  const int B = block, in_rows = c.rows + c.kernel - 1, row_floats = c.width * B;
  const size_t nrows = size_t(in_rows), nfloats = size_t(row_floats), nlanes = size_t(B);
  std::vector<std::vector<float>> input(nrows, std::vector<float>(nfloats));
  for (auto &row : input)
    for (auto &x : row) x = d(rng);
  if (seed % 2)
    for (int i = 0; i < c.kernel / 2; ++i)
      std::fill(input[size_t(i)].begin(), input[size_t(i)].end(), 0.f);
  std::vector<float> w(size_t(c.kernel) * c.kernel * nlanes), bias(nlanes), scale(nlanes),
      shift(nlanes);
  for (auto *v : {&w, &bias, &scale, &shift})
    for (auto &x : *v) x = d(rng);
  // Drive the gate through its range: taps ~N(0, 9 / k^2) give a ~ N(0, 9 + 1) whatever the
  // kernel size, so the gates' steep parts and their saturation are both hit.
  for (auto &x : w) x *= 3.f / float(c.kernel);
  std::vector<const float *> in_ptrs;
  for (auto &row : input) in_ptrs.push_back(row.data());
  std::vector<std::vector<float>> mult(size_t(c.rows), std::vector<float>(nfloats));
  std::vector<const float *> mult_ptrs;
  for (auto &row : mult) {
    for (auto &x : row) x = d(rng);
    mult_ptrs.push_back(row.data());
  }
  const size_t out_rows = size_t(c.rows);
  std::vector<std::vector<float>> want(out_rows, std::vector<float>(nfloats, -1.f));
  std::vector<std::vector<float>> got(out_rows, std::vector<float>(nfloats, -2.f));
  std::vector<float *> want_ptrs, got_ptrs;
  for (int i = 0; i < c.rows; ++i) {
    want_ptrs.push_back(want[size_t(i)].data());
    got_ptrs.push_back(got[size_t(i)].data());
  }
  DwGateParams p;
  p.in_rows = in_ptrs.data();
  if (c.multiplicand) p.x_rows = mult_ptrs.data();
  p.weights = w.data();
  p.bias = bias.data();
  if (c.affine) {
    p.post_scale = scale.data();
    p.post_shift = shift.data();
  }
  p.rows = c.rows;
  p.width = c.width;
  p.kernel = c.kernel;
  p.block = B;
  p.out_rows = want_ptrs.data();
  reference(p);
  p.out_rows = got_ptrs.data();
  fn(p);
  float worst = 0;
  for (int i = 0; i < c.rows; ++i)
    for (int j = 0; j < row_floats; ++j) {
      float a = got[size_t(i)][size_t(j)], b = want[size_t(i)][size_t(j)];
      float e = std::abs(a - b) / std::max(1.f, std::abs(b));
      if (!(e <= worst)) worst = e;  // NaN-propagating
    }
  return worst;
}

// Summation order (FMA, register tiles) differs from the reference: up to 1089 taps round
// differently (~1e-6 of |a|), times the gate's slope: at most 0.25 for the sigmoid, 0.86 for
// the Gaussian (3.4 times more), hence its larger bound; the gates themselves are within 1e-6
// (see the gate test). kConvTolerance is the tighter one, used where either gate will do.
constexpr float kConvTolerance = 5e-6f;
float conv_tolerance(GateFunction gate) {
  return gate == GateFunction::Gaussian ? 1.5e-5f : kConvTolerance;
}

// The gate alone: kernel 1 with weight 1 and bias 0 makes a = the input exactly in every
// variant, so m * g(a) can be compared with the reference's std::exp at the float level.
struct GateError {
  float worst_relative = 0;  // where the reference result is above kTiny
  float worst_absolute = 0;  // where it is not (denormal results: a SIMD gate may give 0)
  bool nan_propagated = true;
};
constexpr float kTiny = 1e-30f;

GateError compare_gate(DwGateFn fn, DwGateFn reference, int block, const std::vector<float> &a,
                       const std::vector<float> &m) {
  const int width = int(a.size()) / block;
  std::vector<float> w(size_t(block), 1.f), bias(size_t(block), 0.f);
  std::vector<float> want(a.size(), -1.f), got(a.size(), -2.f);
  const float *in_rows[1] = {a.data()};
  const float *m_rows[1] = {m.data()};
  float *want_rows[1] = {want.data()}, *got_rows[1] = {got.data()};
  DwGateParams p;
  p.in_rows = in_rows;
  p.x_rows = m_rows;
  p.weights = w.data();
  p.bias = bias.data();
  p.rows = 1;
  p.width = width;
  p.kernel = 1;
  p.block = block;
  p.out_rows = want_rows;
  reference(p);
  p.out_rows = got_rows;
  fn(p);
  GateError e;
  for (size_t i = 0; i < size_t(width) * size_t(block); ++i) {
    if (std::isnan(a[i]) || std::isnan(want[i])) {
      if (!std::isnan(got[i])) e.nan_propagated = false;
      continue;
    }
    const float diff = std::abs(got[i] - want[i]);
    if (std::abs(want[i]) > kTiny) {
      const float r = diff / std::abs(want[i]);
      if (!(r <= e.worst_relative)) e.worst_relative = r;
    } else if (!(diff <= e.worst_absolute)) {
      e.worst_absolute = diff;
    }
  }
  return e;
}

// Gate inputs: a dense sweep of the steep part, the saturation up to the clamps and cutoffs,
// huge and infinite values and NaN; `block`-padded.
std::vector<float> gate_inputs(int block) {
  std::vector<float> a;
  for (int i = -40000; i <= 40000; ++i) a.push_back(float(i) * 3e-4f);  // [-12, 12]
  for (int i = 0; i <= 20000; ++i) {
    a.push_back(8.f + float(i) * 1e-4f);  // Gaussian cutoff region: a^2 around 87.3
    a.push_back(-8.f - float(i) * 1e-4f);
  }
  for (int i = 0; i <= 4000; ++i) {
    a.push_back(12.f + float(i) * 0.025f);  // up to 112: the sigmoid clamp at +-88
    a.push_back(-12.f - float(i) * 0.025f);
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (float v : {1e3f, 1e20f, 3e38f, inf, std::numeric_limits<float>::quiet_NaN(), 0.f, -0.f,
                  1e-20f, 1e-40f}) {
    a.push_back(v);
    a.push_back(-v);
  }
  while (a.size() % size_t(block)) a.push_back(0.5f);
  return a;
}

}  // namespace

TEST_CASE("dwgate: every registered variant matches the scalar reference") {
  const std::vector<DwGateVariant> variants = runnable_variants(true);
  if (cpu_isa() >= Isa::Avx2) REQUIRE(!variants.empty());
  std::set<DwGateFn> exercised;
  unsigned seed = 1;
  for (const DwGateVariant &v : variants) {
    float worst = 0;
    const DwGateFn reference = dwgate_reference(v.gate);
    for (int k : {1, 3, 5, 7, 9, 11, 13, 33})
      for (int rows : {1, 2, 5})
        for (int w : {1, 2, 3, 6, 7, 8, 9, 15, 16, 17, 21, 33, 57})
          for (int mode = 0; mode < 4; ++mode) {
            const bool affine = mode & 1, multiplicand = mode & 2;
            CAPTURE(describe(v));
            CAPTURE(multiplicand);
            CAPTURE(affine);
            CAPTURE(k);
            CAPTURE(rows);
            CAPTURE(w);
            const float e = compare_with_reference(v.fn, reference, v.block,
                                                   {rows, w, k, affine, multiplicand}, seed++);
            CHECK(e <= conv_tolerance(v.gate));
            if (!(e <= worst)) worst = e;
          }
    exercised.insert(v.fn);
    MESSAGE(describe(v) << ": largest difference to the reference " << worst);
  }
  require_all_exercised(exercised);
}

TEST_CASE("dwgate: the comparison fails on a wrong result (the checks can fail)") {
  // A wrong gate (the other one), a perturbed output and an output never written must each
  // exceed the tolerance of the comparison above.
  const Case c{3, 17, 7, false, false};
  CHECK(compare_with_reference(f32_dwgate__scalar, f32_dwgate_gaussian__scalar, 8, c, 1) >
        kConvTolerance);
  auto perturbed = [](const DwGateParams &p) {
    f32_dwgate__scalar(p);
    p.out_rows[p.rows - 1][p.width * p.block - 1] *= 1.0001f;
    p.out_rows[p.rows - 1][p.width * p.block - 1] += 1e-4f;
  };
  CHECK(compare_with_reference(perturbed, f32_dwgate__scalar, 8, c, 1) > kConvTolerance);
  auto lazy = [](const DwGateParams &) {};
  CHECK(!(compare_with_reference(lazy, f32_dwgate__scalar, 8, c, 1) <= kConvTolerance));
  // And the gate comparison sees a NaN turned into a number.
  std::vector<float> a(8, 0.5f), m(8, 1.f);
  a[3] = std::numeric_limits<float>::quiet_NaN();
  auto no_nan = [](const DwGateParams &p) {
    for (int i = 0; i < p.width * p.block; ++i) p.out_rows[0][i] = 0.f;
  };
  CHECK(!compare_gate(no_nan, f32_dwgate__scalar, 8, a, m).nan_propagated);
}

TEST_CASE("dwgate: the SIMD gates are within 1e-6 of std::exp, NaN stays NaN") {
  std::set<DwGateFn> exercised;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.5f, 2.f);
  for (const DwGateVariant &v : runnable_variants()) {
    CAPTURE(describe(v));
    const std::vector<float> a = gate_inputs(v.block);
    std::vector<float> m(a.size());
    for (size_t i = 0; i < m.size(); ++i) m[i] = (i % 3 ? 1.f : -1.f) * u(rng);
    const GateError e = compare_gate(v.fn, dwgate_reference(v.gate), v.block, a, m);
    CHECK(e.worst_relative < 1e-6f);
    CHECK(e.worst_absolute <= kTiny);
    CHECK(e.nan_propagated);
    // A NaN multiplicand stays NaN too, whatever the gate (also where the gate is 0 or 1).
    std::vector<float> nan_m(m.size(), std::numeric_limits<float>::quiet_NaN());
    CHECK(compare_gate(v.fn, dwgate_reference(v.gate), v.block, a, nan_m).nan_propagated);
    MESSAGE(describe(v) << ": gate relative error " << e.worst_relative);
    exercised.insert(v.fn);
  }
  require_all_exercised(exercised);
}

TEST_CASE("dwgate: the references compute the documented gates") {
  // Kernel 1, weight 1, bias 0: y = m * g(x).
  const int B = 8;
  std::vector<float> x(B), m(B, 2.f), w(B, 1.f), bias(B, 0.f), y(B);
  for (int i = 0; i < B; ++i) x[size_t(i)] = float(i) * 0.5f - 2.f;
  const float *in_rows[1] = {x.data()};
  const float *m_rows[1] = {m.data()};
  float *out_rows[1] = {y.data()};
  DwGateParams p;
  p.in_rows = in_rows;
  p.x_rows = m_rows;
  p.out_rows = out_rows;
  p.weights = w.data();
  p.bias = bias.data();
  p.rows = p.width = p.kernel = 1;
  p.block = B;
  f32_dwgate__scalar(p);
  for (int i = 0; i < B; ++i)
    CHECK(y[size_t(i)] == doctest::Approx(2.0 / (1.0 + std::exp(-double(x[size_t(i)])))));
  f32_dwgate_gaussian__scalar(p);
  for (int i = 0; i < B; ++i) {
    const double a = x[size_t(i)];
    CHECK(y[size_t(i)] == doctest::Approx(2.0 * std::exp(-a * a)));
  }
  CHECK((dwgate_reference(GateFunction::Sigmoid) == f32_dwgate__scalar));
  CHECK((dwgate_reference(GateFunction::Gaussian) == f32_dwgate_gaussian__scalar));
  CHECK(std::string(gate_function_name(GateFunction::Gaussian)) == "gaussian");
  CHECK(std::string(gate_function_name(GateFunction::kCount)) == "?");
}

TEST_CASE("dwgate: the selection follows the ISA override, the block size and the gate") {
  const GateFunction gates[] = {GateFunction::Sigmoid, GateFunction::Gaussian};
  std::set<int> blocks{1, 3, 8, 16};
  for (const DwGateVariant &v : dwgate_variants()) blocks.insert(v.block);
  std::set<DwGateFn> selected;
  for (Isa level : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16}) {
    if (int(level) > int(cpu_isa())) continue;
    const xunit::testing::ScopedIsa forced(level);
    REQUIRE(active_isa() == level);
    for (int block : blocks)
      for (GateFunction gate : gates) {
        CAPTURE(isa_name(level));
        CAPTURE(block);
        CAPTURE(gate_function_name(gate));
        // The best registered variant for the keys at this level: the highest ISA that fits
        // (the list is ordered best first), else the reference.
        const DwGateVariant *best = nullptr;
        for (const DwGateVariant &v : dwgate_variants())
          if (v.block == block && v.gate == gate && int(v.isa) <= int(level) &&
              (!best || int(v.isa) > int(best->isa)))
            best = &v;
        const DwGateFn got = select_dwgate(block, gate);
        CHECK((got == (best ? best->fn : dwgate_reference(gate))));
        selected.insert(got);
        if (gate == GateFunction::Sigmoid) CHECK((select_dwgate(block) == got));
      }
  }
  // Every variant the CPU can run is the choice for some (level, block, gate): none is
  // shadowed by a better one earlier in the list.
  for (const DwGateVariant &v : runnable_variants()) {
    INFO("never selected: " << describe(v));
    CHECK(selected.count(v.fn) == 1);
  }
  // The registry has a variant for every (block, gate) key that the sigmoid has.
  for (const DwGateVariant &v : dwgate_variants())
    for (GateFunction gate : gates) {
      bool found = false;
      for (const DwGateVariant &o : dwgate_variants())
        found |= o.isa == v.isa && o.block == v.block && o.gate == gate;
      INFO(describe(v) << " has no " << gate_function_name(gate) << " twin");
      CHECK(found);
    }
}

TEST_CASE("ISA override never exceeds the CPU") {
  {
    const xunit::testing::ScopedIsa highest(Isa::Avx512Bf16);  // anything the CPU has
    CHECK(active_isa() == cpu_isa());
  }
  {
    const xunit::testing::ScopedIsa scalar(Isa::Scalar);
    CHECK(active_isa() == Isa::Scalar);
  }
  Isa parsed;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16}) {
    CHECK(parse_isa(isa_name(isa), &parsed));
    CHECK(parsed == isa);
  }
  CHECK(!parse_isa("sse9", &parsed));
}

TEST_CASE("dwgate: a separate multiplicand is what the gate scales (xUnitD)") {
  // Zero taps and bias b: every variant must output m * g(b), whatever the conv input is.
  std::set<DwGateFn> exercised;
  std::vector<DwGateVariant> variants = runnable_variants();
  for (GateFunction gate : {GateFunction::Sigmoid, GateFunction::Gaussian})
    for (int block : {8, 16})
      variants.push_back({"reference", Isa::Scalar, block, gate, dwgate_reference(gate)});
  for (const DwGateVariant &v : variants) {
    const int B = v.block, W = 13;
    std::vector<float> in(size_t(W) * B, 7.f), m(size_t(W) * B), out(size_t(W) * B);
    for (size_t i = 0; i < m.size(); ++i) m[i] = float(i) * 0.25f - 3.f;
    std::vector<float> w(9 * size_t(B), 0.f), bias(size_t(B), 0.5f);
    const float *in_rows[3] = {in.data(), in.data(), in.data()};
    const float *m_rows[1] = {m.data()};
    float *out_rows[1] = {out.data()};
    CAPTURE(describe(v));
    DwGateParams p;
    p.in_rows = in_rows;
    p.x_rows = m_rows;
    p.out_rows = out_rows;
    p.weights = w.data();
    p.bias = bias.data();
    p.rows = 1;
    p.width = W;  // pixel runs and border pixels both
    p.kernel = 3;
    p.block = B;
    v.fn(p);
    const double g =
        v.gate == GateFunction::Sigmoid ? 1.0 / (1.0 + std::exp(-0.5)) : std::exp(-0.25);
    for (size_t i = 0; i < m.size(); ++i) CHECK(out[i] == doctest::Approx(m[i] * g).epsilon(1e-6));
    exercised.insert(v.fn);
  }
  require_all_exercised(exercised);
}
