// The safetensors format: u64 little-endian header length, a JSON header, then the data section.
#pragma once
#include <cstddef>
#include <cstdint>

#include "converter/state_dict.h"

namespace xunit::convert {

// Headers above this are refused (the reference implementation uses the same bound).
constexpr uint64_t kMaxSafetensorsHeader = 100u * 1000 * 1000;

// True when the first bytes are a plausible safetensors header (length fits, JSON object).
bool looks_like_safetensors(const uint8_t *data, size_t size);

// Reads every tensor, in header order. Throws xunit::Error on unsupported dtypes, offsets
// outside the data section, sizes that disagree with the shape, overlaps or gaps.
StateDict read_safetensors(const uint8_t *data, size_t size);

}  // namespace xunit::convert
