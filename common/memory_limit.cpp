#include "common/memory_limit.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/error.h"
#include "common/load_budget.h"

namespace xunit {
namespace {

// MemAvailable from /proc/meminfo, in bytes; 0 when unknown.
uint64_t mem_available() {
  FILE *f = std::fopen("/proc/meminfo", "r");
  uint64_t bytes = 0;
  if (f) {
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
      unsigned long long kb = 0;
      if (std::sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
        bytes = uint64_t(kb) * 1024;
        break;
      }
    }
    std::fclose(f);
  }
  if (bytes == 0) {
    const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) bytes = uint64_t(pages) * uint64_t(page);
  }
  return bytes;
}

// The address space left below RLIMIT_AS; UINT64_MAX when there is no such limit.
uint64_t address_space_left() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return UINT64_MAX;
  uint64_t used = 0;
  if (FILE *f = std::fopen("/proc/self/statm", "r")) {
    unsigned long long pages = 0;
    if (std::fscanf(f, "%llu", &pages) == 1)
      used = uint64_t(pages) * uint64_t(sysconf(_SC_PAGESIZE));
    std::fclose(f);
  }
  return uint64_t(rl.rlim_cur) > used ? uint64_t(rl.rlim_cur) - used : 0;
}

}  // namespace

bool parse_memory_size(const std::string &text, uint64_t *bytes) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, uint64_t(text[i] - '0'), &n))
      return false;
    ++i;
  }
  if (i == 0) return false;
  int shift = 0;
  if (i < text.size()) {
    const char *units = "KMGT";
    const char *u = std::strchr(units, std::toupper(static_cast<unsigned char>(text[i])));
    if (!u || !*u) return false;
    shift = 10 * int(u - units + 1);
    ++i;
    if (i < text.size() && (text[i] == 'B' || text[i] == 'b')) ++i;  // "512MB"
    if (i != text.size()) return false;
    if (n > (UINT64_MAX >> shift)) return false;
  }
  *bytes = n << shift;
  return true;
}

MemoryLimit memory_limit() {
  MemoryLimit m;
  if (const char *env = std::getenv("XUNIT_MEMORY_LIMIT"); env && *env) {
    XUNIT_CHECK(parse_memory_size(env, &m.bytes),
                std::string("XUNIT_MEMORY_LIMIT='") + env +
                    "' is not a size (bytes, or a number with K, M, G or T)");
    m.source = "XUNIT_MEMORY_LIMIT";
    return m;
  }
  m.bytes = mem_available();
  m.source = "the available memory";
  if (m.bytes == 0) {  // unknown: do not refuse on a guess
    m.bytes = UINT64_MAX;
    m.source = "no limit known";
  }
  const uint64_t as_left = address_space_left();
  if (as_left < m.bytes) {
    m.bytes = as_left;
    m.source = "the address space left under ulimit -v";
  }
  return m;
}

void check_memory_needed(uint64_t needed, const std::string &what) {
  const MemoryLimit m = memory_limit();
  if (needed > m.bytes)
    throw OutOfMemoryError(what + " needs " + format_bytes(needed) +
                           ", more than the memory limit of " + format_bytes(m.bytes) + " (" +
                           m.source + "; XUNIT_MEMORY_LIMIT or --memory-limit sets it)");
}

}  // namespace xunit
