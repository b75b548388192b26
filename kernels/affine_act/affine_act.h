// f32 per-channel affine, then an optional activation, over channel-blocked pixels
// (row[x * block + lane]): a BatchNorm -> ReLU (or PReLU) that no conv could take as a post-op,
// run where a step reads or writes its rows.
//   v = scale ? x * scale[l] + shift[l] : x   (a multiply, then an add: no FMA, so every variant
//                                              gives the scalar reference's bits)
//   y = None: v;   Relu: v < 0 ? 0 : v;   Slope: v < 0 ? v * slope[l] : v
// NaN stays NaN; src may equal dst.
#pragma once
#include <cstddef>

#include "kernels/isa.h"
#include "kernels/registry.h"

namespace xunit::kernels {

enum class Activation { None, Relu, Slope };

struct AffineActParams {
  const float *src = nullptr;
  float *dst = nullptr;
  const float *scale = nullptr;  // [block] or null (then shift is null too)
  const float *shift = nullptr;
  const float *slope = nullptr;  // [block]: Slope only
  Activation act = Activation::None;
  size_t pixels = 0;
  int block = 8;
};

using AffineActFn = void (*)(const AffineActParams &);

// Scalar reference: any block.
void f32_affine_act__scalar(const AffineActParams &p);
void f32_affine_act_c8__avx2(const AffineActParams &p);     // block a multiple of 8
void f32_affine_act_c16__avx512(const AffineActParams &p);  // block 16

// The registry (kernels/registry.h): every SIMD variant, best first.
struct AffineActVariant {
  const char *name;
  Isa isa;    // the least ISA it needs
  int block;  // lanes per pixel it takes
  AffineActFn fn;
};
VariantList<AffineActVariant> affine_act_variants();

// The first registered variant for `block` lanes whose ISA is at most the active ISA; the
// scalar reference when none fits.
AffineActFn select_affine_act(int block);

}  // namespace xunit::kernels
