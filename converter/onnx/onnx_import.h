// `xunit-convert model.onnx out.xunit`: ONNX graphs (as torch.onnx.export writes them, opset
// 11-18, dynamic H/W) made of the ops xUnit networks use, translated into the graph IR:
// BatchNorm folded into the conv before it where that conv feeds nothing else, Mul(x,
// Sigmoid(y)) fused into the xUnit gate, channel-wise constant arithmetic turned into affine
// ops. An op, attribute or shape the engine cannot run is an error naming the node.
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
// receptive field, opset, producer). `settings` (--set) must be empty: ONNX graphs carry
// their own hyper-parameters.
Graph import_onnx(const std::vector<uint8_t> &bytes,
                  const std::map<std::string, std::string> &settings);

// Every op type the importer translates (for --help and docs).
const char *onnx_supported_ops();

}  // namespace xunit::convert
