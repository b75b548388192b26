// One image through a model, as xunit-run does it: colour channels adapted to the model, alpha
// passed through, optional 8-fold test-time augmentation, progress and cancellation.
#pragma once
#include <cstdint>
#include <functional>

#include "cli/image_io.h"
#include "xunit/xunit.h"

namespace xunit::cli {

struct RestoreOptions {
  int threads = 0;  // 0: all cores
  int tile = -1;    // stripe width (-1 automatic, 0 whole width)
  int32_t precision = XUNIT_PRECISION_FP32;
  bool tta = false;                     // average the 8 flips/rotations of the input (8x the work)
  std::function<bool(float)> progress;  // fraction of this image done; false cancels
  // For a model with a noise-level input (xunit_model_info.noise_level_input): `sigma` (8-bit
  // levels), or when sigma_auto the level xunit_estimate_noise_level reads on what the model
  // runs on, once per image. on_noise_level (may be empty) is told it and where it came from
  // before the runs; blind models get no level and no call.
  enum class LevelSource {
    kGiven,
    kEstimated,
    kEstimatedLuma  // RGB from a file with subsampled chroma: read by its luma (gray content aside)
  };
  bool sigma_auto = true;
  float sigma = 0;
  std::function<void(float sigma, LevelSource source)> on_noise_level;
};

struct Cancelled {};  // thrown when the progress callback asks to stop

// Whether the colour channels of an RGB(A) image hold gray content (a black-and-white photo
// saved as RGB): every pixel's R, G, B within 2 levels of 255 of each other (what a JPEG
// encoder's and decoder's colour conversions may leave of a gray image's chroma; libjpeg-turbo
// and stb leave none), and no tint: the mean of R - G and of B - G within a quarter level (a
// uniform tint of even one level exceeds it, zero-mean rounding noise does not). False for
// other channel counts and for .npy arrays.
constexpr float kGraySpread = 2.5f / 255.f;  // 2 levels, with room for float rounding
constexpr float kGrayTint = 0.25f / 255.f;
bool gray_content(const Image &image);

// Colour channels: an image whose colour channel count equals the model's runs as is; a gray
// model runs on each of R, G, B of a color image, or once on the mean of R, G, B when they hold
// gray content (each channel then gets the result plus its own difference from the mean: an
// exactly gray image comes out exactly gray, nothing of a near-gray one is lost); a color model
// runs on a gray image replicated to RGB and its result is averaged back to gray. An alpha channel
// (images only, not .npy) is passed through, resized bilinearly for super-resolution. .npy arrays
// must have the model's channel count and give the raw output. The EXIF and ICC profile are
// carried to the result. A noise-conditioned model's level (auto) is estimated on the image it
// runs on: the gray content, the RGB that a gray model runs on channel by channel (the median
// of the three), the Y channel of an SRCNN-style model; RGB from a file with subsampled chroma
// (Image::chroma_subsampled) by its luma. Throws xunit::Error or Cancelled.
Image restore(const xunit_model *model, const Image &image, const RestoreOptions &options);

}  // namespace xunit::cli
