// Reading and writing images (png 8/16-bit, jpg, bmp, tga via stb; 16-bit PNG via zlib) and
// float32 .npy arrays, as interleaved float pixels.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xunit::cli {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;           // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; any count for .npy
  int bits = 8;               // 8 or 16 for decoded images; 32 for .npy (float32 values, unscaled)
  std::vector<float> pixels;  // height * width * channels, row-major HWC; [0,1] for 8/16-bit
};

// Default pixel limit (width * height) for decoding: 2^28 (e.g. 16384 x 16384).
constexpr size_t kDefaultMaxPixels = size_t(1) << 28;

// Loads by content (PNG/JPEG/BMP/TGA magic) or, for .npy, by the NumPy magic. .npy must be
// float32 (or float64, converted), little-endian, C order, shape (H, W) or (H, W, C).
// Throws xunit::Error with one line naming the file and the reason (decoder's reason included).
Image load_image(const std::string &path, size_t max_pixels = kDefaultMaxPixels);

// The same, from bytes in memory (`npy_by_name`: the file name ends in .npy, so a bad magic is
// reported as such).
Image decode_image(const uint8_t *data, size_t size, size_t max_pixels, bool npy_by_name = false);

// Output format from the extension: .png (8-bit, or 16-bit when bits == 16), .jpg/.jpeg
// (quality 95), .bmp, .tga, .npy (float32, unclamped). Image values are clamped to [0,1] and
// rounded for integer formats. Written atomically (temp file + rename); an existing file is
// replaced only when `overwrite` is true. Throws xunit::Error on failure, leaving no file.
void save_image(const std::string &path, const Image &image, bool overwrite);

// True when the extension names a format save_image can write.
bool is_supported_output(const std::string &path);
// True when the extension names a format load_image can read (.png .jpg .jpeg .bmp .tga .npy).
bool is_supported_input(const std::string &path);

}  // namespace xunit::cli
