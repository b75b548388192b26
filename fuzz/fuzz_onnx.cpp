// libFuzzer target: ONNX import as xunit-convert does it (protobuf parsing with the ONNX schema,
// constants, topological order, op translation, graph validation), then planning the graph.
#include <cstdint>
#include <vector>

#include "common/error.h"
#include "converter/onnx/onnx_import.h"
#include "engine/plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    const std::vector<uint8_t> bytes(data, data + size);
    xunit::Graph g = xunit::convert::import_onnx(bytes, {});
    (void)xunit::make_plan(g, 16);
    (void)xunit::make_plan(g, 8);
  } catch (const xunit::Error &) {
  }
  return 0;
}
