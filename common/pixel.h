// Integer samples <-> the networks' [0, 1] domain, one definition for the library (u8/u16
// pixels of the C API) and the tools (8/16-bit image files), so that both write the same bytes
// for the same network output.
#pragma once
#include <cmath>
#include <cstdint>

namespace xunit {

// v in [0, 1] to 0..max, rounded half up in double precision; NaN and values below 0 give 0.
inline uint32_t quantize_unit(float v, uint32_t max) {
  if (!(v > 0.f)) return 0;
  if (v >= 1.f) return max;
  return uint32_t(std::floor(double(v) * double(max) + 0.5));
}
inline uint8_t quantize_u8(float v) { return uint8_t(quantize_unit(v, 255)); }
inline uint16_t quantize_u16(float v) { return uint16_t(quantize_unit(v, 65535)); }

// As x / 255 (or / 65535) in NumPy's float32 arithmetic.
inline float unit_from_u8(uint8_t v) { return float(v) / 255.f; }
inline float unit_from_u16(uint16_t v) { return float(v) / 65535.f; }

}  // namespace xunit
