// The steps that do not run through oneDNN, on a range of output rows, reading and writing rows
// held by RowStores (engine/row_store.h). Sources may use another channel block than the
// destination. Padded lanes (channels beyond `channels` in the last block) are always written
// as zeros so that convs may read whole blocks. Rows outside a source's image read as zeros.
// Each function does its own (OpenMP) row parallelism over `threads`.
#pragma once
#include <vector>

#include "engine/graph.h"
#include "engine/plan.h"
#include "engine/row_store.h"

namespace xunit {

// Gate weights packed per channel block as the dwgate kernels expect (padded lanes zero).
struct PackedGate {
  int kernel = 0, block = 0, blocks = 0;
  std::vector<float> weights;                 // [blocks][k*k][block]
  std::vector<float> bias;                    // [blocks][block]
  std::vector<float> post_scale, post_shift;  // empty when there is no fused affine
};

// Weights of a ConvO4 step packed as kernels/conv_o4 expects.
struct PackedConvO4 {
  int kernel = 0, block = 0, planes = 0, out_channels = 0;
  std::vector<float> weights;  // [out_channels][planes][k*k][block]
  std::vector<float> bias;     // [out_channels]
};

// Channels [offset, offset + store->layout().channels) of a value read from several stores (a
// virtual concat, engine/plan.h); a plain value is one part at offset 0.
struct ChannelPart {
  const RowStore *store = nullptr;
  int offset = 0;
};
using Parts = std::vector<ChannelPart>;

// A Pointwise step's parameters as kernels/pointwise expects them (channels padded to whole
// blocks; the conv's leading affine post-ops folded into weights and bias).
struct PackedPointwise {
  int block = 0, in_planes = 0, out_planes = 0;
  std::vector<float> weights;  // [in_planes * block][out_planes * block]
  std::vector<float> bias;
  std::vector<float> pre_scale, pre_shift, pre_slope;     // empty when absent
  std::vector<float> post_slope, post_scale, post_shift;  // empty when absent
};

// Context shared by the ops of one stripe: a row of zeros as wide as the widest row.
struct RowOpContext {
  const float *zero_row = nullptr;
  int threads = 1;
};

// The dw conv + gate (+ affine) of a DwGate step: `in` is the dw conv's input; the gate multiplies
// `multiplicand` (same layout) when given, else `in` itself.
void run_dwgate(const RowOpContext &ctx, const PackedGate &gate, const RowStore &in,
                const RowStore *multiplicand, RowStore &out, RowRange rows);
// A ConvO4 step: the conv, then its post-ops in order (`sum` holds the Sum operand, if any).
void run_conv_o4(const RowOpContext &ctx, const Graph &g, const Step &step,
                 const PackedConvO4 &conv, const Parts &in, const RowStore *sum, RowStore &out,
                 RowRange rows);
// A Pointwise step: `in` must be plane-aligned in `pp.block` (else gather it first, see
// copy_rows).
void run_pointwise(const RowOpContext &ctx, const PackedPointwise &pp, const Parts &in,
                   RowStore &out, RowRange rows);
// An Elementwise step: its op, then its chain (affine / relu / leaky relu / prelu / sigmoid).
void run_elementwise(const RowOpContext &ctx, const Graph &g, const Step &step, const Parts &in,
                     RowStore &out, RowRange rows);
// add / mul / gate (a * sigmoid(b)).
void run_binary(const RowOpContext &ctx, OpType type, const RowStore &a, const RowStore &b,
                RowStore &out, RowRange rows);
// Pixel shuffle by `factor`, then the optional activation op (relu / leaky relu / prelu / sigmoid).
// `shuffled_input`: the input's channels are in sub-pixel-major order (Step::subpixel_factor).
void run_pixel_shuffle(const RowOpContext &ctx, const Graph &g, int factor, const Op *activation,
                       bool shuffled_input, const RowStore &in, RowStore &out, RowRange rows);
// Bilinear upsampling by `factor`, align_corners=False. Source coordinates are clamped at the
// stripe's edges: inside a stripe those columns lie in the halo and are never kept.
void run_upsample_bilinear(const RowOpContext &ctx, int factor, const RowStore &in, RowStore &out,
                           RowRange rows);
// A resize op (engine/resize_taps.h). Source pixels are clamped at the stripe's edges, as for
// bilinear upsampling.
void run_resize(const RowOpContext &ctx, const Op &op, const RowStore &in, RowStore &out,
                RowRange rows);
// Channel concatenation.
void run_concat(const RowOpContext &ctx, const std::vector<const RowStore *> &inputs, RowStore &out,
                RowRange rows);
// Copies rows between layouts (zeros for rows outside the source image); the destination may
// hold bfloat16 (rounded to nearest even). The parts fill the destination's channels.
void copy_rows(const RowOpContext &ctx, const Parts &in, RowStore &out, RowRange rows);
inline void copy_rows(const RowOpContext &ctx, const RowStore &in, RowStore &out, RowRange rows) {
  copy_rows(ctx, Parts{{&in, 0}}, out, rows);
}

}  // namespace xunit
