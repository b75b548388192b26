// f32 3x3 convolution (stride 1, zero padding 1, dense or grouped-1 only) by Winograd's
// F(4x4, 3x3): each 4x4 output tile costs 36 products per (input, output) channel pair instead
// of 144. oneDNN 2.6 has Winograd only for AVX-512 in float32 (no faster than ours there); this
// family has AVX2 and AVX-512 variants and the AVX512-BF16 one with bfloat16 products.
//   out = bias + conv3x3(in)                      (accumulate: out += conv3x3(in) + bias)
// Input and output are dense tensors of channel-blocked rows (nChw8c / nChw16c): `planes` blocks of
// `block` lanes, each block rows x width x block floats. The input holds the rows + 2 rows of
// the output rows' window (rows outside the image are zero rows); columns outside [0, width)
// are zero padding. Tiles are 4 rows x 4 columns; rows past `rows` and columns past `width` of
// partial tiles are neither read beyond the input nor written.
//
// Two kinds of products in the transform domain (Products), the transforms being float32
// in both: F32 multiplies in float32; Bf16 rounds the transformed inputs and weights to bfloat16
// and multiplies them with AVX512-BF16 dot products (vdpbf16ps: twice the float32 FMA rate)
// into float32 sums, for the --precision bf16 / auto paths (about 2^-9 relative per operand,
// amplified by the output transform; the engine's bf16 accuracy is measured in the README).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/isa.h"
#include "kernels/registry.h"

namespace xunit::kernels {

struct WinogradParams {
  const float *src = nullptr;  // in_planes x (rows + 2) x width x block
  float *dst = nullptr;        // out_planes x rows x width x block
  // The transformed weights, as the variant's products take them: F32, winograd_pack_weights;
  // Bf16, winograd_pack with Products::Bf16.
  const void *weights = nullptr;
  const float *bias = nullptr;  // [out_planes * block], zero on padded lanes
  int rows = 0, width = 0, block = 8;
  int in_planes = 0, out_planes = 0;
  // The tiles this call computes: tile rows (4 output rows each, of (rows + 3) / 4) and tile
  // columns (4 output columns each, of (width + 3) / 4); callers split them between threads.
  int tile_row_begin = 0, tile_row_end = 0;
  int tile_col_begin = 0, tile_col_end = 0;
  bool accumulate = false;   // add to dst (which holds a residual operand) instead of storing
  float *scratch = nullptr;  // winograd_scratch_floats(...) floats for this call alone
};

using WinogradFn = void (*)(const WinogradParams &);

// Tiles the SIMD variants transform and multiply as one batch (their scratch holds one batch).
constexpr int kWinogradBatchTiles = 12;

// Transformed weights U = G g G^T of OIHW weights [out][in][3][3], zero-padded to whole blocks:
// [36][in_planes * block][out_planes * block] floats.
std::vector<float> winograd_pack_weights(const float *oihw, int out_channels, int in_channels,
                                         int block);
// Either packing (Bf16: that U through pack_bf16_input_pairs, 36 matrices:
// [36][in_planes * block / 2][out_planes * block][2]; `block` even), as a variant of `products`
// takes it (WinogradParams::weights = data()).
struct WinogradWeights {
  Products products = Products::F32;
  std::vector<float> f32;
  std::vector<uint16_t> bf16;
  const void *data() const {
    return products == Products::Bf16 ? static_cast<const void *>(bf16.data())
                                      : static_cast<const void *>(f32.data());
  }
};
WinogradWeights winograd_pack(const float *oihw, int out_channels, int in_channels, int block,
                              Products products);
size_t winograd_scratch_floats(int in_planes, int out_planes, int block);

// Scalar references: any block (even for Bf16); the tile algorithm in plain loops. The Bf16 one
// rounds each transformed input to bfloat16 before multiplying, as the SIMD variants do.
void f32_winograd_f4x4_3x3__scalar(const WinogradParams &p);
void bf16_winograd_f4x4_3x3__scalar(const WinogradParams &p);
void f32_winograd_f4x4_3x3_c8__avx2(const WinogradParams &p);
void f32_winograd_f4x4_3x3_c16__avx512(const WinogradParams &p);
void bf16_winograd_f4x4_3x3_c16__avx512bf16(const WinogradParams &p);

// The registry (kernels/registry.h): every SIMD variant, best first.
struct WinogradVariant {
  const char *name;
  Isa isa;    // the least ISA it needs
  int block;  // lanes per plane
  Products products;
  WinogradFn fn;
};
VariantList<WinogradVariant> winograd_variants();

// The first registered variant for planes of `block` lanes with these products whose ISA is at
// most the active ISA; null when none fits (the engine then keeps oneDNN's conv: the scalar
// references are for tests).
const WinogradVariant *select_winograd(int block, Products products);
// The scalar reference of each kind of products.
WinogradFn winograd_reference(Products products);

}  // namespace xunit::kernels
