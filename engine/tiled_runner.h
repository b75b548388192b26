// Runs a compiled model over a whole image, tile by tile, across OpenMP threads.
#pragma once
#include <functional>

#include "engine/compiled_model.h"
#include "xunit/xunit.h"

namespace xunit {

struct Cancelled {};  // thrown when the progress callback asks to stop

struct RunConfig {
  int threads = 1;
  int tile_size = -1;  // -1 automatic, 0 whole image
  std::function<bool(float)> progress;  // returns false to cancel; called serialized
};

// Validates nothing about the descriptors (the C API does); throws Cancelled or xunit::Error.
void run_tiled(const CompiledModel &model, const xunit_image &input, const xunit_image &output,
               const RunConfig &config);

}  // namespace xunit
