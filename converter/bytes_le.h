// Little-endian integer loads from untrusted byte buffers. Callers bounds-check first; these
// helpers only exist so that no reader casts unaligned pointers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace xunit::convert {

inline uint16_t load_u16le(const uint8_t *p) { return uint16_t(p[0] | (p[1] << 8)); }

inline uint32_t load_u32le(const uint8_t *p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

inline uint64_t load_u64le(const uint8_t *p) {
  return uint64_t(load_u32le(p)) | (uint64_t(load_u32le(p + 4)) << 32);
}

// True when [offset, offset + length) lies inside a buffer of `size` bytes, without overflow.
inline bool range_ok(uint64_t offset, uint64_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

}  // namespace xunit::convert
