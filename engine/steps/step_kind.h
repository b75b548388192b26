// The kinds of plan steps: what the planner makes of one op and the ops fused into it, each
// implemented in its own file of engine/steps/ (packing at compile time, run per pass).
#pragma once
#include <cstdint>

namespace xunit {

enum class StepKind : uint8_t {
  Conv,          // dense/grouped conv via oneDNN, with fused post-ops
  ConvO4,        // conv to at most 4 channels (a network's last layer), kernels/conv_o4
  DwGate,        // depthwise conv + gate (+ affine), kernels/dwgate
  Elementwise,   // a unary op and the unary ops after it, on one input
  Binary,        // add / mul / gate on two inputs
  PixelShuffle,  // CRD or DCR order, optionally followed by unary ops
  Upsample,      // bilinear (the upsample_bilinear op)
  Concat,
  Resize,         // nearest / linear / cubic (the resize op)
  Pointwise,      // 1x1 conv with the element-wise ops before and after it fused, kernels/pointwise
  ConvTranspose,  // a transposed conv upsampling by its stride, via oneDNN's deconvolution
  NoiseLevelMap,  // rows of the run's noise level (the noise_level_map op)
  kCount
};

const char *step_kind_name(StepKind kind);

}  // namespace xunit
