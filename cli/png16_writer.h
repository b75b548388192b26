// A minimal PNG encoder (zlib) for what stb_image_write cannot do: 16-bit samples, and 8-bit
// images too large for stb's int-sized buffers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace xunit::cli {

// Encodes interleaved row-major samples (host-order values) as a 16-bit PNG. channels 1..4 map
// to color types 0 (gray), 4 (gray+alpha), 2 (RGB), 6 (RGBA). Each row gets the filter
// (None/Sub/Up/Average/Paeth) with the smallest sum of absolute signed bytes. Throws
// xunit::Error with a one-line reason on bad arguments or a zlib failure.
std::vector<uint8_t> encode_png16(const uint16_t *samples, int width, int height, int channels);

// The same for 8-bit samples.
std::vector<uint8_t> encode_png8(const uint8_t *samples, int width, int height, int channels);

}  // namespace xunit::cli
