// How much memory a run may use (docs/hostile-inputs.md): the run computes its peak from the
// image, the model and the stripe before it allocates anything and refuses when the peak passes
// this limit.
#pragma once
#include <cstdint>
#include <string>

namespace xunit {

struct MemoryLimit {
  uint64_t bytes = 0;
  std::string source;  // for messages: "XUNIT_MEMORY_LIMIT", "available memory", ...
};

// XUNIT_MEMORY_LIMIT when set (a byte count with an optional K, M, G or T suffix, powers of
// 1024; a bad value is an error naming it); otherwise the available physical memory (MemAvailable
// in /proc/meminfo, else sysconf's free pages), lowered to the address space left below
// RLIMIT_AS (ulimit -v) when one is set.
MemoryLimit memory_limit();

// "512M", "4G", "1073741824": false on anything else (or an overflow).
bool parse_memory_size(const std::string &text, uint64_t *bytes);

// Throws xunit::Error("<what> needs N, more than the memory limit of L (source)") when `needed`
// exceeds the limit. The C API maps the message to XUNIT_ERROR_OUT_OF_MEMORY.
void check_memory_needed(uint64_t needed, const std::string &what);

}  // namespace xunit
