// The binary ops (OpClass::Binary): element-wise functions of two tensors of one shape. Their
// one definition, used by the reference executor and the engine's binary step.
#pragma once
#include <cmath>
#include <limits>

#include "engine/ops/op_type.h"

namespace xunit {

inline float binary_eval(OpType type, float u, float v) {
  switch (type) {
    case OpType::Add:
      return u + v;
    case OpType::Mul:
      return u * v;
    case OpType::Gate:  // the xUnit gate: u * sigmoid(v)
      return u / (1.f + std::exp(-v));
    case OpType::GateGaussian:  // the 2018 paper's gate: u * exp(-v^2)
      return u * std::exp(-v * v);
    case OpType::Sub:
      return u - v;
    case OpType::Div:
      return u / v;
    case OpType::Conv2d:
    case OpType::Affine:
    case OpType::Relu:
    case OpType::LeakyRelu:
    case OpType::PRelu:
    case OpType::Sigmoid:
    case OpType::PixelShuffle:
    case OpType::UpsampleBilinear:
    case OpType::Concat:
    case OpType::Resize:
    case OpType::PixelShuffleDcr:
    case OpType::Tanh:
    case OpType::Exp:
    case OpType::Clip:
    case OpType::Softplus:
    case OpType::DilatedConv2d:
    case OpType::ConvTranspose2d:
    case OpType::PixelUnshuffle:
    case OpType::SpaceToDepth:
    case OpType::BorderConv2d:
    case OpType::NoiseLevelMap:
    case OpType::PixelUnshuffleEdge:
    case OpType::kCount:
      break;  // not binary
  }
  return std::numeric_limits<float>::quiet_NaN();
}

// Whether f(0, 0) == 0 and f(0, v) == 0: zero-padded channel lanes stay zero through the op
// (not Div: 0 / 0 is NaN).
inline bool binary_keeps_zero_lanes(OpType type) {
  return type == OpType::Add || type == OpType::Mul || type == OpType::Gate ||
         type == OpType::GateGaussian || type == OpType::Sub;
}

}  // namespace xunit
