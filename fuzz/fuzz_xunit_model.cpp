// libFuzzer target: the .xunit reader (checksum, section table, tensor table, graph, validation).
// The checksum would stop almost every mutation at the first check, so the fuzzer's input is
// the model without its trailer and the valid SHA-256 is appended here: the parser behind the
// checksum is what hostile files reach when they are crafted, not corrupted.
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "common/sha256.h"
#include "engine/model_file.h"
#include "engine/model_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> file(data, data + size);
  if (size >= 24) {  // make the header's file size agree, as a crafted file would
    const uint64_t total = size + xunit::format::kChecksumSize;
    std::memcpy(file.data() + 16, &total, 8);
  }
  const auto digest = xunit::Sha256::digest(file.data(), file.size());
  file.insert(file.end(), digest.begin(), digest.end());
  try {
    xunit::Graph g = xunit::parse_model(file.data(), file.size());
    (void)g.halo();
  } catch (const xunit::Error &) {
  }
  return 0;
}
