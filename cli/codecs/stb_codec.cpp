#include "cli/codecs/stb_codec.h"

#include <stb_image.h>
#include <stb_image_write.h>

#include <climits>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "cli/codecs/codecs.h"
#include "common/error.h"

namespace xunit::cli {

namespace {

bool starts_with(const uint8_t *data, size_t size, const char *magic, size_t n) {
  return size >= n && std::memcmp(data, magic, n) == 0;
}

enum class Kind { kNone, kBmp, kTga };

// stb_image also reads GIF, PSD, HDR, PIC and PNM; only BMP and TGA are wanted from it.
// TGA has no magic: check the header fields stb's own TGA test looks at.
Kind detect(const uint8_t *data, size_t size) {
  if (starts_with(data, size, "BM", 2)) return Kind::kBmp;
  if (size < 18) return Kind::kNone;
  const uint8_t colormap_type = data[1], image_type = data[2];
  if (colormap_type > 1) return Kind::kNone;
  bool ok = colormap_type == 1
                ? image_type == 1 || image_type == 9
                : image_type == 2 || image_type == 3 || image_type == 10 || image_type == 11;
  return ok ? Kind::kTga : Kind::kNone;
}

const char *kind_name(Kind kind) {
  switch (kind) {
    case Kind::kBmp:
      return "BMP";
    case Kind::kTga:
      return "TGA";
    default:
      return "image";
  }
}

// stb's terse failure strings, said so that a user understands them.
std::string stb_reason(Kind kind) {
  const char *r = stbi_failure_reason();
  const std::string reason = r ? r : "", what = kind_name(kind);
  if (reason.empty()) return "corrupt or truncated " + what + " data";
  if (reason == "unknown image type") return "invalid " + what + " header";
  if (reason == "outofdata" || reason == "read past buffer")
    return "corrupt or truncated " + what + " data (" + reason + ")";
  if (reason == "too large") return what + " header announces an image too large to decode";
  return what + ": " + reason;
}

uint32_t le16(const uint8_t *p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8; }
uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }

// stb reads zeros past the end of uncompressed BMP and TGA data instead of failing, so a
// truncated file would decode silently; compute the size the header promises and compare.
// Returns the number of bytes needed, or 0 when it cannot be told from the header.
size_t needed_bytes(Kind kind, const uint8_t *data, size_t size, size_t w, size_t h) {
  if (kind == Kind::kBmp) {
    if (size < 34 || le32(data + 14) < 40) return 0;  // only BITMAPINFOHEADER and later
    const uint32_t offset = le32(data + 10), bpp = le16(data + 28), compression = le32(data + 30);
    if (compression != 0 && compression != 3) return 0;
    if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32) return 0;
    const size_t row = (w * bpp + 31) / 32 * 4;  // w < 2^25: cannot overflow
    return size_t(offset) + row * h;
  }
  if (kind == Kind::kTga) {
    const uint8_t id_len = data[0], colormap_type = data[1], image_type = data[2];
    if (image_type > 3) return 0;  // RLE: only the decoder knows
    const size_t cmap = colormap_type ? size_t(le16(data + 5)) * ((size_t(data[7]) + 7) / 8) : 0;
    const size_t bytes_pp = (size_t(data[16]) + 7) / 8;
    return 18 + size_t(id_len) + cmap + w * h * bytes_pp;
  }
  return 0;
}

struct StbFree {
  void operator()(void *p) const { stbi_image_free(p); }
};

struct Sink {
  std::vector<uint8_t> bytes;
  bool failed = false;
};

// Called from C code: must not throw.
void sink_write(void *context, void *data, int size) {
  Sink *sink = static_cast<Sink *>(context);
  if (sink->failed || size <= 0) return;
  try {
    const uint8_t *p = static_cast<const uint8_t *>(data);
    sink->bytes.insert(sink->bytes.end(), p, p + size);
  } catch (...) {
    sink->failed = true;
  }
}

}  // namespace

bool is_bmp_or_tga(const uint8_t *data, size_t size) { return detect(data, size) != Kind::kNone; }

Image decode_with_stb(const uint8_t *data, size_t size, size_t max_pixels) {
  XUNIT_CHECK(size > 0, "empty file");
  XUNIT_CHECK(size <= size_t(INT_MAX), "file too large to decode (over 2 GiB)");
  const Kind kind = detect(data, size);
  XUNIT_CHECK(kind != Kind::kNone, "not a BMP or TGA file");
  const int len = int(size);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &comp)) {
    // stbi_info tries every format, so its reason is always "unknown image type". For BMP
    // the loader parses the same header first and fails there with the specific
    // reason, before allocating pixels; TGA's loader checks less, so it is not probed.
    if (kind != Kind::kTga) {
      int x = 0, y = 0, n = 0;
      stbi_uc *px = stbi_load_from_memory(data, len, &x, &y, &n, 0);
      if (px) {
        stbi_image_free(px);
        throw Error("unreadable image header");
      }
    }
    throw Error(stb_reason(kind));
  }
  XUNIT_CHECK(w > 0 && h > 0, "image header has an empty size");
  XUNIT_CHECK(comp >= 1 && comp <= 4, "unsupported channel count " + std::to_string(comp));
  const size_t count = checked_samples(size_t(w), size_t(h), size_t(comp), max_pixels);

  const size_t needed = needed_bytes(kind, data, size, size_t(w), size_t(h));
  XUNIT_CHECK(needed <= size, std::string("truncated ") + kind_name(kind) + " file: needs " +
                                  std::to_string(needed) + " bytes, has " + std::to_string(size));

  int x = 0, y = 0, n = 0;
  std::unique_ptr<stbi_uc, StbFree> px(stbi_load_from_memory(data, len, &x, &y, &n, 0));
  if (!px) throw Error(stb_reason(kind));
  XUNIT_CHECK(x == w && y == h && n == comp, "decoded size differs from the header");
  Image image;
  image.pixels.resize(count);
  for (size_t i = 0; i < count; ++i) image.pixels[i] = float(px.get()[i]) / 255.0f;
  image.bits = 8;
  image.width = w;
  image.height = h;
  image.channels = comp;
  return image;
}

std::vector<uint8_t> encode_with_stb(StbFormat format, const uint8_t *samples, int width,
                                     int height, int channels) {
  XUNIT_CHECK(width > 0 && height > 0, "invalid image size");
  XUNIT_CHECK(channels >= 1 && channels <= 4,
              "need 1 to 4 channels, got " + std::to_string(channels));
  size_t bytes = 0;
  XUNIT_CHECK(
      checked_mul(size_t(width) * 4 + 4, size_t(height), &bytes) && bytes <= kStbWriteMaxBytes,
      "image " + std::to_string(width) + "x" + std::to_string(height) +
          " too large for this format's encoder");
  Sink sink;
  int ok = 0;
  switch (format) {
    case StbFormat::kBmp:
      ok = stbi_write_bmp_to_func(sink_write, &sink, width, height, channels, samples);
      break;
    case StbFormat::kTga:
      ok = stbi_write_tga_to_func(sink_write, &sink, width, height, channels, samples);
      break;
  }
  if (sink.failed) throw std::bad_alloc();
  XUNIT_CHECK(ok != 0 && !sink.bytes.empty(), "image encoder failed");
  return std::move(sink.bytes);
}

}  // namespace xunit::cli
