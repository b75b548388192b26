// One exception type for every user-facing failure: its message is the one line the user sees.
#pragma once
#include <stdexcept>
#include <string>

namespace xunit {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

// A valid request this build or CPU cannot serve (XUNIT_ERROR_UNSUPPORTED in the C API).
class UnsupportedError : public Error {
 public:
  using Error::Error;
};

// A request whose memory, computed before anything is allocated, exceeds the limit
// (XUNIT_ERROR_OUT_OF_MEMORY in the C API; common/memory_limit.h).
class OutOfMemoryError : public Error {
 public:
  using Error::Error;
};

[[noreturn]] void throw_error(const std::string &message);

// Throws Error(message) when the condition is false. Used for validating untrusted input. A
// macro so that the message (often built from strings) is only made when the check fails: a
// check that passes costs one predictable branch, also on per-row paths.
#define XUNIT_CHECK(condition, ...)                                           \
  do {                                                                        \
    if (__builtin_expect(!(condition), 0)) ::xunit::throw_error(__VA_ARGS__); \
  } while (0)

// Overflow-safe arithmetic for sizes computed from untrusted data.
bool checked_mul(size_t a, size_t b, size_t *out);
bool checked_add(size_t a, size_t b, size_t *out);

}  // namespace xunit
