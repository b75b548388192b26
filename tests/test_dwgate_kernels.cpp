// Every dw-conv+gate variant against the scalar reference over many shapes and borders.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <random>
#include <vector>

#include "kernels/dwgate/dwgate.h"
#include "kernels/isa.h"

using namespace xunit::kernels;

namespace {

struct Case {
  int h, w, k;
  bool affine;
};

float run_and_compare(DwGateFn fn, const Case &c, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  const int B = 16;
  std::vector<float> in(size_t(c.h) * c.w * B), w(size_t(c.k) * c.k * B), bias(B), sc(B), sh(B);
  for (auto *v : {&in, &w, &bias, &sc, &sh})
    for (auto &x : *v) x = d(rng);
  for (auto &x : w) x *= 3.f;  // drive the sigmoid through its whole range, saturation included
  std::vector<float> want(in.size(), -1.f), got(in.size(), -2.f);
  DwGateParams p;
  p.input = in.data();
  p.weights = w.data();
  p.bias = bias.data();
  if (c.affine) {
    p.post_scale = sc.data();
    p.post_shift = sh.data();
  }
  p.height = c.h;
  p.width = c.w;
  p.kernel = c.k;
  p.block = B;
  p.row_begin = 0;
  p.row_end = c.h;
  p.output = want.data();
  f32_dwgate__scalar(p);
  p.output = got.data();
  fn(p);
  float m = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    float e = std::abs(got[i] - want[i]) / std::max(1.f, std::abs(want[i]));
    if (!(e <= m)) m = e;
  }
  return m;
}

}  // namespace

TEST_CASE("dwgate SIMD variants match the scalar reference") {
  std::vector<std::pair<std::string, DwGateFn>> variants;
  if (cpu_isa() >= Isa::Avx2) variants.push_back({"avx2", f32_dwgate_c16__avx2});
  if (cpu_isa() >= Isa::Avx512) variants.push_back({"avx512", f32_dwgate_c16__avx512});
  REQUIRE(!variants.empty());
  unsigned seed = 1;
  for (auto [name, fn] : variants)
    for (int k : {3, 5, 7, 9})
      for (int h : {1, 2, 4, 9})
        for (int w : {1, 2, 3, 7, 8, 9, 15, 16, 17, 33})
          for (bool affine : {false, true}) {
            CAPTURE(name); CAPTURE(k); CAPTURE(h); CAPTURE(w);
            CHECK(run_and_compare(fn, {h, w, k, affine}, seed++) <= 1e-5f);
          }
}

TEST_CASE("dwgate row ranges compose: rows split across calls give the full result") {
  const int H = 11, W = 20, K = 7, B = 16;
  std::vector<float> in(size_t(H) * W * B), w(size_t(K) * K * B, 0.05f), bias(B, 0.1f);
  for (size_t i = 0; i < in.size(); ++i) in[i] = float(i % 13) / 13.f;
  std::vector<float> whole(in.size()), parts(in.size());
  DwGateParams p;
  p.input = in.data();
  p.weights = w.data();
  p.bias = bias.data();
  p.height = H;
  p.width = W;
  p.kernel = K;
  DwGateFn fn = select_dwgate(16);
  p.output = whole.data();
  p.row_begin = 0;
  p.row_end = H;
  fn(p);
  p.output = parts.data();
  for (int r = 0; r < H; r += 4) {
    p.row_begin = r;
    p.row_end = std::min(H, r + 4);
    fn(p);
  }
  CHECK(whole == parts);
}

TEST_CASE("ISA override never exceeds the CPU") {
  set_isa_override(Isa::Scalar);
  CHECK(active_isa() == Isa::Scalar);
  const bool picks_scalar = select_dwgate(16) == f32_dwgate__scalar;
  CHECK(picks_scalar);
  set_isa_override(Isa::Avx512);
  CHECK(int(active_isa()) <= int(cpu_isa()));
  clear_isa_override();
  Isa parsed;
  CHECK(parse_isa("avx2", &parsed));
  CHECK(parsed == Isa::Avx2);
  CHECK(!parse_isa("sse9", &parsed));
}
