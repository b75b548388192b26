// Runs a compiled model over a whole image: the image is cut into column stripes (each with a
// halo of the receptive-field radius on both sides, clipped to the image) and every stripe
// streams top to bottom through the network in chunks of rows (engine/stripe_executor.h).
// Rows are never recomputed; only the halo columns of neighbouring stripes are.
#pragma once
#include <cstddef>
#include <functional>

#include "engine/compiled_model.h"
#include "engine/row_schedule.h"
#include "engine/run_params.h"
#include "xunit/xunit.h"

namespace xunit {

struct Cancelled {};  // thrown when the progress callback asks to stop

// Scratch memory a run may use by default (stores, windows, oneDNN scratchpads): the automatic
// stripe width keeps within it, so that memory does not grow with the image.
constexpr size_t kDefaultMemoryBudget = size_t(192) << 20;

struct RunConfig {
  int threads = 1;
  int tile_size = -1;        // stripe width in input pixels; 0: the whole width; -1: automatic
  size_t memory_budget = 0;  // 0: kDefaultMemoryBudget
  // For tests and tuning (see StreamShape): 0 automatic.
  int chunk_rows = 0;                   // input rows per pass
  std::function<bool(float)> progress;  // returns false to cancel; calls are serialized
  RunParams params;                     // the graph's run-time inputs (the noise level)
};

struct StripeGeometry {
  int tile_width = 0;  // owned input columns per stripe
  StreamShape stream;
};
// The stream a run of an image of `width` x `height` works on (Graph::input_factor: the
// unshuffled input), and the run's configuration in its pixels (the stripe width).
struct StreamSize {
  int width, height;
  RunConfig config;
};
StreamSize stream_size(const Graph &g, int width, int height, const RunConfig &config);

// `width` and `height` are the stream's (stream_size).
StripeGeometry choose_geometry(const CompiledModel &model, int width, int height,
                               const RunConfig &config);

// The scratch a run of this geometry allocates (the widest stripe's arena): what run_image
// checks against the memory limit (common/memory_limit.h) before it allocates anything.
size_t run_scratch_bytes(const CompiledModel &model, int width, int height,
                         const StripeGeometry &geo);

// Validates nothing about the descriptors (the C API does); throws Cancelled or xunit::Error.
void run_image(const CompiledModel &model, const xunit_image &input, const xunit_image &output,
               const RunConfig &config);

}  // namespace xunit
