// SRCNN-style super-resolution (the xUnit paper's xSRCNN, SRCNN, VDSR-like networks): the
// network restores the Y channel of an image already upsampled by bicubic interpolation. A
// model says so in its metadata (`pipeline` = `ycbcr_bicubic`, `sr_scale` = s); xunit-run then
// does the whole job: bicubic upsampling, BT.601 YCbCr, the network on Y, back to RGB.
#pragma once
#include <functional>
#include <vector>

#include "cli/image_io.h"

namespace xunit::cli {

// Bicubic upsampling by an integer factor as PIL's Image.resize(BICUBIC) computes it: Keys'
// kernel with a = -0.5 centred at (x + 0.5) / factor - 0.5, taps outside the image dropped and
// the remaining weights renormalised. Every channel; the result is not clamped.
Image upsample_bicubic(const Image &image, int factor);

// BT.601 "studio range" as the SRCNN papers and MATLAB's rgb2ycbcr use it, on [0, 1] values:
// Y = 16/255 + (65.481 R + 128.553 G + 24.966 B) / 255, Cb and Cr around 128/255.
void rgb_to_ycbcr(const float *rgb, float *ycbcr);
void ycbcr_to_rgb(const float *ycbcr, float *rgb);

// The pipeline on an 8/16-bit image (1 to 4 channels; alpha is upsampled and passed through):
// `restore_y` maps the upsampled Y plane (width * height values) to the restored one. Gray
// images are taken as R = G = B.
Image restore_ycbcr_bicubic(
    const Image &image, int factor,
    const std::function<std::vector<float>(const std::vector<float> &, int width, int height)>
        &restore_y);

}  // namespace xunit::cli
