// Whole-file reading, read-only memory mapping and atomic writes (temp file + rename).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xunit {

// Reads a whole file; throws Error naming the path and the OS reason on failure.
std::vector<uint8_t> read_file(const std::string &path);

// A read-only mapping of a whole file. Empty files map to size 0 with a null pointer.
class MappedFile {
 public:
  explicit MappedFile(const std::string &path);
  ~MappedFile();
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;
  const uint8_t *data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t *data_ = nullptr;
  size_t size_ = 0;
};

// Writes bytes to `path` atomically: a temp file in the same folder, fsync, rename.
// Refuses to replace an existing file unless `overwrite` is true. Nothing partial is left behind.
void write_file_atomic(const std::string &path, const void *data, size_t size, bool overwrite);

bool file_exists(const std::string &path);
bool is_directory(const std::string &path);

}  // namespace xunit
