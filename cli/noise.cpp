#include "cli/noise.h"

#include <random>

namespace xunit::cli {

void add_gaussian_noise(Image &image, float sigma, uint64_t seed, const std::string &name) {
  // FNV-1a of the name, mixed with the seed: independent streams per file, reproducible.
  uint64_t h = 1469598103934665603ull ^ (seed * 0x9E3779B97F4A7C15ull);
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  std::mt19937_64 rng(h);
  std::normal_distribution<float> n(0.f, sigma / 255.f);
  const bool alpha = image.bits != 32 && (image.channels == 2 || image.channels == 4);
  const int colour = alpha ? image.channels - 1 : image.channels;
  for (size_t i = 0; i < image.pixels.size(); ++i)
    if (int(i % size_t(image.channels)) < colour) image.pixels[i] += n(rng);
  // The noise is now in every channel at full resolution, whatever the file had kept.
  image.chroma_subsampled = false;
}

}  // namespace xunit::cli
