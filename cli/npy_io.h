// NumPy .npy encoding and decoding for float images (format versions 1.0, 2.0 and 3.0).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cli/image_io.h"

namespace xunit::cli {

// True when the buffer starts with the .npy magic "\x93NUMPY".
bool is_npy(const uint8_t *data, size_t size);

// Decodes a whole .npy file held in memory. Accepts descr '<f4' (or '<f8', converted to
// float32), fortran_order False, shape (H, W) or (H, W, C) with every dimension >= 1 and
// H * W <= max_pixels; the data must exactly fill the rest of the file. The result has
// bits = 32 and unscaled values. Throws xunit::Error with a one-line reason (no file name).
Image decode_npy(const uint8_t *data, size_t size, size_t max_pixels);

// Encodes as .npy version 1.0, descr '<f4', C order, shape (H, W, C) (always 3-D, also for
// one channel), header padded with spaces so the data starts at a multiple of 64 bytes.
// Throws xunit::Error when the image's size fields disagree with its pixel count.
std::vector<uint8_t> encode_npy(const Image &image);

}  // namespace xunit::cli
