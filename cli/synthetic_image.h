// A deterministic test scene (no photographs shipped): smooth shading, hard edges, a
// checkerboard and stripes of rising frequency, what a denoiser must keep apart from noise.
#pragma once
#include "cli/image_io.h"

namespace xunit::cli {

Image synthetic_scene(int width, int height);  // RGB, 8-bit, values in [0, 1]

}  // namespace xunit::cli
