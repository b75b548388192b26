#include "converter/safetensors.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/error.h"
#include "converter/bytes_le.h"
#include "converter/json.h"
#include "converter/tensor_view.h"

namespace xunit::convert {
namespace {

[[noreturn]] void fail(const std::string &what) { throw Error("bad safetensors file: " + what); }

DType parse_dtype(const std::string &name, const std::string &code) {
  static const struct {
    const char *code;
    DType dtype;
  } kTable[] = {
      {"F32", DType::F32}, {"F16", DType::F16},   {"BF16", DType::BF16}, {"F64", DType::F64},
      {"I64", DType::I64}, {"I32", DType::I32},   {"I16", DType::I16},   {"I8", DType::I8},
      {"U8", DType::U8},   {"BOOL", DType::Bool},
  };
  for (const auto &t : kTable)
    if (code == t.code) return t.dtype;
  fail("tensor '" + name + "' has unsupported dtype '" + code.substr(0, 16) + "'");
}

uint64_t non_negative_int(const json::Value &v, const std::string &name, const char *what) {
  if (v.type != json::Type::Number || !v.is_integer || v.integer < 0)
    fail("tensor '" + name + "' has a bad " + what);
  return uint64_t(v.integer);
}

struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;  // within the data section
};

Entry parse_entry(const std::string &name, const json::Value &info, uint64_t data_size) {
  if (info.type != json::Type::Object) fail("entry '" + name + "' is not an object");
  const json::Value *dtype = info.get("dtype"), *shape = info.get("shape"),
                    *offsets = info.get("data_offsets");
  if (!dtype || dtype->type != json::Type::String || !shape || shape->type != json::Type::Array ||
      !offsets || offsets->type != json::Type::Array || offsets->array.size() != 2)
    fail("tensor '" + name + "' lacks dtype, shape or data_offsets");
  Entry e{name, parse_dtype(name, dtype->string), {}, 0, 0};
  if (shape->array.size() > 64) fail("tensor '" + name + "' has too many dimensions");
  size_t numel = 1;
  for (const auto &d : shape->array) {
    const uint64_t n = non_negative_int(d, name, "shape");
    if (!checked_mul(numel, size_t(n), &numel)) fail("tensor '" + name + "' is too large");
    e.shape.push_back(int64_t(n));
  }
  e.begin = non_negative_int(offsets->array[0], name, "data offset");
  e.end = non_negative_int(offsets->array[1], name, "data offset");
  if (e.begin > e.end || e.end > data_size)
    fail("tensor '" + name + "' data_offsets lie outside the data section");
  size_t nbytes = 0;
  if (!checked_mul(numel, element_size(e.dtype), &nbytes) || nbytes != e.end - e.begin)
    fail("tensor '" + name + "' byte size does not match its shape and dtype");
  return e;
}

// Like the reference implementation: tensors tile the data section exactly, no overlaps or gaps.
void check_layout(std::vector<const Entry *> sorted, uint64_t data_size) {
  std::sort(sorted.begin(), sorted.end(), [](const Entry *a, const Entry *b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t cursor = 0;
  for (const Entry *e : sorted) {
    if (e->begin < cursor) fail("tensor '" + e->name + "' overlaps another tensor");
    if (e->begin > cursor) fail("gap in the data section before tensor '" + e->name + "'");
    cursor = e->end;
  }
  if (cursor != data_size) fail("data section has bytes no tensor uses");
}

}  // namespace

bool looks_like_safetensors(const uint8_t *data, size_t size) {
  if (size < 10) return false;
  const uint64_t n = load_u64le(data);
  // The JSON header's opening brace identifies the format; whether the length fits the file is
  // read_safetensors's to report.
  return n >= 2 && data[8] == '{';
}

StateDict read_safetensors(const uint8_t *data, size_t size) {
  if (size < 8) fail("file too small");
  const uint64_t header_size = load_u64le(data);
  if (header_size > kMaxSafetensorsHeader || header_size > size - 8)
    fail("header length " + std::to_string(header_size) + " exceeds the file");
  // One budget for the load: the header's JSON values and the float32 tensors.
  LoadBudget budget(size, "safetensors file");
  const json::Value header =
      json::parse(reinterpret_cast<const char *>(data + 8), size_t(header_size), &budget);
  if (header.type != json::Type::Object) fail("header is not a JSON object");
  const uint8_t *section = data + 8 + header_size;
  const uint64_t data_size = size - 8 - header_size;

  std::vector<Entry> entries;
  for (const auto &kv : header.object) {
    if (kv.first == "__metadata__") continue;  // free-form strings; nothing we need
    entries.push_back(parse_entry(kv.first, kv.second, data_size));
  }
  std::vector<const Entry *> order;
  for (const auto &e : entries) order.push_back(&e);
  check_layout(order, data_size);

  StateDict sd;
  for (const auto &e : entries) {
    const StorageSpan span{e.dtype, section + e.begin,
                           size_t(e.end - e.begin) / element_size(e.dtype)};
    sd.tensors.push_back(
        materialize_view(e.name, span, 0, e.shape, contiguous_strides(e.shape), &budget));
  }
  return sd;
}

}  // namespace xunit::convert
