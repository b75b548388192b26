#include "cli/image_io.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <utility>

#include "cli/codecs/codecs.h"
#include "cli/codecs/exif_metadata.h"
#include "cli/codecs/orientation.h"
#include "cli/codecs/stb_codec.h"
#include "cli/npy_io.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/pixel.h"

namespace xunit::cli {

namespace {

constexpr const char *kSupported = ".png .jpg .jpeg .webp .tif .tiff .bmp .tga .npy";

enum class Format { kUnknown, kPng, kJpeg, kWebp, kTiff, kBmp, kTga, kNpy };

// Lower-case extension of the file name without the dot; "" when there is none. A leading
// dot (".png" as a whole name) marks a hidden file, not an extension.
std::string extension(const std::string &path) {
  size_t slash = path.find_last_of('/');
  size_t base = slash == std::string::npos ? 0 : slash + 1;
  size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || dot <= base) return "";
  std::string ext = path.substr(dot + 1);
  for (char &c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

Format format_of(const std::string &path) {
  const std::string ext = extension(path);
  if (ext == "png") return Format::kPng;
  if (ext == "jpg" || ext == "jpeg") return Format::kJpeg;
  if (ext == "webp") return Format::kWebp;
  if (ext == "tif" || ext == "tiff") return Format::kTiff;
  if (ext == "bmp") return Format::kBmp;
  if (ext == "tga") return Format::kTga;
  if (ext == "npy") return Format::kNpy;
  return Format::kUnknown;
}

// Checks the image's size fields against its pixel count.
void validate(const Image &image) {
  XUNIT_CHECK(image.width > 0 && image.height > 0 && image.channels > 0,
              "invalid image size " + std::to_string(image.width) + "x" +
                  std::to_string(image.height) + "x" + std::to_string(image.channels));
  size_t count = 0;
  XUNIT_CHECK(checked_mul(size_t(image.width), size_t(image.height), &count) &&
                  checked_mul(count, size_t(image.channels), &count),
              "image too large");
  XUNIT_CHECK(image.pixels.size() == count, "image has " + std::to_string(image.pixels.size()) +
                                                " values, expected " + std::to_string(count));
}

std::vector<uint8_t> encode(Format format, const Image &image, const SaveOptions &options) {
  validate(image);
  if (format == Format::kNpy) return encode_npy(image);
  XUNIT_CHECK(image.channels <= 4, std::to_string(image.channels) +
                                       " channels cannot be stored in this format (1 to 4)");
  XUNIT_CHECK(options.quality >= 0 && options.quality <= 100, "quality must be in [1, 100]");
  XUNIT_CHECK(options.png_compression >= -1 && options.png_compression <= 9,
              "PNG compression must be in [0, 9]");
  // The carried EXIF made true for this image (its size may differ from the input's).
  const std::vector<uint8_t> exif =
      image.exif.empty() ? image.exif : exif_for_image(image.exif, image.width, image.height);
  switch (format) {
    case Format::kPng:
      return encode_png(
          image, exif,
          options.png_compression < 0 ? kDefaultPngCompression : options.png_compression);
    case Format::kJpeg:
      return encode_jpeg(image, exif, options.quality ? options.quality : kDefaultJpegQuality);
    case Format::kWebp:
      return encode_webp(image, exif, options.quality);
    case Format::kTiff:
      return encode_tiff(image);
    default:
      break;
  }
  const std::vector<uint8_t> samples = samples_u8(image);
  return encode_with_stb(format == Format::kBmp ? StbFormat::kBmp : StbFormat::kTga, samples.data(),
                         image.width, image.height, image.channels);
}

bool starts_with(const uint8_t *data, size_t size, const char *magic, size_t n) {
  return size >= n && std::memcmp(data, magic, n) == 0;
}

// The decoder for the bytes, by their magic.
Decoded decode_by_content(const uint8_t *data, size_t size, size_t max_pixels) {
  if (starts_with(data, size, "\x89PNG\r\n\x1a\n", 8)) return decode_png(data, size, max_pixels);
  if (starts_with(data, size, "\xff\xd8\xff", 3)) return decode_jpeg(data, size, max_pixels);
  if (size >= 12 && starts_with(data, size, "RIFF", 4) && std::memcmp(data + 8, "WEBP", 4) == 0)
    return decode_webp(data, size, max_pixels);
  if (starts_with(data, size, "II*\0", 4) || starts_with(data, size, "MM\0*", 4) ||
      starts_with(data, size, "II+\0", 4) || starts_with(data, size, "MM\0+", 4))
    return decode_tiff(data, size, max_pixels);
  XUNIT_CHECK(is_bmp_or_tga(data, size),
              "unrecognized image format (supported: png, jpg, webp, tif, bmp, tga, npy)");
  return Decoded{decode_with_stb(data, size, max_pixels), 1};
}

}  // namespace

Image decode_image(const uint8_t *data, size_t size, size_t max_pixels, bool npy_by_name) {
  XUNIT_CHECK(size > 0, "empty file");
  if (is_npy(data, size)) return decode_npy(data, size, max_pixels);
  XUNIT_CHECK(!npy_by_name, "not a .npy file (bad magic)");
  Decoded d = decode_by_content(data, size, max_pixels);
  Image &image = d.image;
  // Upright pixels, and metadata that says so (and that fits what outputs can carry).
  image.exif = exif_without_prefix(image.exif);
  apply_orientation(image, d.orientation ? d.orientation : exif_orientation(image.exif));
  if (!image.exif.empty()) image.exif = exif_for_image(image.exif, image.width, image.height);
  if (image.icc.size() > kMaxIccBytes) image.icc.clear();
  return std::move(image);
}

Image load_image(const std::string &path, size_t max_pixels) {
  std::vector<uint8_t> bytes = read_file(path);  // its errors name the path
  try {
    return decode_image(bytes.data(), bytes.size(), max_pixels, format_of(path) == Format::kNpy);
  } catch (const Error &e) {
    throw Error("cannot decode '" + path + "': " + e.what());
  } catch (const std::bad_alloc &) {
    throw Error("cannot decode '" + path + "': out of memory");
  }
}

void save_image(const std::string &path, const Image &image, bool overwrite,
                const SaveOptions &options) {
  const Format format = format_of(path);
  if (format == Format::kUnknown) {
    const std::string ext = extension(path);
    throw Error("cannot write '" + path + "': unsupported output extension " +
                (ext.empty() ? std::string("(none)") : "'." + ext + "'") +
                " (supported: " + kSupported + ")");
  }
  if (!overwrite && file_exists(path))  // fail before encoding; write_file_atomic rechecks
    throw Error("output exists (not overwritten): '" + path + "'");
  std::vector<uint8_t> bytes;
  try {
    bytes = encode(format, image, options);
  } catch (const Error &e) {
    throw Error("cannot write '" + path + "': " + e.what());
  } catch (const std::bad_alloc &) {
    throw Error("cannot write '" + path + "': out of memory");
  }
  write_file_atomic(path, bytes.data(), bytes.size(), overwrite);  // its errors name the path
}

bool is_supported_output(const std::string &path) { return format_of(path) != Format::kUnknown; }

bool is_supported_input(const std::string &path) { return format_of(path) != Format::kUnknown; }

}  // namespace xunit::cli
