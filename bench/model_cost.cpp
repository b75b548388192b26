#include "bench/model_cost.h"

namespace xunit::bench {

double conv_flops(const Graph &g, int width, int height) {
  double flops = 0;
  for (const Op &op : g.ops) {
    if (op.type != OpType::Conv2d) continue;
    const Value &out = g.values[size_t(op.output)];
    const double pixels = double(width) * out.scale * double(height) * out.scale;
    flops += 2.0 * pixels * op.kernel * op.kernel * (op.in_channels / op.groups) * op.out_channels;
  }
  return flops;
}

}  // namespace xunit::bench
