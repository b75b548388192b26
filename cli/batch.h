// Images through load -> process -> save, the loading of the next image and the saving of the
// previous one overlapping the processing of the current one (a thread each): with several
// files, decoding and encoding cost no wall time.
#pragma once
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "cli/image_io.h"

namespace xunit::cli {

struct BatchItem {
  std::string name;  // as reported (file name)
  std::string input, output;
};

struct BatchSteps {
  std::function<Image(const BatchItem &)> load;  // may throw
  std::function<Image(const BatchItem &, const Image &)>
      process;  // may throw (Cancelled stops the batch)
  std::function<void(const BatchItem &, const Image &)> save;          // may throw
  std::function<void(const BatchItem &, const std::string &)> failed;  // one item's error
};

// Returns how many items failed (each reported through `failed`; the others are processed).
// If `process` throws Cancelled, or `stop` becomes true, the batch stops after the item in
// progress (nothing partial is saved) and Cancelled is rethrown.
size_t run_batch(const std::vector<BatchItem> &items, const BatchSteps &steps,
                 const std::atomic<bool> &stop);

}  // namespace xunit::cli
