#include "engine/arena.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <new>

namespace xunit {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
}

Arena::~Arena() { std::free(data_); }

void *Arena::get(size_t bytes) {
  if (bytes <= capacity_) return data_;
  std::free(data_);
  data_ = nullptr;
  capacity_ = 0;
  const size_t size = (std::max<size_t>(bytes, 64) + kHugePage - 1) / kHugePage * kHugePage;
  void *p = std::aligned_alloc(kHugePage, size);
  if (!p) throw std::bad_alloc();
  madvise(p, size, MADV_HUGEPAGE);  // a hint: fewer page faults and TLB misses where granted
  data_ = p;
  capacity_ = size;
  return p;
}

ArenaPool::Handle ArenaPool::take() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.empty()) return Handle(this, std::make_unique<Arena>());
  std::unique_ptr<Arena> a = std::move(idle_.back());
  idle_.pop_back();
  return Handle(this, std::move(a));
}

void ArenaPool::give_back(std::unique_ptr<Arena> arena) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(arena));
}

}  // namespace xunit
