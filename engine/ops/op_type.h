// The op types of the graph IR and their traits: one row per op in one table (op_type.cpp), so
// that a new op cannot be half-added. Every switch over OpType lists every member (no
// `default:`), so the compiler (-Wswitch) names each place a new op must be handled.
#pragma once
#include <cstdint>
#include <string>

namespace xunit {

enum class OpType : uint8_t {
  Conv2d,  // k x k, stride 1, zero padding k/2, groups, optional bias
  Affine,  // y = x * scale[c] + shift[c] (an unfoldable BatchNorm)
  Relu,
  LeakyRelu,  // attr alpha
  PRelu,      // tensor slope: [1] shared or [C]
  Sigmoid,
  Gate,              // y = in0 * sigmoid(in1): the xUnit gate
  Add,               // y = in0 + in1
  Mul,               // y = in0 * in1
  PixelShuffle,      // attr factor; C*f*f -> C
  UpsampleBilinear,  // attr factor; align_corners=False, source coordinates clamped at 0
  Concat,            // channel concatenation of all inputs
  Resize,            // attrs factor + ResizeSpec (engine/resize_taps.h): nearest / linear / cubic
  PixelShuffleDcr,   // attr factor; C*f*f -> C with depth-column-row order (ONNX DepthToSpace DCR)
  Tanh,
  GateGaussian,  // y = in0 * exp(-in1^2): the xUnit paper's original gate
  Sub,           // y = in0 - in1
  Exp,
  Clip,           // attrs alpha (lower bound), beta (upper bound)
  Softplus,       // log(1 + exp(x))
  DilatedConv2d,  // Conv2d whose taps are `dilation` pixels apart (padding dilation * (k/2))
  // Transposed conv upsampling by `factor` (its stride): attrs kernel, padding, in/out
  // channels, weight [in, out, k, k], bias [out]; output_padding = factor - kernel + 2 padding.
  ConvTranspose2d,
  Div,  // y = in0 / in1
  // Attr factor r: the graph input's r x r pixel blocks become channels (C -> C*r*r), channel
  // c*r*r + i*r + j (PyTorch's pixel_unshuffle) or (i*r + j)*C + c (ONNX SpaceToDepth). Only on
  // the graph input: the engine streams the unshuffled image (see Graph::input_factor).
  PixelUnshuffle,
  SpaceToDepth,
  // A conv (attrs as DilatedConv2d) whose padding beyond the image's border repeats the image:
  // attr border (BorderMode) reflect or edge (PyTorch padding_mode 'reflect' / 'replicate', a
  // ReflectionPad2d / ReplicationPad2d before an unpadded conv).
  BorderConv2d,
  // One channel of attr scale (float) * sigma at every pixel of its input's resolution, sigma
  // being the run's noise level in 8-bit levels (RunParams): the conditioning channel of a
  // noise-level-conditioned denoiser (FFDNet's sigma/255 map). Its input gives the geometry only.
  NoiseLevelMap,
  // PixelUnshuffle whose input, when a side is not a multiple of r, is extended at the right and
  // bottom by repeating its last pixel (FFDNet's ReplicationPad2d) instead of by reflection.
  PixelUnshuffleEdge,
  kCount
};

// The padding of a BorderConv2d: pixel -k reads pixel k (reflect) or pixel 0 (edge).
enum class BorderMode : uint8_t { Zero, Reflect, Edge };
const char *border_mode_name(int mode);
bool border_mode_from_name(const std::string &name, int *mode);
// The pixel a conv tap at index i of a side of n pixels reads (valid for any i, any n >= 1:
// a reflection folds back and forth).
int border_source(int mode, int i, int n);
// How an unshuffle extends sides that are not multiples of its factor (BorderMode).
inline int unshuffle_border(OpType type) {
  return int(type == OpType::PixelUnshuffleEdge ? BorderMode::Edge : BorderMode::Reflect);
}
// Whether an unshuffle numbers its output channels block position first, (i*r + j)*C + c (ONNX
// SpaceToDepth), rather than input channel first, c*r*r + i*r + j (PyTorch's pixel_unshuffle).
inline bool unshuffle_position_major(OpType type) { return type == OpType::SpaceToDepth; }
// The pixel an unshuffle reads at index i (0 <= i < n + r - 1) of a side of n pixels. Past the
// far side, reflect reads 2(n - 1) - i, or pixel 0 where that would be negative (format 1.3's
// rule, which does not fold back again as a conv's reflect padding does); edge reads n - 1.
inline int unshuffle_source(int border, int i, int n) {
  if (i < n) return i;
  if (border == int(BorderMode::Edge)) return n - 1;
  const int r = 2 * (n - 1) - i;
  return r > 0 ? r : 0;
}

// What kind of computation an op is: decides how the planner may fuse it and which step runs it.
enum class OpClass : uint8_t {
  Conv,      // Conv2d
  Unary,     // element-wise, per channel: engine/ops/unary.h
  Binary,    // element-wise over two tensors of one shape: engine/ops/binary.h
  Resample,  // changes the resolution (pixel shuffles, upsampling, resize)
  Concat,
  Unshuffle,  // pixel unshuffles of the graph input
  RunInput,   // a value from what the run supplies (RunParams), at its input's resolution
};

struct OpTraits {
  OpType type;
  const char *name;  // as written in .xunit files
  OpClass op_class;
  int min_inputs, max_inputs;  // max -1: any number
  uint16_t format_minor;       // the .xunit 1.x minor version that introduced it
};

const OpTraits &op_traits(OpType type);
inline const char *op_type_name(OpType type) { return op_traits(type).name; }
bool op_type_from_name(const std::string &name, OpType *out);
inline bool is_unary(OpType type) { return op_traits(type).op_class == OpClass::Unary; }

}  // namespace xunit
