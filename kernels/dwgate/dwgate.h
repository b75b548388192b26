// f32 depthwise-conv + gate: the xUnit activation in one pass over one channel block.
//   y = x * sigmoid(bias + sum_{ky,kx} w[ky,kx] * x[y+ky-k/2, x+kx-k/2])      (zero outside)
//   y = y * post_scale + post_shift                                           (optional)
// Layout: one channel block of `block` lanes, pixels row-major: x[(row * width + col) * block + lane].
// Weights are packed per block as w[(ky * kernel + kx) * block + lane]; padded lanes hold zeros.
#pragma once

namespace xunit::kernels {

struct DwGateParams {
  const float *input = nullptr;
  float *output = nullptr;
  const float *weights = nullptr;
  const float *bias = nullptr;        // [block]
  const float *post_scale = nullptr;  // [block] or null
  const float *post_shift = nullptr;  // [block] or null (both or neither)
  int height = 0, width = 0;
  int kernel = 7;
  int block = 16;
  int row_begin = 0, row_end = 0;  // output rows [row_begin, row_end)
};

using DwGateFn = void (*)(const DwGateParams &);

// Scalar reference: any odd kernel, any block size.
void f32_dwgate__scalar(const DwGateParams &p);
// 16-lane variants (block == 16), any odd kernel.
void f32_dwgate_c16__avx512(const DwGateParams &p);
void f32_dwgate_c16__avx2(const DwGateParams &p);

// The best variant for `block` on the active ISA (see kernels/isa.h).
DwGateFn select_dwgate(int block);

}  // namespace xunit::kernels
