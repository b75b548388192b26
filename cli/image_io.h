// Reading and writing images and float32 .npy arrays, as interleaved float pixels. JPEG, PNG,
// WebP and TIFF go through Debian's libraries (libjpeg-turbo, libpng, libwebp, libtiff; EXIF
// through libexif), BMP and TGA through stb (cli/codecs/, one file per format).
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
  // Metadata carried from the input file to outputs whose format can hold it (initialized here,
  // so that aggregate initializations of the fields above need not name these):
  std::vector<uint8_t> exif{};  // EXIF as a TIFF structure ("II*\0..." or "MM\0*...", without
                                // JPEG's "Exif\0\0"); on load its orientation is applied to
                                // the pixels and rewritten as 1, its thumbnail dropped
  std::vector<uint8_t> icc{};   // ICC colour profile, byte for byte
  // The file stored its chroma at a lower resolution than its luma (a 4:2:0 or 4:2:2 JPEG,
  // lossy WebP): decoding kept only the luma's share of noise that was in the pixels before
  // saving, which the noise estimate needs to know (xunit_estimate_noise_level_stored).
  bool chroma_subsampled = false;
};

// Options of save_image.
struct SaveOptions {
  int quality = 0;           // JPEG and WebP, 1..100; 0: the default (JPEG 95, WebP lossless)
  int png_compression = -1;  // PNG: zlib level 0..9; -1: the default, kDefaultPngCompression
};
constexpr int kDefaultJpegQuality = 95;
// zlib's fastest level, as OpenCV writes PNG: a denoised 512x512 photo encodes in ~17 ms (rows
// Paeth-filtered: cli/codecs/png_codec.cpp) where level 6 (libpng's own default) takes ~100 ms,
// for a file 2.4% larger than level 3's.
constexpr int kDefaultPngCompression = 1;

// Default pixel limit (width * height) for decoding: 2^28 (e.g. 16384 x 16384).
constexpr size_t kDefaultMaxPixels = size_t(1) << 28;

// Loads by content (PNG/JPEG/WebP/TIFF/BMP/TGA magic) or, for .npy, by the NumPy magic. Gray
// stays gray (1 or 2 channels), alpha is kept; an EXIF (or TIFF) orientation is applied, so the
// pixels are upright. .npy must be float32 (or float64, converted), little-endian, C order,
// shape (H, W) or (H, W, C). Throws xunit::Error with one line naming the file and the reason
// (decoder's reason included).
Image load_image(const std::string &path, size_t max_pixels = kDefaultMaxPixels);

// The same, from bytes in memory (`npy_by_name`: the file name ends in .npy, so a bad magic is
// reported as such).
Image decode_image(const uint8_t *data, size_t size, size_t max_pixels, bool npy_by_name = false);

// Output format from the extension: .png and .tif/.tiff (8-bit, or 16-bit when bits == 16),
// .jpg/.jpeg (8-bit, gray or RGB, alpha dropped), .webp (8-bit RGB or RGBA; gray as R = G = B),
// .bmp, .tga, .npy (float32, unclamped). Image values are clamped to [0,1] and rounded for
// integer formats. EXIF (pixel dimensions updated) and ICC go where the format holds them: JPEG,
// PNG and WebP both, TIFF the ICC profile only. Written atomically (temp file + rename); an
// existing file is replaced only when `overwrite` is true. Throws xunit::Error on failure,
// leaving no file.
void save_image(const std::string &path, const Image &image, bool overwrite,
                const SaveOptions &options = SaveOptions());

// True when the extension names a format save_image can write.
bool is_supported_output(const std::string &path);
// True when the extension names a format load_image can read (.png .jpg .jpeg .webp .tif .tiff
// .bmp .tga .npy).
bool is_supported_input(const std::string &path);

}  // namespace xunit::cli
