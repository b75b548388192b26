// Recognising pixel shuffles that exporters write as tensor gymnastics: PyTorch writes
// pixel_unshuffle as Unsqueeze/Reshape/Transpose/Reshape/Squeeze, BasicSR's arch_util as
// Reshape/Transpose/Reshape with shapes computed by Shape/Gather/Div/Concat, older code writes
// pixel_shuffle the same way. Instead of matching each exporter's node pattern, the importer
// runs the chain on a probe: an image tensor whose elements are their own indices, at two
// sizes; the chain is a pixel shuffle of factor r exactly when the result is that shuffle's
// permutation of the indices at both sizes (the sizes are what a Shape node reports, so shapes
// computed from them are followed too).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "converter/onnx/onnx_model.h"

namespace xunit::convert::onnx_import {

// A tensor of the probe: a shape value (what Shape and the arithmetic on it compute) or an
// image tensor whose elements are indices into the probe image.
struct ProbeTensor {
  std::vector<int64_t> dims;
  std::vector<int64_t> values;
};

// Node types that only move or describe elements: run on the probe, never emitted.
bool is_layout_node(const std::string &op_type);  // Reshape, Transpose, Unsqueeze, Squeeze, Flatten
bool is_shape_node(const std::string &op_type);   // Shape, Gather, Cast, Concat, arithmetic, ...

// Runs one node on the probe. `inputs[k]` is the node's k-th input (nullptr when omitted).
// Throws xunit::Error prefixed with the node's label for anything it cannot follow.
ProbeTensor run_probe_node(const onnx::NodeProto &node,
                           const std::vector<const ProbeTensor *> &inputs, int64_t opset);

// A constant as probe values: false when a value is not an integer (sizes, axes, indices are;
// values beyond int64 saturate, as ONNX's INT64_MAX "to the end" markers do in float).
bool probe_from_constant(const Constant &c, ProbeTensor *out);

// The probe image: [1, C, H, W] with element i = i.
ProbeTensor probe_image(int64_t channels, int64_t height, int64_t width);

// What a chain did to a [1, C, H, W] probe image, given its result.
struct LayoutMove {
  enum Kind { NotAShuffle, Identity, PixelShuffle, PixelShuffleDcr, PixelUnshuffle, SpaceToDepth };
  Kind kind = NotAShuffle;
  int factor = 1;
};
LayoutMove classify_layout(const ProbeTensor &result, int64_t channels, int64_t height,
                           int64_t width);

}  // namespace xunit::convert::onnx_import
