// libFuzzer target: the .xunit reader (checksum, section table, tensor table, graph, validation).
// The checksum would stop almost every mutation at the first check, so the fuzzer's input is
// the model without its trailer and the valid SHA-256 is appended here: the parser behind the
// checksum is what hostile files reach when they are crafted, not corrupted. A model that loads
// is compiled and run on a tiny image, as xunit-run would: its memory is bounded by the load
// budget (common/load_budget.h) and the run's memory limit (common/memory_limit.h).
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "common/sha256.h"
#include "engine/compiled_model.h"
#include "engine/image_runner.h"
#include "engine/model_file.h"
#include "engine/model_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> file(data, data + size);
  if (size >= 24) {  // make the header's file size agree, as a crafted file would
    const uint64_t total = size + xunit::format::kChecksumSize;
    std::memcpy(file.data() + 16, &total, 8);
  }
  const auto digest = xunit::Sha256::digest(file.data(), file.size());
  file.insert(file.end(), digest.begin(), digest.end());
  try {
    xunit::Graph g = xunit::parse_model(file.data(), file.size());
    (void)g.halo();
    xunit::own_weights(g);
    const xunit::CompiledModel model(std::move(g), nullptr);
    const xunit::Graph &graph = model.graph();
    const int w = 9, h = 7, s = graph.output_scale();
    std::vector<float> in(size_t(w) * h * size_t(graph.in_channels()), 0.5f);
    std::vector<float> out(size_t(w) * s * h * s * size_t(graph.out_channels()));
    const xunit_image a{w,
                        h,
                        graph.in_channels(),
                        XUNIT_PIXEL_F32,
                        size_t(w) * size_t(graph.in_channels()) * sizeof(float),
                        in.data()};
    const xunit_image b{w * s,
                        h * s,
                        graph.out_channels(),
                        XUNIT_PIXEL_F32,
                        size_t(w) * s * size_t(graph.out_channels()) * sizeof(float),
                        out.data()};
    xunit::RunConfig config;
    config.threads = 1;
    xunit::run_image(model, a, b, config);
  } catch (const xunit::Error &) {
  }
  return 0;
}
