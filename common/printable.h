// Text that came from a file (names, metadata, keys) or is a path, made safe to echo to a
// terminal or a log: it can carry escape sequences that clear the screen, retitle the window or
// forge output lines.
#pragma once
#include <cstddef>
#include <string>

namespace xunit {

// Every control character (C0 including newline and tab, DEL, and C1 written as UTF-8) and every
// byte that is not part of valid UTF-8 becomes \xNN (two lowercase hex digits); other text,
// valid UTF-8 included, is kept as it is. Backslashes are kept, so escaping twice changes
// nothing. Text longer than `max_bytes` is cut (at a character boundary) and ends in "...".
std::string printable(const std::string &text, size_t max_bytes = std::string::npos);

}  // namespace xunit
