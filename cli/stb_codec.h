// Decoding PNG/JPEG/BMP/TGA and encoding PNG/JPEG/BMP/TGA through stb_image(_write), in memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cli/image_io.h"

namespace xunit::cli {

enum class StbFormat { kPng, kJpeg, kBmp, kTga };

// Decodes a PNG, JPEG, BMP or TGA file held in memory (other formats stb knows, such as GIF,
// PSD, HDR or PNM, are refused). The size from the header is checked against max_pixels
// before any pixel is decoded. 16-bit PNGs decode with bits = 16, the rest with bits = 8;
// values are scaled to [0,1]. Throws xunit::Error with a one-line reason (stb's included).
Image decode_with_stb(const uint8_t *data, size_t size, size_t max_pixels);

// Largest width * height * channels (plus row overhead) handed to stb_image_write, whose
// internal sizes are ints.
constexpr size_t kStbWriteMaxBytes = size_t(1) << 29;

// Encodes 8-bit interleaved samples (channels 1..4). JPEG uses `jpeg_quality` (1..100).
// Alpha is dropped where the format cannot store it as stb does: JPEG always; BMP for gray+alpha
// (written as 24-bit gray). Throws xunit::Error with a one-line reason.
std::vector<uint8_t> encode_with_stb(StbFormat format, const uint8_t *samples, int width,
                                     int height, int channels, int jpeg_quality);

}  // namespace xunit::cli
