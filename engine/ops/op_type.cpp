#include "engine/ops/op_type.h"

#include <iterator>

#include "common/error.h"

namespace xunit {

namespace {

constexpr OpTraits kOps[] = {
    {OpType::Conv2d, "conv2d", OpClass::Conv, 1, 1, 0},
    {OpType::Affine, "affine", OpClass::Unary, 1, 1, 0},
    {OpType::Relu, "relu", OpClass::Unary, 1, 1, 0},
    {OpType::LeakyRelu, "leaky_relu", OpClass::Unary, 1, 1, 0},
    {OpType::PRelu, "prelu", OpClass::Unary, 1, 1, 0},
    {OpType::Sigmoid, "sigmoid", OpClass::Unary, 1, 1, 0},
    {OpType::Gate, "gate", OpClass::Binary, 2, 2, 0},
    {OpType::Add, "add", OpClass::Binary, 2, 2, 0},
    {OpType::Mul, "mul", OpClass::Binary, 2, 2, 0},
    {OpType::PixelShuffle, "pixel_shuffle", OpClass::Resample, 1, 1, 0},
    {OpType::UpsampleBilinear, "upsample_bilinear", OpClass::Resample, 1, 1, 0},
    {OpType::Concat, "concat", OpClass::Concat, 2, -1, 0},
    {OpType::Resize, "resize", OpClass::Resample, 1, 1, 1},
    {OpType::PixelShuffleDcr, "pixel_shuffle_dcr", OpClass::Resample, 1, 1, 1},
    {OpType::Tanh, "tanh", OpClass::Unary, 1, 1, 2},
    {OpType::GateGaussian, "gate_gaussian", OpClass::Binary, 2, 2, 2},
    {OpType::Sub, "sub", OpClass::Binary, 2, 2, 2},
    {OpType::Exp, "exp", OpClass::Unary, 1, 1, 2},
    {OpType::Clip, "clip", OpClass::Unary, 1, 1, 2},
    {OpType::Softplus, "softplus", OpClass::Unary, 1, 1, 2},
    {OpType::DilatedConv2d, "conv2d_dilated", OpClass::Conv, 1, 1, 2},
    {OpType::ConvTranspose2d, "conv_transpose2d", OpClass::Resample, 1, 1, 2},
    {OpType::Div, "div", OpClass::Binary, 2, 2, 3},
    {OpType::PixelUnshuffle, "pixel_unshuffle", OpClass::Unshuffle, 1, 1, 3},
    {OpType::SpaceToDepth, "space_to_depth", OpClass::Unshuffle, 1, 1, 3},
    {OpType::BorderConv2d, "conv2d_border", OpClass::Conv, 1, 1, 3},
    {OpType::NoiseLevelMap, "noise_level_map", OpClass::RunInput, 1, 1, 4},
    {OpType::PixelUnshuffleEdge, "pixel_unshuffle_edge", OpClass::Unshuffle, 1, 1, 5},
};
static_assert(std::size(kOps) == size_t(OpType::kCount), "one row of kOps per OpType");

constexpr bool rows_in_enum_order() {
  for (size_t i = 0; i < std::size(kOps); ++i)
    if (size_t(kOps[i].type) != i) return false;
  return true;
}
static_assert(rows_in_enum_order(), "kOps rows must be in OpType order");

}  // namespace

const OpTraits &op_traits(OpType type) {
  XUNIT_CHECK(size_t(type) < std::size(kOps), "internal error: op type out of range");
  return kOps[size_t(type)];
}

const char *border_mode_name(int mode) {
  return mode == int(BorderMode::Reflect) ? "reflect"
         : mode == int(BorderMode::Edge)  ? "edge"
                                          : "zero";
}

bool border_mode_from_name(const std::string &name, int *mode) {
  for (BorderMode m : {BorderMode::Reflect, BorderMode::Edge})
    if (name == border_mode_name(int(m))) {
      *mode = int(m);
      return true;
    }
  return false;
}

int border_source(int mode, int i, int n) {
  if (i >= 0 && i < n) return i;
  if (mode == int(BorderMode::Edge) || n == 1) return i < 0 ? 0 : n - 1;
  const int period = 2 * (n - 1);  // reflect: ... 2 1 | 0 1 2 ... n-1 | n-2 ...
  int m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

bool op_type_from_name(const std::string &name, OpType *out) {
  for (const OpTraits &t : kOps)
    if (name == t.name) {
      *out = t.type;
      return true;
    }
  return false;
}

}  // namespace xunit
