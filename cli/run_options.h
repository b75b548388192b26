// Command-line parsing for xunit-run.
#pragma once
#include <cstddef>
#include <string>

namespace xunit::cli {

struct RunOptions {
  std::string model;   // empty: the shipped default for the input's channels
  std::string input, output;
  int tile = -1;       // -1 automatic, 0 whole image
  int threads = 0;     // 0 all cores
  std::string precision = "fp32";
  bool overwrite = false;
  bool quiet = false;
  size_t max_pixels = 0;  // 0: the library default
  bool help = false;
};

// Parses argv; throws UsageError on bad usage.
struct UsageError {
  std::string message;
};
RunOptions parse_run_options(int argc, char **argv);

extern const char *kRunUsage;

}  // namespace xunit::cli
