// Scratch memory for runs: one Arena per run in progress, recycled through the model's pool so
// that a sequence of runs does not pay for fresh pages (page faults and the kernel's zeroing
// cost as much as a small image's whole compute).
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace xunit {

// Grow-only, 2 MiB aligned scratch memory, backed by transparent huge pages where the kernel
// offers them. Used by one thread at a time.
class Arena {
 public:
  Arena() = default;
  ~Arena();
  Arena(const Arena &) = delete;
  Arena &operator=(const Arena &) = delete;
  // Returns at least `bytes` of memory; contents are unspecified. Throws std::bad_alloc.
  void *get(size_t bytes);
  size_t capacity() const { return capacity_; }

 private:
  void *data_ = nullptr;
  size_t capacity_ = 0;
};

// Idle arenas kept for later runs. Thread-safe.
class ArenaPool {
 public:
  explicit ArenaPool(size_t max_idle = 2) : max_idle_(max_idle) {}
  // An arena for one run; returned to the pool when the handle goes out of scope.
  struct Handle {
    ArenaPool *pool;
    std::unique_ptr<Arena> arena;
    Handle(ArenaPool *p, std::unique_ptr<Arena> a) : pool(p), arena(std::move(a)) {}
    Handle(Handle &&) = default;
    ~Handle() {
      if (arena) pool->give_back(std::move(arena));
    }
    Arena &operator*() { return *arena; }
  };
  Handle take();

 private:
  void give_back(std::unique_ptr<Arena> arena);
  std::mutex mutex_;
  std::vector<std::unique_ptr<Arena>> idle_;
  size_t max_idle_;
};

}  // namespace xunit
