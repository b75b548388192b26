// Read-only zip archive reader for untrusted input (torch ≥ 1.6 checkpoints are zip archives).
// Supports stored and deflated entries and zip64; every offset and size is bounds-checked.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/load_budget.h"

namespace xunit::convert {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 = stored, 8 = deflate
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t local_header_offset = 0;
  uint64_t data_offset = 0;  // first byte of the (compressed) data, validated in range
};

class ZipReader {
 public:
  // Parses and validates the whole directory; the bytes must outlive the reader.
  ZipReader(const uint8_t *data, size_t size);

  const std::vector<ZipEntry> &entries() const { return entries_; }
  const ZipEntry *find(const std::string &name) const;

  // Decompresses (if needed) and CRC-checks one entry. The bytes it allocates (the declared
  // size) are charged to `budget`, when given, before they are allocated.
  std::vector<uint8_t> read(const ZipEntry &entry, LoadBudget *budget = nullptr) const;

  // For stored entries: a pointer to the bytes in place, after a CRC check (no copy).
  // Returns nullptr for compressed entries.
  const uint8_t *stored_data(const ZipEntry &entry) const;

 private:
  struct Directory {
    uint64_t entry_count = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
  };
  Directory find_directory() const;
  void read_directory(const Directory &dir);
  void resolve_local_header(ZipEntry *entry) const;
  void check_no_overlaps(const Directory &dir) const;

  const uint8_t *data_;
  size_t size_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> index_;  // name -> position in entries_
};

// True when the bytes start with a zip local file header.
bool looks_like_zip(const uint8_t *data, size_t size);

}  // namespace xunit::convert
