#include "engine/ops/footprint.h"

#include <algorithm>

#include "common/error.h"
#include "engine/resize_taps.h"

namespace xunit {

BilinearTap bilinear_tap(int dst, int factor, int size) {
  // The same float arithmetic as PyTorch's CPU kernel (area_pixel_compute_source_index).
  float src = std::max((float(dst) + 0.5f) / float(factor) - 0.5f, 0.f);
  BilinearTap tap;
  tap.i0 = std::min(int(src), size - 1);
  tap.i1 = std::min(tap.i0 + 1, size - 1);
  tap.t = src - float(tap.i0);
  return tap;
}

namespace {

int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// How many input rows beyond y / s (above or below) a transposed conv's output row y reads.
int transposed_reach(const Op &op) {
  const int far = std::max(op.kernel - 1 - op.padding, op.padding);
  return (far + op.factor - 1) / op.factor + 1;
}

}  // namespace

int op_radius(const Op &op, int r) {
  switch (op_traits(op.type).op_class) {
    case OpClass::Conv:
      return r + op.dilation * (op.kernel / 2);
    case OpClass::Unary:
    case OpClass::Binary:
    case OpClass::Concat:
    case OpClass::RunInput:  // row for row (a noise level map reads only its input's geometry)
      return r;              // pixel for pixel
    case OpClass::Resample:
      if (op.type == OpType::PixelShuffle || op.type == OpType::PixelShuffleDcr)
        return r * op.factor + op.factor - 1;  // output row y reads input row y / f
      if (op.type == OpType::UpsampleBilinear)
        return (r + 1) * op.factor;  // reads up to one input row beyond y / f
      if (op.type == OpType::Resize) return (r + resize_reach(op)) * op.factor;
      if (op.type == OpType::ConvTranspose2d) return (r + transposed_reach(op)) * op.factor;
      break;
    case OpClass::Unshuffle:  // an output pixel is a whole r x r block of input pixels
      return (r + op.factor - 1) / op.factor;
  }
  throw Error("internal error: no footprint for op '" + op.name + "'");
}

RowRange op_source_rows(const Op &op, RowRange out, int input_height) {
  if (out.empty()) return {0, 0};
  switch (op_traits(op.type).op_class) {
    case OpClass::Conv:
      return {out.lo - op.dilation * (op.kernel / 2), out.hi + op.dilation * (op.kernel / 2)};
    case OpClass::Unary:
    case OpClass::Binary:
    case OpClass::Concat:
    case OpClass::RunInput:
      return out;
    case OpClass::Resample:
      if (op.type == OpType::PixelShuffle || op.type == OpType::PixelShuffleDcr)
        return {out.lo / op.factor, (out.hi - 1) / op.factor + 1};
      if (op.type == OpType::UpsampleBilinear)
        return {bilinear_tap(out.lo, op.factor, input_height).i0,
                bilinear_tap(out.hi - 1, op.factor, input_height).i1 + 1};
      if (op.type == OpType::ConvTranspose2d)  // y = iy * s - p + ky, 0 <= ky < k
        return {floor_div(out.lo + op.padding - op.kernel + 1 + op.factor - 1, op.factor),
                floor_div(out.hi - 1 + op.padding, op.factor) + 1};
      if (op.type == OpType::Resize) {
        const ResizeTaps first = resize_taps(op, out.lo, input_height),
                         last = resize_taps(op, out.hi - 1, input_height);
        return {first.index[0], last.index[last.count - 1] + 1};
      }
      break;
    case OpClass::Unshuffle:
      return {out.lo * op.factor, out.hi * op.factor};
  }
  throw Error("internal error: no footprint for op '" + op.name + "'");
}

}  // namespace xunit
