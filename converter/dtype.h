// Element types found in foreign checkpoints and their exact conversion to float32.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace xunit::convert {

enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool };

size_t element_size(DType dtype);
// The torch spelling used in NamedTensor::source_dtype: "float32", "float16", ...
const char *dtype_name(DType dtype);

// Exact: every float16 / bfloat16 value (subnormals, inf, NaN included) is a float32 value.
float half_to_float(uint16_t bits);
float bfloat16_to_float(uint16_t bits);

// Loads one little-endian element and converts it (float64 and large ints round to nearest).
float load_as_float(DType dtype, const uint8_t *p);

}  // namespace xunit::convert
