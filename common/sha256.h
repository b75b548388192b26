// SHA-256 (FIPS 180-4). Used for the .xunit whole-file checksum and the source-checkpoint digest.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace xunit {

class Sha256 {
 public:
  Sha256();
  void update(const void *data, size_t size);
  std::array<uint8_t, 32> finish();

  static std::array<uint8_t, 32> digest(const void *data, size_t size);
  static std::string hex(const std::array<uint8_t, 32> &digest);

 private:
  void compress(const uint8_t *block);
  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace xunit
