// Little-endian encoding with bounds checks, for the .xunit sections.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"

namespace xunit {

class ByteWriter {
 public:
  void u8(uint8_t v) { bytes_.push_back(v); }
  void u16(uint16_t v) { raw(&v, 2); }
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void i64(int64_t v) { raw(&v, 8); }
  void f32(float v) { raw(&v, 4); }
  void str(const std::string &s) {
    u32(uint32_t(s.size()));
    raw(s.data(), s.size());
  }
  void raw(const void *p, size_t n) {
    const uint8_t *b = static_cast<const uint8_t *>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  void pad_to(size_t alignment) {
    while (bytes_.size() % alignment) bytes_.push_back(0);
  }
  void patch_u64(size_t at, uint64_t v) { std::memcpy(bytes_.data() + at, &v, 8); }
  void patch_u32(size_t at, uint32_t v) { std::memcpy(bytes_.data() + at, &v, 4); }
  size_t size() const { return bytes_.size(); }
  std::vector<uint8_t> &bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// Reads from [data, data + size); every read past the end throws Error(context + ": truncated").
class ByteReader {
 public:
  ByteReader(const uint8_t *data, size_t size, std::string context)
      : data_(data), size_(size), context_(std::move(context)) {}
  uint8_t u8() { return get<uint8_t>(); }
  uint16_t u16() { return get<uint16_t>(); }
  uint32_t u32() { return get<uint32_t>(); }
  uint64_t u64() { return get<uint64_t>(); }
  int64_t i64() { return get<int64_t>(); }
  float f32() { return get<float>(); }
  std::string str(size_t max_length = 4096) {
    uint32_t n = u32();
    XUNIT_CHECK(n <= max_length, context_ + ": string too long");
    need(n);
    std::string s(reinterpret_cast<const char *>(data_ + pos_), n);
    pos_ += n;
    return s;
  }
  // A count that is about to size a loop: bounded by what the remaining bytes could hold.
  uint32_t count(size_t min_bytes_per_item) {
    uint32_t n = u32();
    XUNIT_CHECK(min_bytes_per_item == 0 || n <= remaining() / min_bytes_per_item,
                context_ + ": count exceeds the section size");
    return n;
  }
  size_t remaining() const { return size_ - pos_; }
  size_t position() const { return pos_; }

 private:
  template <typename T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  void need(size_t n) { XUNIT_CHECK(n <= size_ - pos_, context_ + ": truncated"); }
  const uint8_t *data_;
  size_t size_;
  size_t pos_ = 0;
  std::string context_;
};

}  // namespace xunit
