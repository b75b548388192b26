// Turns a (storage, offset, shape, stride) view from an untrusted file into a contiguous float32
// tensor, after proving every reachable element lies inside the storage.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/load_budget.h"
#include "converter/dtype.h"
#include "converter/state_dict.h"

namespace xunit::convert {

struct StorageSpan {
  DType dtype = DType::F32;
  const uint8_t *data = nullptr;  // numel * element_size(dtype) readable bytes
  size_t numel = 0;
};

// Views whose element count exceeds their storage's (stride-0 broadcasts) are capped here, so a
// tiny file cannot demand a huge allocation.
constexpr size_t kMaxBroadcastElements = size_t(1) << 24;

// Throws xunit::Error naming the tensor on negative sizes/strides/offset, arithmetic overflow or
// any element outside the storage. Non-contiguous views are gathered into a contiguous copy.
// The float32 copy is charged to `budget` (when given) before it is allocated: views that alias
// one storage (a storage under many keys, broadcasts) each cost their own copy, and a file that
// aliases more than its budget allows is refused.
NamedTensor materialize_view(const std::string &name, const StorageSpan &storage, int64_t offset,
                             const std::vector<int64_t> &shape, const std::vector<int64_t> &stride,
                             LoadBudget *budget = nullptr);

// Row-major strides for a shape.
std::vector<int64_t> contiguous_strides(const std::vector<int64_t> &shape);

}  // namespace xunit::convert
