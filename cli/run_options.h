// Command-line parsing for xunit-run.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace xunit::cli {

struct RunOptions {
  std::string model;  // file or shipped name; empty: the shipped default
  int scale = 0;      // -s: the shipped super-resolution model of this scale
  std::string input, output;
  std::string format;        // -f: output extension for folders; empty: the input's
  int quality = 0;           // --quality: JPEG and WebP outputs, 1..100; 0: JPEG 95, WebP lossless
  int png_compression = -1;  // --png-compression: zlib level 0..9; -1: the default (1)
  int tile = -1;             // -1 automatic, 0 one stripe
  int threads = 0;           // 0 all cores
  std::string precision = "fp32";
  bool tta = false;
  // --sigma: the noise level given to a denoiser conditioned on it (8-bit levels), or auto.
  bool sigma_auto = true;
  float sigma = 0;
  float noise_sigma = 0;  // --add-noise
  uint64_t seed = 0;
  bool no_model = false;
  std::string psnr_reference;
  bool overwrite = false;
  bool quiet = false;
  size_t max_pixels = 0;     // 0: the library default
  std::string memory_limit;  // --memory-limit: becomes XUNIT_MEMORY_LIMIT (common/memory_limit.h)
  bool help = false, version = false, list_models = false;
  std::string info;  // --info MODEL
};

struct UsageError {
  std::string message;
};
// Parses argv; throws UsageError on bad usage.
RunOptions parse_run_options(int argc, char **argv);

extern const char *kRunUsage;

}  // namespace xunit::cli
