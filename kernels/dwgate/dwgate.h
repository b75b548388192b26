// f32 depthwise-conv + gate: the xUnit activation in one pass over one channel block.
//   a = bias + sum_{i,j} w[i][j] * x[row + i - r][col + j - r]   (r = kernel / 2)
//   y = m * g(a)                                                  g: the gate function
//   y = y * post_scale + post_shift                               (optional)
// where the multiplicand m is x itself (xUnitS) or another tensor of the same shape (xUnitD
// gates x by a dw conv of relu(conv1x1(x))), per lane of a block of `block` channels.
// Gate functions (GateFunction): Sigmoid g(a) = 1 / (1 + exp(-a)); Gaussian g(a) = exp(-a^2),
// the unit of the xUnit paper (Kligvasser et al., CVPR 2018).
// Each row holds `width` pixels with the lanes interleaved: row[col * block + lane]. Rows are
// passed as pointers so that a caller can stream an image through in chunks (rows from
// different buffers) and pass a row of zeros for the padding above and below the image; columns
// outside [0, width) are zero padding.
// Weights are packed per block as w[(i * kernel + j) * block + lane]; padded lanes hold zeros.
#pragma once

#include "kernels/isa.h"
#include "kernels/registry.h"

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

enum class GateFunction { Sigmoid, Gaussian, kCount };
constexpr int kGateFunctionCount = int(GateFunction::kCount);
// Indexed by GateFunction.
inline constexpr const char *kGateFunctionNames[] = {"sigmoid", "gaussian"};
static_assert(sizeof(kGateFunctionNames) / sizeof(kGateFunctionNames[0]) == kGateFunctionCount,
              "one name per GateFunction");
const char *gate_function_name(GateFunction gate);  // "?" outside the enum

// Scalar references: any odd kernel, any block size, exp via std::exp.
void f32_dwgate__scalar(const DwGateParams &p);  // Sigmoid
void f32_dwgate_gaussian__scalar(const DwGateParams &p);
DwGateFn dwgate_reference(GateFunction gate);

// SIMD variants, named by gate (none: Sigmoid), block size and ISA; any odd kernel (3, 5, 7, 9
// with their own code; above 31 pixel by pixel, slower).
// Their exp is a polynomial after a range reduction (and the sigmoid's reciprocal an estimate
// refined by one Newton step): relative error of the gate below 1e-6 (tested). The Gaussian
// gate is 0 where a^2 > 87.3 (exp(-a^2) would be a denormal or 0).
void f32_dwgate_c16__avx512(const DwGateParams &p);
void f32_dwgate_c16__avx2(const DwGateParams &p);
void f32_dwgate_c8__avx2(const DwGateParams &p);
void f32_dwgate_gaussian_c16__avx512(const DwGateParams &p);
void f32_dwgate_gaussian_c16__avx2(const DwGateParams &p);
void f32_dwgate_gaussian_c8__avx2(const DwGateParams &p);

// The registry (kernels/registry.h): every SIMD variant, best first.
struct DwGateVariant {
  const char *name;
  Isa isa;  // the least ISA it needs
  int block;
  GateFunction gate;
  DwGateFn fn;
};
VariantList<DwGateVariant> dwgate_variants();

// The first registered variant for (block, gate) whose ISA is at most the active ISA
// (kernels/isa.h); the scalar reference when none fits.
DwGateFn select_dwgate(int block, GateFunction gate);
DwGateFn select_dwgate(int block);  // Sigmoid

}  // namespace xunit::kernels
