#include "engine/ops/unary.h"

#include <cmath>
#include <limits>

#include "common/error.h"

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
    case OpType::kCount:
      break;  // not unary: refused by the constructor
  }
  return std::numeric_limits<float>::quiet_NaN();
}

namespace {

// "No dependence between iterations": the loops below run in place (d == s). For GCC, which
// builds the product; clang builds only the fuzzers (scripts/fuzz.sh: sanitizers and coverage
// instrumentation, under which its vectorizer declines and a vectorize request is a warning),
// so the macro is empty for it.
#if defined(__clang__)
#define XUNIT_IVDEP
#else
#define XUNIT_IVDEP _Pragma("GCC ivdep")
#endif

// The common ops on whole pixels of B lanes, vectorized. `ivdep` because the steps run them
// in place (d == s), which GCC's runtime alias check treats as an overlap: without it every
// element took a branch (a ReLU after BN: 23% of the authors' xDnCNN, the signs unpredictable).
// False: use the generic per-element path.
template <int B>
bool apply_fast(OpType type, float alpha, const float *sc, const float *sh, const float *s,
                float *d, int width) {
  if (type == OpType::Affine) {
    for (int x = 0; x < width; ++x) {
      XUNIT_IVDEP
      for (int l = 0; l < B; ++l) d[x * B + l] = s[x * B + l] * sc[l] + sh[l];
    }
    return true;
  }
  const long n = long(width) * B;
  if (type == OpType::Relu) {  // (not v * 0: -inf must give 0, as in PyTorch; NaN stays NaN)
    XUNIT_IVDEP
    for (long i = 0; i < n; ++i) d[i] = s[i] < 0.f ? 0.f : s[i];
    return true;
  }
  if (type == OpType::LeakyRelu) {
    // (a select, vectorized: this file is compiled with -fno-trapping-math, engine/CMakeLists)
    XUNIT_IVDEP
    for (long i = 0; i < n; ++i) {
      const float v = s[i], m = v * alpha;
      d[i] = v < 0.f ? m : v;
    }
    return true;
  }
  if (type == OpType::PRelu) {  // a slope per channel (`sc` here)
    for (int x = 0; x < width; ++x) {
      XUNIT_IVDEP
      for (int l = 0; l < B; ++l) {
        const float v = s[x * B + l], m = v * sc[l];
        d[x * B + l] = v < 0.f ? m : v;
      }
    }
    return true;
  }
  return false;
}

}  // namespace

void UnaryFn::apply_row(const float *src, float *dst, int width, int block, int c0,
                        int lanes) const {
  if (lanes == block) {
    const float *sc = scale_ ? scale_ + c0 : nullptr, *sh = shift_ ? shift_ + c0 : nullptr;
    float alpha = alpha_;
    OpType fast = type_;
    if (type_ == OpType::PRelu && shared_slope_) {
      fast = OpType::LeakyRelu;
      alpha = slope_[0];
    } else if (type_ == OpType::PRelu) {
      sc = slope_ + c0;
    }
    if (block == 16 && apply_fast<16>(fast, alpha, sc, sh, src, dst, width)) return;
    if (block == 8 && apply_fast<8>(fast, alpha, sc, sh, src, dst, width)) return;
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
