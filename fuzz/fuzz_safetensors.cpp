// libFuzzer target: the safetensors reader (header length, JSON, offsets, dtypes, shapes).
#include <cstdint>

#include "common/error.h"
#include "converter/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    (void)xunit::convert::read_safetensors(data, size);
  } catch (const xunit::Error &) {
  }
  return 0;
}
