// A one-line progress bar on stderr, drawn only when stderr is a terminal.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <string>

namespace xunit::cli {

// The bar's text for a terminal `columns` wide: "[####------]  42%  3/12 name", at most
// columns - 1 wide (a full line wraps on some terminals), so that "\r" redraws it in place.
// The bar shrinks from 30 to 10 cells before the name is shortened in the middle
// ("IMG_2023...0001.jpg"); on a very narrow terminal the bar, then the name go. Characters
// beyond ASCII count as two cells (wide ones do; no line may wrap).
std::string progress_line(size_t index, size_t total, const std::string &name, float fraction,
                          int columns);

// The width of the terminal on stderr: its window size (TIOCGWINSZ), else $COLUMNS, else 80.
int terminal_columns();

class ProgressBar {
 public:
  explicit ProgressBar(bool wanted);  // draws only if wanted and stderr is a terminal
  // File `index` of `total` (0-based), `fraction` of it done. Redraws at most 10 times a second.
  void update(size_t index, size_t total, const std::string &name, float fraction);
  // Prints a line to `stream` (stderr for messages, stdout for results) without mangling the bar.
  void print(const std::string &line, FILE *stream = stderr);
  void finish();  // erases the bar

 private:
  void draw_locked();
  bool enabled_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_{};
  size_t index_ = 0, total_ = 0;
  std::string name_;
  float fraction_ = 0;
  bool drawn_ = false;
};

}  // namespace xunit::cli
