#include "common/printable.h"

#include <cstdint>

namespace xunit {

namespace {

// The length of the valid UTF-8 sequence at s[i], or 0 (overlong forms, surrogates and code
// points beyond U+10FFFF are invalid).
size_t utf8_length(const std::string &s, size_t i) {
  const auto at = [&](size_t k) { return uint8_t(s[k]); };
  const uint8_t b = at(i);
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (b >= 0xc2 && b <= 0xdf) {
    n = 2;
  } else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
  return n;
}

void append_escaped(std::string &out, uint8_t b) {
  static const char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[b >> 4];
  out += kHex[b & 15];
}

}  // namespace

std::string printable(const std::string &text, size_t max_bytes) {
  std::string out;
  out.reserve(text.size() < 256 ? text.size() : 256);
  size_t i = 0;
  while (i < text.size()) {
    if (i >= max_bytes) {
      out += "...";
      break;
    }
    const uint8_t b = uint8_t(text[i]);
    if (b >= 0x20 && b < 0x7f) {
      out += char(b);
      ++i;
      continue;
    }
    const size_t n = b >= 0x80 ? utf8_length(text, i) : 0;
    // U+0080..U+009F (C1 controls, CSI among them) are written C2 80..C2 9F.
    if (n == 0 || (n == 2 && b == 0xc2 && uint8_t(text[i + 1]) < 0xa0)) {
      for (size_t k = 0; k < (n ? n : 1); ++k) append_escaped(out, uint8_t(text[i + k]));
      i += n ? n : 1;
      continue;
    }
    out.append(text, i, n);
    i += n;
  }
  return out;
}

}  // namespace xunit
