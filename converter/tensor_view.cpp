#include "converter/tensor_view.h"

#include <cstdint>

#include "common/error.h"

namespace xunit::convert {
namespace {

struct Geometry {
  size_t numel = 1;
  size_t last_index = 0;  // offset + sum((size_i - 1) * stride_i), valid when numel > 0
};

Geometry check_geometry(const std::string &name, size_t storage_numel, int64_t offset,
                        const std::vector<int64_t> &shape, const std::vector<int64_t> &stride) {
  auto bad = [&](const std::string &why) { return Error("tensor '" + name + "': " + why); };
  if (shape.size() != stride.size()) throw bad("shape and stride differ in length");
  if (offset < 0) throw bad("negative storage offset");
  Geometry g;
  g.last_index = size_t(offset);
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0 || stride[d] < 0) throw bad("negative size or stride");
    if (!checked_mul(g.numel, size_t(shape[d]), &g.numel)) throw bad("element count overflows");
  }
  if (g.numel == 0) {
    if (size_t(offset) > storage_numel) throw bad("storage offset lies past the storage");
    return g;
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    size_t span = 0;
    if (!checked_mul(size_t(shape[d] - 1), size_t(stride[d]), &span) ||
        !checked_add(g.last_index, span, &g.last_index))
      throw bad("shape x stride overflows");
  }
  if (g.last_index >= storage_numel)
    throw bad("view reaches element " + std::to_string(g.last_index) + " of a storage of " +
              std::to_string(storage_numel));
  if (g.numel > storage_numel && g.numel > kMaxBroadcastElements)
    throw bad("broadcast view is implausibly large");
  return g;
}

bool is_contiguous(const std::vector<int64_t> &shape, const std::vector<int64_t> &stride) {
  int64_t expected = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] != 1 && stride[d] != expected) return false;
    expected *= shape[d];  // cannot overflow: numel was checked
  }
  return true;
}

// Odometer walk over the indices: iterative, any rank.
void gather(const StorageSpan &s, size_t offset, const std::vector<int64_t> &shape,
            const std::vector<int64_t> &stride, float *out, size_t numel) {
  const size_t esize = element_size(s.dtype);
  std::vector<int64_t> index(shape.size(), 0);
  size_t src = offset;
  for (size_t i = 0; i < numel; ++i) {
    out[i] = load_as_float(s.dtype, s.data + src * esize);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++index[d] < shape[d]) {
        src += size_t(stride[d]);
        break;
      }
      src -= size_t(stride[d]) * size_t(shape[d] - 1);
      index[d] = 0;
    }
  }
}

}  // namespace

std::vector<int64_t> contiguous_strides(const std::vector<int64_t> &shape) {
  // Saturates to 0 on overflow: that only happens for empty tensors, whose strides are unused.
  std::vector<int64_t> stride(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) {
    size_t s = 0;
    const bool ok = shape[d] >= 0 && checked_mul(size_t(stride[d]), size_t(shape[d]), &s) &&
                    s <= size_t(INT64_MAX);
    stride[d - 1] = ok ? int64_t(s) : 0;
  }
  return stride;
}

NamedTensor materialize_view(const std::string &name, const StorageSpan &storage, int64_t offset,
                             const std::vector<int64_t> &shape, const std::vector<int64_t> &stride,
                             LoadBudget *budget) {
  const Geometry g = check_geometry(name, storage.numel, offset, shape, stride);
  if (budget) budget->charge(g.numel, sizeof(float), "tensor '" + name + "'");
  NamedTensor t;
  t.name = name;
  t.shape = shape;
  t.source_dtype = dtype_name(storage.dtype);
  t.data.resize(g.numel);
  if (g.numel == 0) return t;
  if (is_contiguous(shape, stride)) {
    const size_t esize = element_size(storage.dtype);
    const uint8_t *p = storage.data + size_t(offset) * esize;
    for (size_t i = 0; i < g.numel; ++i) t.data[i] = load_as_float(storage.dtype, p + i * esize);
  } else {
    gather(storage, size_t(offset), shape, stride, t.data.data(), g.numel);
  }
  return t;
}

}  // namespace xunit::convert
