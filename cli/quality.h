// Image quality against a reference: what --psnr prints.
#pragma once
#include "cli/image_io.h"

namespace xunit::cli {

struct Quality {
  double psnr = 0;  // dB over all colour channels (alpha excluded), values in [0, 1]; inf if equal
  double ssim = 0;  // mean SSIM (Gaussian window 11x11, sigma 1.5) of the luma (BT.601) or gray
};

// Throws xunit::Error when the sizes or channel counts differ.
Quality measure(const Image &image, const Image &reference);

}  // namespace xunit::cli
