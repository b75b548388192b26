// libFuzzer target: checkpoint reading as xunit-convert does it: format detection, the zip
// reader, the pickle machine (legacy and zip torch files), safetensors, then building the graph
// of whatever family the keys suggest.
#include <cstdint>
#include <vector>

#include "common/error.h"
#include "converter/checkpoint.h"
#include "converter/families/family_registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    const std::vector<uint8_t> bytes(data, data + size);
    xunit::convert::StateDict dict = xunit::convert::load_checkpoint(bytes);
    (void)xunit::convert::build_graph(dict, "", {});
  } catch (const xunit::Error &) {
  }
  return 0;
}
