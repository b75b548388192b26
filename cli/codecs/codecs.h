// The per-format decoders and encoders behind cli/image_io (one file each), and the few helpers
// they share. Decoders take a whole file in memory and return 8- or 16-bit samples scaled to
// [0,1], gray as gray and alpha as alpha, with the file's EXIF and ICC profile as found (the
// orientation is applied by image_io, for every format alike). They check the size from the
// header against `max_pixels` before any pixel is allocated, and throw xunit::Error with one
// line and no file name (image_io adds it). Encoders throw the same way.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/image_io.h"
#include "common/error.h"

namespace xunit::cli {

struct Decoded {
  Image image;
  int orientation = 0;  // a TIFF's Orientation tag (1..8); 0: take it from image.exif
};

Decoded decode_jpeg(const uint8_t *data, size_t size, size_t max_pixels);
Decoded decode_png(const uint8_t *data, size_t size, size_t max_pixels);
Decoded decode_webp(const uint8_t *data, size_t size, size_t max_pixels);
Decoded decode_tiff(const uint8_t *data, size_t size, size_t max_pixels);

// `exif`: what to write (already made true for the image by image_io; empty: none). The ICC
// profile is image.icc.
std::vector<uint8_t> encode_jpeg(const Image &image, const std::vector<uint8_t> &exif, int quality);
std::vector<uint8_t> encode_png(const Image &image, const std::vector<uint8_t> &exif,
                                int compression);  // zlib level 0..9
std::vector<uint8_t> encode_webp(const Image &image, const std::vector<uint8_t> &exif,
                                 int quality);         // 0: lossless
std::vector<uint8_t> encode_tiff(const Image &image);  // ICC only: see README

// Throws the pixel-limit error when width * height exceeds max_pixels; otherwise returns
// width * height * channels (checked for overflow).
size_t checked_samples(size_t width, size_t height, size_t channels, size_t max_pixels);

// "corrupt or truncated JPEG data (reason)": the one wording of every decoder's data errors.
Error corrupt(const char *format, const std::string &reason);

// An image from decoded samples (width * height * channels of them): 8-bit, or 16-bit in
// big-endian order (PNG) or the host's (libtiff's); values scaled to [0,1].
Image image_from_samples(const std::vector<uint8_t> &raw, int width, int height, int channels,
                         int bits, bool big_endian);

// The image's samples to encode: 8-bit, or 16-bit in big-endian or the host's order; [0,1]
// clamped and rounded.
std::vector<uint8_t> raw_samples(const Image &image, int bits, bool big_endian);

// An image's samples as 8-bit (or 16-bit) integers, [0,1] clamped and rounded.
std::vector<uint8_t> samples_u8(const Image &image);
std::vector<uint16_t> samples_u16(const Image &image);

// Keeps `keep` of the image's interleaved channels per pixel (e.g. drops alpha from RGBA with
// keep = 3), or replicates a gray channel to RGB (from 1 or 2 channels, keep = 3 or 4: gray and
// alpha). 8-bit samples.
std::vector<uint8_t> remap_channels(const std::vector<uint8_t> &samples, int channels, int keep);

// Largest EXIF (TIFF structure) and ICC profile carried: what one JPEG APP1 segment holds, and
// what 255 APP2 segments do.
constexpr size_t kMaxExifBytes = 65533 - 6;
constexpr size_t kMaxIccBytes = size_t(255) * (65533 - 16);

}  // namespace xunit::cli
