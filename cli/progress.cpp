#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

#include "common/printable.h"

namespace xunit::cli {

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
  constexpr int kWidth = 30;
  const float overall = total_ ? (float(index_) + fraction_) / float(total_) : fraction_;
  const int filled = int(overall * kWidth + 0.5f);
  std::string bar(size_t(filled), '#');
  bar.append(size_t(kWidth - filled), '-');
  std::string name =
      xunit::printable(name_.size() > 40 ? "..." + name_.substr(name_.size() - 37) : name_);
  std::fprintf(stderr, "\r\033[K[%s] %3.0f%%  %zu/%zu %s", bar.c_str(), 100.0 * overall, index_ + 1,
               total_, name.c_str());
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
