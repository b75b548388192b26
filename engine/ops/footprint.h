// An op's footprint: which rows of its first input an output row reads. One definition, used by
// graph validation (the receptive field, hence a tile's halo), the row schedule (how far each
// value trails the input as rows stream through) and the steps that run the op.
#pragma once
#include "engine/graph.h"
#include "engine/row_range.h"

namespace xunit {

// The receptive-field radius of the op's output, in its own pixels, given its first input's.
// (Other inputs are read pixel for pixel; the caller takes the largest of all.)
int op_radius(const Op &op, int input_radius);

// Rows of the first input (of `input_height` rows) that output rows `out` read, not clipped to
// the input (rows outside [0, input_height) are zero padding or clamped by the op itself).
RowRange op_source_rows(const Op &op, RowRange out, int input_height);

// PyTorch's bilinear source row/column for destination index `dst` (align_corners=False,
// clamped at 0 and at size - 1): dst reads i0 and i1 = min(i0 + 1, size - 1) with weight t.
struct BilinearTap {
  int i0, i1;
  float t;
};
BilinearTap bilinear_tap(int dst, int factor, int size);

}  // namespace xunit
