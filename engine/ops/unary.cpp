#include "engine/ops/unary.h"

#include <cmath>
#include <limits>

#include "common/error.h"
#include "kernels/affine_act/affine_act.h"

namespace xunit {

UnaryFn::UnaryFn(const Graph &g, const Op &op) : type_(op.type), alpha_(op.alpha), beta_(op.beta) {
  XUNIT_CHECK(is_unary(op.type),
              std::string("internal error: '") + op_type_name(op.type) + "' is not a unary op");
  if (op.type == OpType::Affine) {
    scale_ = g.tensor(op.scale).data;
    shift_ = g.tensor(op.shift).data;
  } else if (op.type == OpType::PRelu) {
    slope_ = g.tensor(op.slope).data;
    shared_slope_ = g.tensor(op.slope).numel() == 1;
  }
  if (op.type == OpType::LeakyRelu || (op.type == OpType::PRelu && shared_slope_))
    uniform_slope_.assign(kMaxBlock, op.type == OpType::LeakyRelu ? alpha_ : slope_[0]);
}

float UnaryFn::operator()(float v, int c) const {
  switch (type_) {
    case OpType::Relu:
      return v < 0.f ? 0.f : v;
    case OpType::LeakyRelu:
      return v < 0.f ? v * alpha_ : v;
    case OpType::PRelu:
      return v < 0.f ? v * slope_[shared_slope_ ? 0 : c] : v;
    case OpType::Sigmoid:
      return 1.f / (1.f + std::exp(-v));
    case OpType::Affine:
      return v * scale_[c] + shift_[c];
    case OpType::Tanh:
      return std::tanh(v);
    case OpType::Exp:
      return std::exp(v);
    case OpType::Clip:  // (NaN stays NaN, as in PyTorch)
      return v < alpha_ ? alpha_ : v > beta_ ? beta_ : v;
    case OpType::Softplus:  // PyTorch's threshold: x beyond 20 is returned as is
      return v > 20.f ? v : std::log1p(std::exp(v));
    case OpType::Conv2d:
    case OpType::Gate:
    case OpType::Add:
    case OpType::Mul:
    case OpType::PixelShuffle:
    case OpType::UpsampleBilinear:
    case OpType::Concat:
    case OpType::Resize:
    case OpType::PixelShuffleDcr:
    case OpType::GateGaussian:
    case OpType::Sub:
    case OpType::DilatedConv2d:
    case OpType::ConvTranspose2d:
    case OpType::Div:
    case OpType::PixelUnshuffle:
    case OpType::SpaceToDepth:
    case OpType::BorderConv2d:
    case OpType::NoiseLevelMap:
    case OpType::PixelUnshuffleEdge:
    case OpType::kCount:
      break;  // not unary: refused by the constructor
  }
  return std::numeric_limits<float>::quiet_NaN();
}

void UnaryFn::apply_row(const float *src, float *dst, int width, int block, int c0,
                        int lanes) const {
  // ReLU-likes and the affine on whole blocks: kernels/affine_act, whose None/Relu/Slope and
  // multiply-then-add are operator()'s own arithmetic, bit for bit.
  const bool uniform = !uniform_slope_.empty();  // leaky ReLU, shared PReLU
  if (lanes == block &&
      (type_ == OpType::Affine || type_ == OpType::Relu || type_ == OpType::LeakyRelu ||
       type_ == OpType::PRelu) &&
      (!uniform || size_t(block) <= uniform_slope_.size())) {
    kernels::AffineActParams p;
    p.src = src;
    p.dst = dst;
    p.pixels = size_t(width);
    p.block = block;
    if (type_ == OpType::Affine) {
      p.scale = scale_ + c0;
      p.shift = shift_ + c0;
    } else if (type_ == OpType::Relu) {
      p.act = kernels::Activation::Relu;
    } else {
      p.act = kernels::Activation::Slope;
      p.slope = uniform ? uniform_slope_.data() : slope_ + c0;
    }
    return kernels::select_affine_act(block)(p);
  }
  for (int x = 0; x < width; ++x)
    for (int l = 0; l < lanes; ++l)
      dst[size_t(x) * block + l] = (*this)(src[size_t(x) * block + l], c0 + l);
}

bool UnaryFn::negative_slope(int c, float *slope) const {
  if (type_ == OpType::Relu)
    *slope = 0.f;
  else if (type_ == OpType::LeakyRelu)
    *slope = alpha_;
  else if (type_ == OpType::PRelu)
    *slope = slope_[shared_slope_ ? 0 : c];
  else
    return false;
  return true;
}

bool UnaryFn::affine(int c, float *scale, float *shift) const {
  if (type_ != OpType::Affine) return false;
  *scale = scale_[c];
  *shift = shift_[c];
  return true;
}

}  // namespace xunit
