#include "common/load_budget.h"

#include <cstdio>

#include "common/error.h"

namespace xunit {

LoadBudget::LoadBudget(uint64_t file_size, std::string what)
    : file_size_(file_size), what_(std::move(what)) {
  if (__builtin_mul_overflow(file_size, kMultiple, &limit_) ||
      __builtin_add_overflow(limit_, kConstant, &limit_))
    limit_ = UINT64_MAX;
}

void LoadBudget::charge(uint64_t bytes, const std::string &purpose) {
  uint64_t total = 0;
  if (__builtin_add_overflow(used_, bytes, &total) || total > limit_)
    throw Error(purpose + " needs " + format_bytes(bytes) +
                " more, beyond the memory budget of a " + format_bytes(file_size_) + " " + what_ +
                " (" + std::to_string(kMultiple) + " x its size + " + format_bytes(kConstant) +
                " = " + format_bytes(limit_) + ", " + format_bytes(used_) +
                " already used): a crafted or damaged file?");
  used_ = total;
}

void LoadBudget::charge(uint64_t count, uint64_t size, const std::string &purpose) {
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) bytes = UINT64_MAX;
  charge(bytes, purpose);
}

std::string format_bytes(uint64_t bytes) {
  char buf[64];
  if (bytes < 10 * 1024)
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  else if (bytes < (uint64_t(1) << 20))
    std::snprintf(buf, sizeof buf, "%.1f KiB", double(bytes) / 1024);
  else if (bytes < (uint64_t(1) << 30))
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / (1 << 20));
  else
    std::snprintf(buf, sizeof buf, "%.1f GiB", double(bytes) / (uint64_t(1) << 30));
  return buf;
}

}  // namespace xunit
