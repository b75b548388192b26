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

// Throws Error(message) when the condition is false. Used for validating untrusted input.
inline void check(bool condition, const std::string &message) {
  if (!condition) throw Error(message);
}

// Overflow-safe arithmetic for sizes computed from untrusted data.
bool checked_mul(size_t a, size_t b, size_t *out);
bool checked_add(size_t a, size_t b, size_t *out);

}  // namespace xunit
