// The noise level of an image: the standard deviation of additive white noise, in 8-bit levels,
// from the flattest blocks of a fine-scale high-pass band (xunit_estimate_noise_level; the
// noise level a noise-conditioned denoiser is given in XUNIT_NOISE_LEVEL_AUTO).
#pragma once
#include "xunit/xunit.h"

namespace xunit {

// `image` must be a valid descriptor (the C API checks it). Colour channels only: with 2 or 4
// channels the last one (alpha) is left out. 0 when nothing can be measured (smaller than 3x3,
// constant, every block clipped or non-finite). Deterministic, single-threaded, reads the image
// once (twice when read by its luma) and allocates at most a few MB whatever its size; throws
// std::bad_alloc only. `chroma_subsampled`: the image was decoded from a file that stored its
// chroma at a lower resolution than its luma (most JPEGs, lossy WebP), which kept of noise
// independent in R, G and B only its luma share: an RGB or RGBA image is then read by its luma
// (gray content, gray and gray+alpha images as without it).
float estimate_noise_level(const xunit_image &image, bool chroma_subsampled);

}  // namespace xunit
