// Arithmetic of a network: what GFLOP/s and "% of peak" are computed from.
#pragma once
#include "engine/graph.h"

namespace xunit::bench {

// Floating-point operations (a multiply-add counts 2) of the convolutions of `graph` on a
// width x height input: dense and depthwise convs, as PyTorch's profilers count them. The
// element-wise ops, a few per pixel, are not counted.
double conv_flops(const Graph &graph, int width, int height);

}  // namespace xunit::bench
