// A plain, unfused, whole-image executor of the graph IR on NCHW float buffers.
// Slow on purpose: it is the oracle the planned/oneDNN path is tested against.
#pragma once
#include <vector>

#include "engine/graph.h"
#include "engine/run_params.h"

namespace xunit {

struct PlanarImage {
  int channels = 0, height = 0, width = 0;
  std::vector<float> data;  // channels * height * width, CHW
};

PlanarImage run_reference(const Graph &graph, const PlanarImage &input,
                          const RunParams &params = {});

}  // namespace xunit
