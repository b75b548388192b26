// Every dw-conv+gate variant against the scalar reference over many shapes and borders.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/dwgate/dwgate.h"
#include "kernels/isa.h"

using namespace xunit::kernels;

namespace {

struct Variant {
  std::string name;
  DwGateFn fn;
  int block;
};

std::vector<Variant> simd_variants() {
  std::vector<Variant> v;
  if (cpu_isa() >= Isa::Avx2) {
    v.push_back({"c8__avx2", f32_dwgate_c8__avx2, 8});
    v.push_back({"c16__avx2", f32_dwgate_c16__avx2, 16});
  }
  if (cpu_isa() >= Isa::Avx512) v.push_back({"c16__avx512", f32_dwgate_c16__avx512, 16});
  return v;
}

struct Case {
  int rows, width, kernel;
  bool affine;
  bool multiplicand;  // gate separate rows (xUnitD) instead of the dw conv's own input
};

// Runs `fn` and the reference on the same random rows (the first and last input rows are the
// caller's zero padding in half of the cases) and returns the largest relative difference.
float compare_with_reference(DwGateFn fn, int block, const Case &c, unsigned seed) {
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
  for (auto &x : w) x *= 3.f;  // drive the sigmoid through its whole range, saturation included
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
  f32_dwgate__scalar(p);
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

}  // namespace

TEST_CASE("dwgate: every SIMD variant matches the scalar reference") {
  std::vector<Variant> variants = simd_variants();
  REQUIRE(!variants.empty());
  unsigned seed = 1;
  float worst = 0;
  for (const Variant &v : variants)
    for (int k : {1, 3, 5, 7, 9})
      for (int rows : {1, 2, 5})
        for (int w : {1, 2, 3, 6, 7, 8, 9, 15, 16, 17, 33})
          for (int mode = 0; mode < 4; ++mode) {
            const bool affine = mode & 1, multiplicand = mode & 2;
            CAPTURE(v.name);
            CAPTURE(multiplicand);
            CAPTURE(k);
            CAPTURE(rows);
            CAPTURE(w);
            float e =
                compare_with_reference(v.fn, v.block, {rows, w, k, affine, multiplicand}, seed++);
            // Summation order (FMA, register tiles) differs from the reference: up to 81 taps of
            // ~N(0, 9) products round differently; the sigmoid itself is within 1e-7.
            CHECK(e <= 5e-6f);
            worst = std::max(worst, e);
          }
  MESSAGE("largest relative difference to the reference: " << worst);
}

TEST_CASE("dwgate: the selection follows the ISA override and the block size") {
  auto picks = [](int block, DwGateFn want) { return select_dwgate(block) == want; };
  set_isa_override(Isa::Scalar);
  CHECK(picks(16, f32_dwgate__scalar));
  CHECK(picks(8, f32_dwgate__scalar));
  if (cpu_isa() >= Isa::Avx2) {
    set_isa_override(Isa::Avx2);
    CHECK(picks(8, f32_dwgate_c8__avx2));
    CHECK(picks(16, f32_dwgate_c16__avx2));
  }
  if (cpu_isa() >= Isa::Avx512) {
    set_isa_override(Isa::Avx512);
    CHECK(picks(16, f32_dwgate_c16__avx512));
  }
  CHECK(picks(3, f32_dwgate__scalar));  // no SIMD variant for odd blocks
  clear_isa_override();
}

TEST_CASE("ISA override never exceeds the CPU") {
  set_isa_override(Isa::Avx512);
  CHECK(int(active_isa()) <= int(cpu_isa()));
  clear_isa_override();
  Isa parsed;
  CHECK(parse_isa("avx2", &parsed));
  CHECK(parsed == Isa::Avx2);
  CHECK(!parse_isa("sse9", &parsed));
}

TEST_CASE("dwgate: a separate multiplicand is what the gate scales (xUnitD)") {
  // Zero taps and bias b: every variant must output m * sigmoid(b), whatever the conv input is.
  const int B = 16, W = 5;
  std::vector<float> in(size_t(W) * B, 7.f), m(size_t(W) * B), out(size_t(W) * B);
  for (size_t i = 0; i < m.size(); ++i) m[i] = float(i) * 0.25f - 3.f;
  std::vector<float> w(9 * B, 0.f), bias(B, 0.5f);
  const float *in_rows[3] = {in.data(), in.data(), in.data()};
  const float *m_rows[1] = {m.data()};
  float *out_rows[1] = {out.data()};
  std::vector<Variant> variants = simd_variants();
  variants.push_back({"scalar", f32_dwgate__scalar, 16});
  for (const Variant &v : variants) {
    if (v.block != B) continue;
    CAPTURE(v.name);
    DwGateParams p;
    p.in_rows = in_rows;
    p.x_rows = m_rows;
    p.out_rows = out_rows;
    p.weights = w.data();
    p.bias = bias.data();
    p.rows = 1;
    p.width = W;
    p.kernel = 3;
    p.block = B;
    v.fn(p);
    for (size_t i = 0; i < m.size(); ++i)
      CHECK(out[i] == doctest::Approx(m[i] / (1.f + std::exp(-0.5f))).epsilon(1e-6));
  }
}
