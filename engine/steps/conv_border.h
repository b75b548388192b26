// The padding of a BorderConv2d (reflect / edge): the conv step runs oneDNN's conv, which pads
// with zeros, then adds here what the taps beyond the border read from the repeated image. A
// conv is linear, so that is exact; it touches only the pixels within the conv's radius of the
// stripe's sides and of the image's top and bottom (a stripe's inner sides are halo columns,
// discarded like the zero padding there).
#pragma once
#include "engine/graph.h"
#include "engine/row_store.h"

namespace xunit {

// out rows `rows` (channel o at plane o / out.block, lane o % out.block) += the border taps of
// `op` over `src`, which holds the conv's input rows rows.lo - radius .. rows.hi + radius (rows
// outside the image included) in channel blocks of src.layout().block.
void add_border_taps(const Graph &g, const Op &op, const RowStore &src, RowStore &out,
                     RowRange rows, int threads);

}  // namespace xunit
