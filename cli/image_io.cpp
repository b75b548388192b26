#include "cli/image_io.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <new>

#include "cli/npy_io.h"
#include "cli/png16_writer.h"
#include "cli/stb_codec.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/pixel.h"

namespace xunit::cli {

namespace {

constexpr int kJpegQuality = 95;
constexpr const char *kSupported = ".png .jpg .jpeg .bmp .tga .npy";

enum class Format { kUnknown, kPng, kJpeg, kBmp, kTga, kNpy };

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

std::vector<uint8_t> encode(Format format, const Image &image) {
  validate(image);
  if (format == Format::kNpy) return encode_npy(image);
  XUNIT_CHECK(image.channels <= 4, std::to_string(image.channels) +
                                       " channels cannot be stored in this format (1 to 4)");
  if (format == Format::kPng && image.bits == 16) {
    std::vector<uint16_t> samples(image.pixels.size());
    for (size_t i = 0; i < samples.size(); ++i) samples[i] = quantize_u16(image.pixels[i]);
    return encode_png16(samples.data(), image.width, image.height, image.channels);
  }
  std::vector<uint8_t> samples(image.pixels.size());
  for (size_t i = 0; i < samples.size(); ++i) samples[i] = quantize_u8(image.pixels[i]);
  StbFormat stb_format = StbFormat::kPng;
  switch (format) {
    case Format::kJpeg:
      stb_format = StbFormat::kJpeg;
      break;
    case Format::kBmp:
      stb_format = StbFormat::kBmp;
      break;
    case Format::kTga:
      stb_format = StbFormat::kTga;
      break;
    default:
      break;
  }
  if (format == Format::kPng &&
      (size_t(image.width) * 4 + 4) * size_t(image.height) > kStbWriteMaxBytes) {
    // Beyond what stb_image_write's int arithmetic handles safely.
    return encode_png8(samples.data(), image.width, image.height, image.channels);
  }
  return encode_with_stb(stb_format, samples.data(), image.width, image.height, image.channels,
                         kJpegQuality);
}

}  // namespace

Image decode_image(const uint8_t *data, size_t size, size_t max_pixels, bool npy_by_name) {
  XUNIT_CHECK(size > 0, "empty file");
  if (is_npy(data, size)) return decode_npy(data, size, max_pixels);
  XUNIT_CHECK(!npy_by_name, "not a .npy file (bad magic)");
  return decode_with_stb(data, size, max_pixels);
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

void save_image(const std::string &path, const Image &image, bool overwrite) {
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
    bytes = encode(format, image);
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
