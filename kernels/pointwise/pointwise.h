// f32 1x1 convolution with per-channel activations fused before and after it, over rows of
// channel-blocked pixels (nChw16c / nChw8c rows: row[x * block + lane]):
//   u[c] = pre(x[c]),        pre(v)  = act(v * pre_scale[c] + pre_shift[c], pre_slope[c])
//   y[o] = post(bias[o] + sum_c w[c][o] * u[c]),
//                             post(v) = act(v, post_slope[o]) * post_scale[o] + post_shift[o]
//   act(v, a) = v < 0 ? a * v : v    (a = 0: ReLU; one value repeated: leaky ReLU; per channel:
//   PReLU)
// each stage optional (null pointers). This is a DenseNet layer's BN -> ReLU -> conv1x1 -> BN ->
// ReLU in one pass: the pre-activated input exists only in a small per-tile scratch (L1),
// never as a tensor in memory, where oneDNN (no pre-ops) needs it written and read back.
// Products (kernels/registry.h): F32, or Bf16 (u and w rounded to bfloat16, float32 sums; for
// --precision bf16 / auto on AVX512-BF16 CPUs).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/isa.h"
#include "kernels/registry.h"

namespace xunit::kernels {

// Pixels a SIMD variant transforms at once: the scratch holds this many pixels of every input
// channel (pointwise_scratch_floats).
constexpr int kPointwiseMaxTile = 24;

struct PointwiseParams {
  const float *const *in_rows = nullptr;  // row i of input plane p: in_rows[p * rows + i]
  float *const *out_rows = nullptr;       // row i of output plane q: out_rows[q * rows + i]
  // F32: [in_planes * block][out_planes * block] floats (ic-major), padded rows/columns zero;
  // Bf16: the same through pack_bf16_input_pairs (kernels/convert/convert.h).
  const void *weights = nullptr;
  const float *bias = nullptr;       // [out_planes * block], padded lanes zero
  const float *pre_scale = nullptr;  // [in_planes * block] or null (then pre_shift is null too)
  const float *pre_shift = nullptr;
  const float *pre_slope = nullptr;   // [in_planes * block] or null: no activation before
  const float *post_slope = nullptr;  // [out_planes * block] or null: no activation after
  const float *post_scale =
      nullptr;  // [out_planes * block] or null (then post_shift too); padded shift zero
  const float *post_shift = nullptr;
  float *scratch = nullptr;  // pointwise_scratch_floats(*this) floats (per calling thread)
  int rows = 0, width = 0;
  int block = 16;  // lanes per plane, input and output
  int in_planes = 1, out_planes = 1;
};

inline int pointwise_scratch_floats(const PointwiseParams &p) {
  return kPointwiseMaxTile * p.in_planes * p.block;
}

using PointwiseFn = void (*)(const PointwiseParams &);

// Scalar references: any block (even for Bf16). The Bf16 one rounds each pre-activated input to
// bfloat16 before multiplying, as the SIMD variants do.
void f32_pointwise__scalar(const PointwiseParams &p);
void bf16_pointwise__scalar(const PointwiseParams &p);
void f32_pointwise_c16__avx512(const PointwiseParams &p);
void f32_pointwise_c8__avx2(const PointwiseParams &p);
void bf16_pointwise_c16__avx512bf16(const PointwiseParams &p);

// The registry (kernels/registry.h): every SIMD variant, best first.
struct PointwiseVariant {
  const char *name;
  Isa isa;    // the least ISA it needs
  int block;  // lanes per plane
  Products products;
  PointwiseFn fn;
};
VariantList<PointwiseVariant> pointwise_variants();

// The first registered variant for `block` lanes with these products whose ISA is at most the
// active ISA (kernels/isa.h); that kind's scalar reference when none fits.
PointwiseFn select_pointwise(int block, Products products);
// Whether a SIMD variant for `block` lanes with these products runs at the active ISA.
bool has_pointwise_variant(int block, Products products);
PointwiseFn pointwise_reference(Products products);

}  // namespace xunit::kernels
