#include "common/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "common/error.h"

namespace xunit {

namespace {
std::string os_error(const std::string &what, const std::string &path) {
  return what + " '" + path + "': " + std::strerror(errno);
}
}  // namespace

std::vector<uint8_t> read_file(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(os_error("cannot open", path));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error("not a regular file: '" + path + "'");
  }
  std::vector<uint8_t> bytes;
  bytes.reserve(size_t(st.st_size));
  uint8_t chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      throw Error(os_error("cannot read", path));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  ::close(fd);
  return bytes;
}

MappedFile::MappedFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(os_error("cannot open", path));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error("not a regular file: '" + path + "'");
  }
  size_ = size_t(st.st_size);
  if (size_ > 0) {
    void *p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw Error(os_error("cannot map", path));
    }
    data_ = static_cast<const uint8_t *>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) munmap(const_cast<uint8_t *>(data_), size_);
}

bool file_exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void write_file_atomic(const std::string &path, const void *data, size_t size, bool overwrite) {
  if (!overwrite && file_exists(path))
    throw Error("output exists (not overwritten): '" + path + "'");
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::random_device rd;
  std::string tmp = dir + "/." + base + ".tmp" + std::to_string(rd() % 1000000);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(os_error("cannot create output in", dir));
  const uint8_t *p = static_cast<const uint8_t *>(data);
  size_t left = size;
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string msg = os_error("cannot write", path);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(msg);
    }
    p += n;
    left -= size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string msg = os_error("cannot write", path);
    ::unlink(tmp.c_str());
    throw Error(msg);
  }
  // link() refuses to replace an existing file, closing the race between the check and rename.
  if (!overwrite) {
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      std::string msg = errno == EEXIST ? "output exists (not overwritten): '" + path + "'"
                                        : os_error("cannot create", path);
      ::unlink(tmp.c_str());
      throw Error(msg);
    }
    ::unlink(tmp.c_str());
    return;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string msg = os_error("cannot create", path);
    ::unlink(tmp.c_str());
    throw Error(msg);
  }
}

}  // namespace xunit
