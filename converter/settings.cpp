#include "converter/settings.h"

#include <cstdlib>

#include "common/error.h"

namespace xunit::convert {

float Settings::get_float(const std::string &key, float fallback) {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  used_[key] = true;
  char *end = nullptr;
  float v = std::strtof(it->second.c_str(), &end);
  XUNIT_CHECK(end && *end == 0 && !it->second.empty(),
              "--set " + key + ": not a number: '" + it->second + "'");
  return v;
}

int Settings::get_int(const std::string &key, int fallback) {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  used_[key] = true;
  char *end = nullptr;
  long v = std::strtol(it->second.c_str(), &end, 10);
  XUNIT_CHECK(end && *end == 0 && !it->second.empty() && v >= 0 && v < (1 << 20),
              "--set " + key + ": not a valid integer: '" + it->second + "'");
  return int(v);
}

std::string Settings::get_string(const std::string &key, const std::string &fallback) {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  used_[key] = true;
  return it->second;
}

void Settings::expect_all_used(const std::string &of) const {
  for (const auto &[k, v] : values_)
    XUNIT_CHECK(used_.count(k) > 0, "--set " + k + ": not a setting of " + of);
}

}  // namespace xunit::convert
