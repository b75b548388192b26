// Reading the .npy fixtures the generator scripts write (float32 (H, W, C) arrays).
#pragma once
#include <string>
#include <vector>

#include "cli/npy_io.h"
#include "common/file_io.h"
#include "engine_harness.h"

namespace xunit::testing {

inline HwcImage load_npy(const std::string &path) {
  std::vector<uint8_t> bytes = read_file(path);
  cli::Image img = cli::decode_npy(bytes.data(), bytes.size(), size_t(1) << 30);
  return {img.width, img.height, img.channels, img.pixels};
}

}  // namespace xunit::testing
