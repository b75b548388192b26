// `xunit-convert model.onnx out.xunit`: ONNX graphs (as torch.onnx.export writes them, opset
// 11-18, dynamic H/W) made of the ops xUnit networks use, translated into the graph IR:
// BatchNorm folded into the conv before it where that conv feeds nothing else, Mul(x,
// Sigmoid(y)) fused into the xUnit gate, channel-wise constant arithmetic turned into affine
// ops. A second graph input (N, 1, H, W) is a noise-level map (a conditioned denoiser's
// forward(image, map)): the engine's noise_level_map op, filled from the run's noise level. An
// op, attribute or shape the engine cannot run is an error naming the node.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/graph.h"

namespace xunit::convert {

// Whether `bytes` (read from `path`) should be read as ONNX: a .onnx name, or content that no
// checkpoint reader claims and that starts like a serialized ModelProto.
bool looks_like_onnx(const std::string &path, const std::vector<uint8_t> &bytes);

// Builds and validates the graph; fills the metadata (family "onnx", task, scale, channels,
// receptive field, opset, producer; noise_level_input when the graph takes a noise-level map).
// ONNX graphs carry their own hyper-parameters: `settings` (--set) takes only noise_input (the
// name of the input that is the noise-level map, when its shape cannot tell) and
// noise_level_scale (what the map holds per level of sigma: 1/255 unless given).
Graph import_onnx(const std::vector<uint8_t> &bytes,
                  const std::map<std::string, std::string> &settings);

// Every op type the importer translates (for --help and docs).
const char *onnx_supported_ops();

}  // namespace xunit::convert
