#include "converter/dtype.h"

#include <cfloat>
#include <cmath>
#include <cstring>

#include "converter/bytes_le.h"

namespace xunit::convert {

size_t element_size(DType dtype) {
  switch (dtype) {
    case DType::F64:
    case DType::I64:
      return 8;
    case DType::F32:
    case DType::I32:
      return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16:
      return 2;
    case DType::I8:
    case DType::U8:
    case DType::Bool:
      return 1;
  }
  return 1;
}

const char *dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return "float32";
    case DType::F16:
      return "float16";
    case DType::BF16:
      return "bfloat16";
    case DType::F64:
      return "float64";
    case DType::I64:
      return "int64";
    case DType::I32:
      return "int32";
    case DType::I16:
      return "int16";
    case DType::I8:
      return "int8";
    case DType::U8:
      return "uint8";
    case DType::Bool:
      return "bool";
  }
  return "unknown";
}

static float bits_to_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f;
  const uint32_t mantissa = h & 0x3ff;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24 is exact in float32
    const float magnitude = std::ldexp(float(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return bits_to_float(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN
  return bits_to_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

float bfloat16_to_float(uint16_t bits) { return bits_to_float(uint32_t(bits) << 16); }

float load_as_float(DType dtype, const uint8_t *p) {
  switch (dtype) {
    case DType::F32:
      return bits_to_float(load_u32le(p));
    case DType::F16:
      return half_to_float(load_u16le(p));
    case DType::BF16:
      return bfloat16_to_float(load_u16le(p));
    case DType::F64: {
      const uint64_t bits = load_u64le(p);
      double d;
      std::memcpy(&d, &bits, 8);
      // Out-of-range doubles become inf (as in torch's .float()); spelled out because the C++
      // conversion of an out-of-range value is undefined.
      if (std::isfinite(d) && std::fabs(d) > double(FLT_MAX)) {
        const bool to_inf = std::fabs(d) >= 0x1.ffffffp127;  // FLT_MAX + half an ulp
        const float m = to_inf ? HUGE_VALF : FLT_MAX;
        return d < 0 ? -m : m;
      }
      return float(d);
    }
    case DType::I64:
      return float(int64_t(load_u64le(p)));
    case DType::I32:
      return float(int32_t(load_u32le(p)));
    case DType::I16:
      return float(int16_t(load_u16le(p)));
    case DType::I8:
      return float(int8_t(p[0]));
    case DType::U8:
      return float(p[0]);
    case DType::Bool:
      return p[0] ? 1.0f : 0.0f;
  }
  return 0.0f;
}

}  // namespace xunit::convert
