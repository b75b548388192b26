// What the codecs share: the pixel limit, the wording of data errors, sample conversions.
#include <cstring>

#include "cli/codecs/codecs.h"
#include "common/pixel.h"

namespace xunit::cli {

size_t checked_samples(size_t width, size_t height, size_t channels, size_t max_pixels) {
  size_t pixels = 0, count = 0;
  if (!checked_mul(width, height, &pixels) || pixels > max_pixels)
    throw Error("image " + std::to_string(width) + "x" + std::to_string(height) +
                " exceeds the limit of " + std::to_string(max_pixels) +
                " pixels (see --max-pixels)");
  XUNIT_CHECK(width > 0 && height > 0, "image header has an empty size");
  XUNIT_CHECK(checked_mul(pixels, channels, &count), "image too large");
  return count;
}

Error corrupt(const char *format, const std::string &reason) {
  return Error(std::string("corrupt or truncated ") + format + " data (" + reason + ")");
}

std::vector<uint8_t> samples_u8(const Image &image) {
  std::vector<uint8_t> out(image.pixels.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = quantize_u8(image.pixels[i]);
  return out;
}

std::vector<uint16_t> samples_u16(const Image &image) {
  std::vector<uint16_t> out(image.pixels.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = quantize_u16(image.pixels[i]);
  return out;
}

Image image_from_samples(const std::vector<uint8_t> &raw, int width, int height, int channels,
                         int bits, bool big_endian) {
  Image img;
  img.width = width;
  img.height = height;
  img.channels = channels;
  img.bits = bits;
  img.pixels.resize(bits == 16 ? raw.size() / 2 : raw.size());
  if (bits != 16) {
    for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = unit_from_u8(raw[i]);
    return img;
  }
  for (size_t i = 0; i < img.pixels.size(); ++i) {
    uint16_t v;
    if (big_endian)
      v = uint16_t(raw[2 * i] << 8 | raw[2 * i + 1]);
    else
      std::memcpy(&v, &raw[2 * i], 2);
    img.pixels[i] = unit_from_u16(v);
  }
  return img;
}

std::vector<uint8_t> raw_samples(const Image &image, int bits, bool big_endian) {
  if (bits != 16) return samples_u8(image);
  const std::vector<uint16_t> samples = samples_u16(image);
  std::vector<uint8_t> raw(samples.size() * 2);
  if (!big_endian) {
    std::memcpy(raw.data(), samples.data(), raw.size());
    return raw;
  }
  for (size_t i = 0; i < samples.size(); ++i) {
    raw[2 * i] = uint8_t(samples[i] >> 8);
    raw[2 * i + 1] = uint8_t(samples[i]);
  }
  return raw;
}

std::vector<uint8_t> remap_channels(const std::vector<uint8_t> &samples, int channels, int keep) {
  if (keep == channels) return samples;
  const size_t n = samples.size() / size_t(channels);
  std::vector<uint8_t> out(n * size_t(keep));
  const bool gray_to_color = channels <= 2 && keep >= 3;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t *s = &samples[i * size_t(channels)];
    uint8_t *d = &out[i * size_t(keep)];
    if (!gray_to_color) {
      for (int c = 0; c < keep; ++c) d[c] = s[c];
      continue;
    }
    d[0] = d[1] = d[2] = s[0];
    if (keep == 4) d[3] = channels == 2 ? s[1] : 255;
  }
  return out;
}

}  // namespace xunit::cli
