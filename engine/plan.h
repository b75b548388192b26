// The execution plan: the graph's ops fused into steps, each step bound to an implementation,
// and for every value computed by a step its memory layout and how it is stored while the image
// streams through. Shape-independent: one plan per model serves every image and stripe size.
#pragma once
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/steps/step_kind.h"

namespace xunit {

// An op applied to a step's result, in order: a unary op (engine/ops/unary.h) or the addition
// of another value (a residual Sum, conv steps only).
struct PostOp {
  const Op *op = nullptr;  // the unary op; null for a Sum
  int value = -1;          // Sum: the value added
  bool is_sum() const { return op == nullptr; }
};

struct Step {
  StepKind kind = StepKind::Elementwise;
  const Op *op = nullptr;  // the main op: conv, dw conv, unary, binary, resample, concat
  // Value ids read row by row: a conv's or dw gate's source first; a dw gate's multiplicand
  // second when it is not the dw conv's own input (xUnitD: x * sigmoid(dw(relu(conv1x1(x))))).
  std::vector<int> inputs;
  int output = -1;  // value id written
  // Ops applied after the main op, in order (what each step kind accepts: engine/plan.cpp).
  std::vector<PostOp> post;
  int sum_value = -1;        // Conv, ConvO4: the value a Sum post-op adds
  const Op *gate = nullptr;  // DwGate: the gate op the dw conv's result feeds
  // Pointwise, DwGate: the unary ops applied to the (first) input before the conv (affines,
  // then at most one activation); `inputs` are then what those ops read.
  std::vector<const Op *> pre;
  // DwGate with `pre`: the gate multiplies the source as read, before the pre ops (the 2018
  // cell, x1 * gate(dw(relu(BN(x1))))); otherwise the multiplicand is inputs[1] when present,
  // else the pre-activated source.
  bool gate_multiplies_source = false;
  bool gather = false;  // Pointwise: the input's channels are copied together first
  // Conv feeding only a PixelShuffle by this factor: its output channels are stored in
  // sub-pixel-major order (channel s * C + c holds the op's c * f * f + s), so that the shuffle
  // (marked shuffled_input) moves whole channel blocks. 0: natural order.
  int subpixel_factor = 0;
  bool shuffled_input = false;
  int radius = 0;     // rows above/below the output rows that the first input must supply
  bool bf16 = false;  // Conv: bfloat16 source and weights, float32 accumulation and result
  // Conv by our Winograd (kernels/winograd) with bfloat16 products: float32 source and
  // transforms, the transform-domain products in bfloat16 (when the conv runs direct instead,
  // e.g. XUNIT_CONV_ALGORITHM=direct, it is float32). Pointwise: kernels/pointwise's bf16
  // products (float32 source, pre-activated then rounded to bfloat16).
  bool bf16_products = false;
};

// How a value is held while rows stream through (see engine/row_store.h).
enum class Storage {
  Ring,    // chunks of rows, each a dense tensor, kept while any consumer still needs them
  Window,  // exactly the input window of the one conv that consumes it, written in place
};

struct ValuePlan {
  bool computed = false;  // the graph input or a step output (values fused away are not)
  // A concat that is never materialized: its readers (element-wise steps, concats, conv source
  // windows) read these computed values, in channel order, where their producers wrote them.
  std::vector<int> parts;
  int block = 16;  // channel lanes interleaved per plane: 16 or 8 (nChw16c/nChw8c), 1 (nchw)
  Storage storage = Storage::Ring;
  bool bf16 = false;           // stored as bfloat16: the input window of a bf16 conv
  int producer = -1;           // step index; -1 for the graph input
  std::vector<int> consumers;  // step indices that read it (each once), directly or as a part
  bool is_virtual() const { return !parts.empty(); }
};

struct Plan {
  std::vector<Step> steps;
  std::vector<ValuePlan> values;  // indexed by value id
  int simd_block = 16;            // the block of wide values (16 on AVX-512, 8 otherwise)
  std::string describe(const Graph &graph) const;  // one line per step, for --verbose / tests
};

// How 3x3 convs are computed. Winograd F(4x4, 3x3) does ~2.5x fewer multiplications than a
// direct conv; in float32 its rounding differs from a direct conv by ~3e-7 relative per layer.
// Auto: ours (kernels/winograd: AVX2, AVX-512, AVX-512 with bf16 products for a step marked
// bf16_products) for convs of at least 16 channels in and out whose only Sum comes first, else
// oneDNN's Winograd where it has one (AVX-512, float32), else direct.
enum class ConvAlgorithm { Auto, Direct };

// Arithmetic of the convs. Auto: bfloat16 where it is the faster choice (see make_plan).
enum class Precision { Fp32, Bf16, Auto };

// `simd_block` is the channel block for values with more than 4 channels. Bf16: the convs our
// Winograd takes (our_winograd_fits) and the pointwise steps multiply in bf16 in our kernels
// where the CPU has AVX512-BF16 (Step::bf16_products); every other conv step oneDNN runs reads a
// bf16 source (Step::bf16; on AVX-512 without BF16 also the Winograd convs, while the pointwise
// steps stay float32). Auto (compiled only on AVX512-BF16 CPUs): the same, except that a 3x3
// conv left to oneDNN stays its float32 Winograd (which beats a bf16 direct conv: ~2.25-4x fewer
// multiplications against 2x the rate). Our other kernels (the xUnit gate, the output conv,
// element-wise ops) always compute in float32.
// `conv_algorithm`: as the conv steps will be compiled (it decides which convs our Winograd takes,
// hence where bf16 means bf16 products).
Plan make_plan(const Graph &graph, int simd_block, Precision precision = Precision::Fp32,
               ConvAlgorithm conv_algorithm = ConvAlgorithm::Auto);

// The channel block a conv wants its source in: planar (nchw) for a few channels, else blocked.
inline int conv_source_block(int channels, int simd_block) { return channels > 4 ? simd_block : 1; }

inline int round_up(int n, int multiple) { return (n + multiple - 1) / multiple * multiple; }

}  // namespace xunit
