// Writing and reading .xunit files (format: docs/xunit-format.md).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/graph.h"

namespace xunit {

// Serializes a validated graph. Tensors are stored as `storage` (fp32, fp16 or bf16; fp16/bf16
// round to nearest even). Metadata is written as given.
std::vector<uint8_t> serialize_model(const Graph &graph, DType storage);

// Parses and validates a model held in `bytes` (checksum first, then every offset and size,
// then the graph). fp32 tensors point into `bytes`, which must outlive the graph.
// Throws xunit::Error with one clear line.
Graph parse_model(const uint8_t *bytes, size_t size);

// Copies every tensor that still points into the file's bytes into memory the graph owns, so
// that the bytes (a mapping of a file someone may truncate or rewrite) can be released.
void own_weights(Graph &graph);

}  // namespace xunit
