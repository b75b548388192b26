// The non-conv steps on blocked tensors. Padded lanes (channels beyond `channels` in the last
// block) are always written as zeros so that later convs may read whole blocks.
#pragma once
#include "engine/blocked_tensor.h"
#include "engine/graph.h"

namespace xunit {

// affine / relu / leaky relu / prelu / sigmoid of `in` into `out` (same shape).
void run_elementwise(const Graph &g, const Op &op, const BlockedTensor &in, const BlockedTensor &out);
// add / mul / gate of two same-shaped tensors.
void run_binary(OpType type, const BlockedTensor &a, const BlockedTensor &b, const BlockedTensor &out);
// pixel shuffle by `factor`, then the optional activation op (relu / leaky relu / prelu / sigmoid).
void run_pixel_shuffle(const Graph &g, int factor, const Op *activation, const BlockedTensor &in,
                       const BlockedTensor &out);
// Bilinear upsampling by `factor`, align_corners=False. The source coordinate is clamped at the
// image border; a region that does not touch the border clamps at its own edge, which lies inside
// the halo and so never reaches the kept part of a tile.
void run_upsample_bilinear(int factor, const BlockedTensor &in, const BlockedTensor &out);
// Channel concatenation of `count` inputs into out.
void run_concat(const BlockedTensor *inputs, int count, const BlockedTensor &out);
// Copies a tensor (same shape and layout).
void copy_tensor(const BlockedTensor &in, const BlockedTensor &out);

}  // namespace xunit
