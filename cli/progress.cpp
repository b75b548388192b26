#include "cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/printable.h"

namespace xunit::cli {

namespace {

// The UTF-8 characters of `s` (as printable() leaves it: valid UTF-8) with their cells: 1 for
// ASCII, 2 for anything else (an over-estimate for most, exact for wide ones: never a wrap).
struct Glyph {
  std::string bytes;
  int cells;
};
std::vector<Glyph> glyphs(const std::string &s) {
  std::vector<Glyph> g;
  for (size_t i = 0; i < s.size();) {
    size_t n = 1;
    while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
    g.push_back({s.substr(i, n), static_cast<unsigned char>(s[i]) < 0x80 ? 1 : 2});
    i += n;
  }
  return g;
}

int cells(const std::vector<Glyph> &g) {
  int n = 0;
  for (const Glyph &x : g) n += x.cells;
  return n;
}

// `s` in at most `width` cells: whole, or its head and tail around "...".
std::string shorten(const std::string &s, int width) {
  const std::vector<Glyph> g = glyphs(s);
  if (cells(g) <= width) return s;
  if (width < 3) return "";
  const int tail_cells = (width - 3) / 2, head_cells = width - 3 - tail_cells;
  std::string head, tail;
  int used = 0;
  for (size_t i = 0; i < g.size() && used + g[i].cells <= head_cells; ++i)
    head += g[i].bytes, used += g[i].cells;
  used = 0;
  for (size_t i = g.size(); i-- > 0 && used + g[i].cells <= tail_cells;)
    tail = g[i].bytes + tail, used += g[i].cells;
  return head + "..." + tail;
}

}  // namespace

std::string progress_line(size_t index, size_t total, const std::string &name, float fraction,
                          int columns) {
  const int room = std::max(columns - 1, 1);
  const float overall = total ? (float(index) + fraction) / float(total) : fraction;
  char status[64];
  std::snprintf(status, sizeof status, "%3.0f%%  %zu/%zu", 100.0 * overall, index + 1, total);
  const std::string shown = printable(name);
  const int name_cells = cells(glyphs(shown)), status_cells = int(std::string(status).size());
  // "[bar] " takes bar + 3 cells, " name" name + 1.
  int bar = std::min(30, room - status_cells - 3 - 1 - name_cells);
  if (bar < 10) bar = room - status_cells - 3 - 1 >= 10 + 8 ? 10 : 0;  // the bar, then the name
  const int name_room = room - status_cells - (bar ? bar + 3 : 0) - 1;
  std::string line;
  if (bar) {
    const int filled = std::min(bar, std::max(0, int(overall * float(bar) + 0.5f)));
    line = "[" + std::string(size_t(filled), '#') + std::string(size_t(bar - filled), '-') + "] ";
  }
  line += status;
  if (name_room >= 4 && !shown.empty()) line += " " + shorten(shown, name_room);
  return shorten(line, room);  // a terminal narrower than the status alone
}

int terminal_columns() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char *env = std::getenv("COLUMNS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  return 80;
}

ProgressBar::ProgressBar(bool wanted) : enabled_(wanted && isatty(STDERR_FILENO)) {}

void ProgressBar::update(size_t index, size_t total, const std::string &name, float fraction) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  index_ = index;
  total_ = total;
  name_ = name;
  fraction_ = fraction;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100) && fraction < 1.f) return;
  last_ = now;
  draw_locked();
}

void ProgressBar::draw_locked() {
  // The width is asked each time: the terminal may have been resized.
  const std::string line = progress_line(index_, total_, name_, fraction_, terminal_columns());
  std::fprintf(stderr, "\r%s\033[K", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::print(const std::string &line, FILE *stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (enabled_ && drawn_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stream, "%s\n", line.c_str());
  std::fflush(stream);
  if (enabled_ && drawn_) draw_locked();
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (enabled_ && drawn_) std::fprintf(stderr, "\r\033[K");
  drawn_ = false;
}

}  // namespace xunit::cli
