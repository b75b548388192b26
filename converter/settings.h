// `xunit-convert --set key=value` options: what a checkpoint or graph cannot tell (a BatchNorm
// epsilon, which ONNX input is the noise-level map). Each reader takes the keys it understands;
// expect_all_used then refuses the rest, naming them.
#pragma once
#include <map>
#include <string>

namespace xunit::convert {

class Settings {
 public:
  explicit Settings(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  float get_float(const std::string &key, float fallback);
  int get_int(const std::string &key, int fallback);
  std::string get_string(const std::string &key, const std::string &fallback);
  bool has(const std::string &key) const { return values_.count(key) > 0; }
  // Throws on the first key nothing read: "--set KEY: not a setting of " + `of`.
  void expect_all_used(const std::string &of) const;

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> used_;
};

}  // namespace xunit::convert
