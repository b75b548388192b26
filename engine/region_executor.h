// Runs the whole plan on one region (a tile plus its halo, clipped to the image), depth-first,
// in a per-thread arena. Zero padding happens at the region's edges; the tiler makes sure only
// pixels whose receptive field lies inside the region (or touches the real image border) are kept.
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

#include "engine/blocked_tensor.h"
#include "engine/compiled_model.h"

namespace xunit {

// Grow-only, 64-byte aligned scratch memory owned by one thread.
class Arena {
 public:
  Arena() = default;
  ~Arena();
  Arena(const Arena &) = delete;
  Arena &operator=(const Arena &) = delete;
  // Returns at least `bytes` of memory; contents are unspecified. Throws on allocation failure.
  void *get(size_t bytes);
  size_t capacity() const { return capacity_; }

 private:
  void *data_ = nullptr;
  size_t capacity_ = 0;
};

class RegionExecutor {
 public:
  // Lays out all slots and the conv scratchpad for an h x w (input pixels) region in `arena`.
  RegionExecutor(const CompiledModel &model, int h, int w, Arena &arena);

  BlockedTensor input() const { return value(model_.graph().input); }
  BlockedTensor output() const { return value(model_.graph().output); }

  // Executes every step. `threads` > 1 lets the non-oneDNN steps use OpenMP (only when not
  // already inside a parallel region). `between_steps` is called after each step; returning
  // false stops the run early (cancellation).
  void run(int threads, const std::function<bool(size_t done, size_t total)> &between_steps = {});

  // Arena bytes a region of h x w needs (slots + conv scratchpad).
  static size_t arena_bytes(const CompiledModel &model, int h, int w);

 private:
  BlockedTensor value(int id) const;
  void run_step(size_t index, int threads);

  const CompiledModel &model_;
  int h_, w_;
  std::vector<float *> slots_;
  ConvScratch scratch_;
};

}  // namespace xunit
