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
};

struct Cancelled {};  // thrown when the progress callback asks to stop

// Colour channels: an image whose colour channel count equals the model's runs as is; a gray
// model runs on each of R, G, B of a color image; a color model runs on a gray image replicated
// to RGB and its result is averaged back to gray. An alpha channel (images only, not .npy) is
// passed through, resized bilinearly for super-resolution. .npy arrays must have the model's
// channel count and give the raw output. The EXIF and ICC profile are carried to the result.
// Throws xunit::Error or Cancelled.
Image restore(const xunit_model *model, const Image &image, const RestoreOptions &options);

}  // namespace xunit::cli
