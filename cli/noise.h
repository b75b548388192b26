// Gaussian noise for making test inputs (--add-noise): x + sigma/255 * N(0, 1), the noise model
// the denoisers are trained for (MODELS.md). Not clipped: saving to an integer format clips.
#pragma once
#include <cstdint>
#include <string>

#include "cli/image_io.h"

namespace xunit::cli {

// Adds noise to the colour channels (not alpha). The noise is a function of `seed` and `name`
// only: rerunning gives the same noisy image, and images of a folder get different noise. The
// image is then no longer one whose file kept only the luma of its noise (chroma_subsampled).
void add_gaussian_noise(Image &image, float sigma, uint64_t seed, const std::string &name);

}  // namespace xunit::cli
