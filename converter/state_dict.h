// Tensors read from a foreign checkpoint, converted to float32, in file order.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace xunit::convert {

struct NamedTensor {
  std::string name;            // key as stored, e.g. "module.features.0.conv.weight"
  std::vector<int64_t> shape;  // logical shape (row-major, contiguous `data`)
  std::vector<float> data;     // values converted to float32 (exact for f16/bf16; rounded for f64)
  std::string source_dtype;    // "float32", "float16", "bfloat16", "float64", "int64", ...
};

struct StateDict {
  std::vector<NamedTensor> tensors;

  const NamedTensor *find(const std::string &name) const {
    for (const auto &t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
};

}  // namespace xunit::convert
