#include "cli/batch.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "cli/restore.h"

namespace xunit::cli {

namespace {

// A bounded queue between two threads; close() ends the stream.
template <typename T>
class Channel {
 public:
  explicit Channel(size_t capacity) : capacity_(capacity) {}
  void push(T item) {
    std::unique_lock<std::mutex> lock(mutex_);
    space_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
    if (closed_) return;
    items_.push_back(std::move(item));
    ready_.notify_one();
  }
  std::optional<T> pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    space_.notify_one();
    return item;
  }
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    ready_.notify_all();
    space_.notify_all();
  }

 private:
  size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<T> items_;
  bool closed_ = false;
};

struct Work {
  size_t index;
  Image image;
  std::string error;  // load failure
};

}  // namespace

size_t run_batch(const std::vector<BatchItem> &items, const BatchSteps &steps,
                 const std::atomic<bool> &stop) {
  Channel<Work> loaded(1), processed(1);
  std::atomic<size_t> failures{0};
  std::atomic<bool> cancelled{false};
  auto fail = [&](size_t i, const std::string &message) {
    ++failures;
    steps.failed(items[i], message);
  };

  std::thread loader([&] {
    for (size_t i = 0; i < items.size() && !cancelled && !stop; ++i) {
      Work w{i, {}, {}};
      try {
        w.image = steps.load(items[i]);
      } catch (const std::exception &e) {
        w.error = e.what();
      }
      loaded.push(std::move(w));
    }
    loaded.close();
  });
  std::thread saver([&] {
    while (std::optional<Work> w = processed.pop()) {
      try {
        steps.save(items[w->index], w->image);
      } catch (const std::exception &e) {
        fail(w->index, e.what());
      }
    }
  });

  while (std::optional<Work> w = loaded.pop()) {
    if (!w->error.empty()) {
      fail(w->index, w->error);
      continue;
    }
    if (stop) {
      cancelled = true;
      break;
    }
    try {
      w->image = steps.process(items[w->index], w->image);
      processed.push(std::move(*w));
    } catch (const Cancelled &) {
      cancelled = true;
      break;
    } catch (const std::exception &e) {
      fail(w->index, e.what());
    }
  }
  loaded.close();  // unblocks the loader if it waits for room
  processed.close();
  loader.join();
  saver.join();  // items processed before a cancellation are still saved whole
  if (cancelled || stop) throw Cancelled();
  return failures;
}

}  // namespace xunit::cli
