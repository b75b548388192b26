// UnaryFn::apply_row (the element-wise step's loop and the conv steps' post-op tails): its
// vectorized paths for whole blocks against the per-element definition, in place and not, on
// values that tell branches apart (negative zero, infinities, NaN).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/ops/unary.h"
#include "models/synthetic/graph_factory.h"

using namespace xunit;
using xunit::synthetic::GraphFactory;

namespace {

bool same_float(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

TEST_CASE("unary rows: the fast paths equal the per-element op, in place or not") {
  const float inf = std::numeric_limits<float>::infinity();
  const float specials[] = {0.f,    -0.f,    inf,  -inf,  std::numeric_limits<float>::quiet_NaN(),
                            1e-30f, -1e-30f, 3.5f, -2.25f};
  GraphFactory f(5);
  for (int block : {8, 16})
    for (OpType t : {OpType::Affine, OpType::Relu, OpType::LeakyRelu, OpType::PRelu}) {
      Graph g;
      const int channels = 2 * block + 3;  // two whole blocks, one partial (the generic path)
      const int x = g.add_input("x", channels);
      const int y = t == OpType::Affine ? f.affine(g, x) : f.unary(g, t, x, 0.3f, true);
      g.output = y;
      g.validate_and_infer();
      const UnaryFn fn(g, g.ops.back());
      const int width = 37;
      for (int plane = 0; plane < 3; ++plane) {
        const int c0 = plane * block, lanes = std::min(block, channels - c0);
        std::vector<float> src(size_t(width) * block);
        for (size_t i = 0; i < src.size(); ++i)
          src[i] = i % 3 == 0 ? specials[(i / 3) % 9] : float(int(i * 7919 % 201) - 100) / 17.f;
        std::vector<float> out(src.size(), 42.f), in_place = src;
        fn.apply_row(src.data(), out.data(), width, block, c0, lanes);
        fn.apply_row(in_place.data(), in_place.data(), width, block, c0, lanes);
        CAPTURE(block);
        CAPTURE(op_type_name(t));
        CAPTURE(plane);
        int wrong = 0, wrong_in_place = 0, padding_touched = 0;
        for (int px = 0; px < width; ++px)
          for (int l = 0; l < block; ++l) {
            const size_t i = size_t(px) * block + size_t(l);
            if (l >= lanes) {  // padding: left as it was
              padding_touched += out[i] != 42.f || !same_float(in_place[i], src[i]);
              continue;
            }
            const float want = fn(src[i], c0 + l);
            wrong += !same_float(out[i], want);
            wrong_in_place += !same_float(in_place[i], want);
          }
        CHECK(wrong == 0);
        CHECK(wrong_in_place == 0);
        CHECK(padding_touched == 0);
      }
    }
}

TEST_CASE("unary: ReLU of -inf is 0, as in PyTorch; NaN stays NaN") {
  Graph g;
  GraphFactory f(6);
  const int x = g.add_input("x", 8);
  g.output = f.unary(g, OpType::Relu, x);
  g.validate_and_infer();
  const UnaryFn relu(g, g.ops.back());
  std::vector<float> row(8, -std::numeric_limits<float>::infinity());
  row[1] = std::numeric_limits<float>::quiet_NaN();
  relu.apply_row(row.data(), row.data(), 1, 8, 0, 8);
  CHECK(row[0] == 0.f);
  CHECK(std::isnan(row[1]));
  CHECK(relu(-std::numeric_limits<float>::infinity(), 0) == 0.f);
}
