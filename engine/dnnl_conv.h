// A conv step (conv + fused post-ops) executed by oneDNN. Primitives are created once per
// region shape and reused; they are executed concurrently from many threads, each passing its
// own scratchpad (scratchpad_mode::user) and stream.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "engine/graph.h"
#include "engine/plan.h"

namespace xunit {

// Per-thread scratch space for oneDNN's scratchpad.
struct ConvScratch {
  void *data = nullptr;
  size_t bytes = 0;
};

class DnnlConv {
 public:
  DnnlConv(const Graph &graph, const Step &step);
  ~DnnlConv();
  DnnlConv(const DnnlConv &) = delete;
  DnnlConv &operator=(const DnnlConv &) = delete;

  // Scratchpad bytes needed for a region of h x w pixels (in this conv's resolution).
  size_t scratch_bytes(int h, int w) const;
  // dst must already hold the Sum operand when the step has one.
  void execute(int h, int w, const float *src, float *dst, ConvScratch scratch) const;

 private:
  struct Instance;
  std::shared_ptr<Instance> instance(int h, int w) const;

  const Graph &graph_;
  const Step &step_;
  mutable std::mutex mutex_;
  mutable std::map<std::pair<int, int>, std::shared_ptr<Instance>> cache_;
};

}  // namespace xunit
