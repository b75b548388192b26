#include "common/error.h"

namespace xunit {

void throw_error(const std::string &message) { throw Error(message); }

bool checked_mul(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }
bool checked_add(size_t a, size_t b, size_t *out) { return !__builtin_add_overflow(a, b, out); }

}  // namespace xunit
