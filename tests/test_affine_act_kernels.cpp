// Every registered affine+activation variant (kernels/affine_act/affine_act_select.cpp) against
// the scalar reference, bit for bit (a runnable variant the test did not exercise is a failure):
// each stage on and off, in place and not, on values that tell the branches apart.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kernels/affine_act/affine_act.h"
#include "kernels/isa.h"

using namespace xunit::kernels;

namespace {

bool same_bits(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
}

// Elements whose bits differ from the reference's (in place and out of place together).
int compare(AffineActFn fn, int block, bool affine, Activation act, size_t pixels, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 2.f);
  const float inf = std::numeric_limits<float>::infinity();
  const float specials[] = {0.f,    -0.f,   inf, -inf, std::numeric_limits<float>::quiet_NaN(),
                            1e-40f, -1e-40f};
  const size_t lanes = static_cast<size_t>(block);
  std::vector<float> src(pixels * lanes), scale(lanes), shift(lanes), slope(lanes);
  for (size_t i = 0; i < src.size(); ++i) src[i] = i % 5 == 0 ? specials[(i / 5) % 7] : d(rng);
  for (int l = 0; l < block; ++l) {
    scale[size_t(l)] = l == 1 ? 0.f : d(rng);  // a zero scale: -0 * 0 and inf * 0 too
    shift[size_t(l)] = l == 2 ? -0.f : d(rng);
    slope[size_t(l)] = l == 3 ? 0.f : d(rng) * 0.1f;
  }
  std::vector<float> want(src.size(), 7.f), got(src.size(), 8.f), in_place = src;
  AffineActParams p;
  p.scale = affine ? scale.data() : nullptr;
  p.shift = affine ? shift.data() : nullptr;
  p.slope = act == Activation::Slope ? slope.data() : nullptr;
  p.act = act;
  p.pixels = pixels;
  p.block = block;
  p.src = src.data();
  p.dst = want.data();
  f32_affine_act__scalar(p);
  p.dst = got.data();
  fn(p);
  p.src = p.dst = in_place.data();
  fn(p);
  int wrong = 0;
  for (size_t i = 0; i < want.size(); ++i)
    wrong += !same_bits(got[i], want[i]) + !same_bits(in_place[i], want[i]);
  return wrong;
}

}  // namespace

TEST_CASE("affine_act: every registered variant gives the scalar reference's bits") {
  std::set<AffineActFn> exercised;
  unsigned seed = 1;
  for (const AffineActVariant &v : affine_act_variants()) {
    if (int(v.isa) > int(cpu_isa())) {
      MESSAGE("not run on this CPU (needs " << std::string(isa_name(v.isa))
                                            << "): " << std::string(v.name));
      continue;
    }
    for (bool affine : {false, true})
      for (Activation act : {Activation::None, Activation::Relu, Activation::Slope})
        for (size_t pixels : {size_t(0), size_t(1), size_t(7), size_t(130)}) {
          CAPTURE(std::string(v.name));
          CAPTURE(affine);
          CAPTURE(int(act));
          CAPTURE(pixels);
          CHECK(compare(v.fn, v.block, affine, act, pixels, seed++) == 0);
          exercised.insert(v.fn);
        }
  }
  for (const AffineActVariant &v : affine_act_variants())
    if (int(v.isa) <= int(cpu_isa())) CHECK(exercised.count(v.fn) == 1);
  // The comparison can fail: one wrong bit is seen.
  auto off = [](const AffineActParams &p) {
    f32_affine_act__scalar(p);
    if (p.pixels) p.dst[p.block - 1] = std::nextafter(p.dst[p.block - 1], 1e9f);
  };
  CHECK(compare(off, 8, true, Activation::Relu, 3, 1) > 0);
}

TEST_CASE("affine_act: the reference computes the documented formula") {
  const float x[4] = {-2.f, 3.f, -0.f, -std::numeric_limits<float>::infinity()};
  const float s[4] = {1.f, 2.f, 1.f, 1.f}, t[4] = {0.5f, -7.f, 0.f, 0.f},
              a[4] = {0.5f, 0.5f, 0.5f, 0.f};
  float y[4];
  AffineActParams p;
  p.src = x;
  p.dst = y;
  p.scale = s;
  p.shift = t;
  p.pixels = 1;
  p.block = 4;
  p.act = Activation::Relu;
  f32_affine_act__scalar(p);
  CHECK(y[0] == 0.f);                           // -1.5 -> 0
  CHECK(y[1] == 0.f);                           // -1 -> 0
  CHECK((y[2] == 0.f && !std::signbit(y[2])));  // -0 + 0 = +0
  CHECK(y[3] == 0.f);                           // ReLU(-inf) = 0
  p.act = Activation::Slope;
  p.slope = a;
  f32_affine_act__scalar(p);
  CHECK(y[0] == -0.75f);
  CHECK(y[1] == -0.5f);
  CHECK(std::isnan(y[3]));  // -inf * 0: the slope is a multiply (PReLU's own definition)
}
