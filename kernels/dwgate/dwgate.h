// f32 depthwise-conv + gate: the xUnit activation in one pass over one channel block.
//   y = m * sigmoid(bias + sum_{i,j} w[i][j] * x[row + i - r][col + j - r])   (r = kernel / 2)
//   y = y * post_scale + post_shift                                          (optional)
// where the multiplicand m is x itself (xUnitS) or another tensor of the same shape (xUnitD
// gates x by a dw conv of relu(conv1x1(x))).
// per lane of a block of `block` channels. Each row holds `width` pixels with the lanes
// interleaved: row[col * block + lane]. Rows are passed as pointers so that a caller can stream
// an image through in chunks (rows from different buffers) and pass a row of zeros for the
// padding above and below the image; columns outside [0, width) are zero padding.
// Weights are packed per block as w[(i * kernel + j) * block + lane]; padded lanes hold zeros.
#pragma once

namespace xunit::kernels {

struct DwGateParams {
  const float *const *in_rows =
      nullptr;  // rows + kernel - 1 input rows, starting r above the first output row
  const float *const *x_rows = nullptr;  // `rows` multiplicand rows; null: the centre input rows
  float *const *out_rows = nullptr;      // `rows` output rows
  const float *weights = nullptr;        // [kernel * kernel][block]
  const float *bias = nullptr;           // [block]
  const float *post_scale = nullptr;     // [block] or null
  const float *post_shift = nullptr;     // [block] or null (both or neither)
  int rows = 0, width = 0;
  int kernel = 7;  // odd
  int block = 16;
};

using DwGateFn = void (*)(const DwGateParams &);

// Scalar reference: any odd kernel, any block size. Sigmoid via std::exp.
void f32_dwgate__scalar(const DwGateParams &p);
// SIMD variants, named by block size and ISA; any odd kernel up to 31. Their sigmoid uses a
// polynomial exp and a refined reciprocal: relative error of the result below 1e-6 (tested).
void f32_dwgate_c16__avx512(const DwGateParams &p);
void f32_dwgate_c16__avx2(const DwGateParams &p);
void f32_dwgate_c8__avx2(const DwGateParams &p);

// The best variant for `block` on the active ISA (kernels/isa.h); the scalar reference when no
// SIMD variant fits.
DwGateFn select_dwgate(int block);

}  // namespace xunit::kernels
