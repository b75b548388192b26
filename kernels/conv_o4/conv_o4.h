// f32 k x k convolution to at most 4 output channels (the last layer of a restoration network:
// features -> RGB or gray), from a channel-blocked input:
//   out[o][y][x] = bias[o] + sum_{p, lane, i, j} w[o][p][i][j][lane] * in[p][y + i - r][(x + j - r)
//   * block + lane]
// Inputs come as row pointers per plane (zero rows for the padding above and below the image);
// columns outside [0, width) are zero padding. Outputs are planar rows, one per output channel.
// oneDNN's direct conv runs at ~20% of the FMA peak for such shapes (its kernels block over
// output channels); these kernels vectorize over input lanes and block over output pixels.
#pragma once

#include "kernels/isa.h"
#include "kernels/registry.h"

namespace xunit::kernels {

struct ConvO4Params {
  const float *const *in_rows = nullptr;  // input row i (from r above the first output row) of
                                          // plane p: in_rows[p * in_stride + i]
  float *const *out_rows = nullptr;       // output row i of channel o: out_rows[o * out_stride + i]
  int in_stride = 0;                      // >= rows + kernel - 1
  int out_stride = 0;                     // >= rows
  const float *weights =
      nullptr;                  // [out_channels][planes][kernel * kernel][block], padded lanes zero
  const float *bias = nullptr;  // [out_channels]
  int rows = 0, width = 0;
  int kernel = 3;  // odd
  int block = 16;  // lanes per input plane
  int planes = 1;
  int out_channels = 1;  // 1..4
};

using ConvO4Fn = void (*)(const ConvO4Params &);

// Scalar reference: any block, kernel and 1..4 output channels.
void f32_conv_o4__scalar(const ConvO4Params &p);
void f32_conv_o4_c16__avx512(const ConvO4Params &p);
void f32_conv_o4_c8__avx2(const ConvO4Params &p);

// The registry (kernels/registry.h): every SIMD variant, best first.
struct ConvO4Variant {
  const char *name;
  Isa isa;    // the least ISA it needs
  int block;  // lanes per input plane
  ConvO4Fn fn;
};
VariantList<ConvO4Variant> conv_o4_variants();

// The first registered variant for input planes of `block` lanes whose ISA is at most the
// active ISA; the scalar reference when none fits.
ConvO4Fn select_conv_o4(int block);

}  // namespace xunit::kernels
