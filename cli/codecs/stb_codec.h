// BMP and TGA through stb_image(_write), in memory. stb stays for these two: no Debian library
// is a better tool for them (libjpeg, libpng, libwebp and libtiff cover the other formats), and
// stb reads every BMP and TGA variant seen in practice in a few checked lines.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cli/image_io.h"

namespace xunit::cli {

enum class StbFormat { kBmp, kTga };

// True when the bytes look like a BMP or TGA file (stb's own checks; TGA has no magic).
bool is_bmp_or_tga(const uint8_t *data, size_t size);

// Decodes a BMP or TGA file held in memory (other formats stb knows, such as GIF, PSD, HDR or
// PNM, are refused). The size from the header is checked against max_pixels before any pixel
// is decoded. bits = 8, values scaled to [0,1]. Throws xunit::Error with a one-line reason
// (stb's included).
Image decode_with_stb(const uint8_t *data, size_t size, size_t max_pixels);

// Largest width * height * channels (plus row overhead) handed to stb_image_write, whose
// internal sizes are ints.
constexpr size_t kStbWriteMaxBytes = size_t(1) << 29;

// Encodes 8-bit interleaved samples (channels 1..4). Alpha is dropped where the format cannot
// store it as stb does: BMP for gray+alpha (written as 24-bit gray). Throws xunit::Error with a
// one-line reason.
std::vector<uint8_t> encode_with_stb(StbFormat format, const uint8_t *samples, int width,
                                     int height, int channels);

}  // namespace xunit::cli
