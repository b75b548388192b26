// Which source pixels a resized pixel reads, and with what weights: one function shared by the
// engine (rows and columns of a stripe), its row schedule (how far a resize reads ahead) and the
// reference executor, so that all three agree exactly. Separable: the same rule along rows and
// columns. Integer factors only.
#pragma once
#include <string>

#include "engine/graph.h"

namespace xunit {

enum class ResizeMode { Nearest = 0, Linear = 1, Cubic = 2 };
// Where destination pixel d samples the source: HalfPixel (d + 0.5) / f - 0.5 (PyTorch
// align_corners=False, ONNX half_pixel / pytorch_half_pixel), Asymmetric d / f.
enum class ResizeCoordinates { HalfPixel = 0, Asymmetric = 1 };
// Nearest mode: how a fractional source coordinate becomes an index (ONNX nearest_mode).
enum class NearestRounding { Floor = 0, RoundPreferFloor = 1, RoundPreferCeil = 2, Ceil = 3 };

const char *resize_mode_name(int mode);
const char *resize_coordinates_name(int coordinates);
const char *nearest_rounding_name(int rounding);
// Name -> value; false for an unknown name.
bool resize_mode_from_name(const std::string &name, int *out);
bool resize_coordinates_from_name(const std::string &name, int *out);
bool nearest_rounding_from_name(const std::string &name, int *out);

// Up to 4 source indices (clamped to [0, size)) and their weights, in increasing source order.
struct ResizeTaps {
  int count = 0;
  int index[4] = {0, 0, 0, 0};
  float weight[4] = {0.f, 0.f, 0.f, 0.f};
};

// The taps of destination index `dst` of a Resize op along an axis of `size` source pixels.
// Linear: PyTorch's arithmetic (half-pixel coordinates clamped at 0; the second tap clamped at
// the end). Cubic: Keys' kernel with coefficient `cubic_a` (PyTorch and ONNX use -0.75),
// coordinates not clamped, taps clamped to the edge (ONNX exclude_outside = 0).
ResizeTaps resize_taps(const Op &op, int dst, int size);

// How many source pixels beyond floor(dst / factor) a destination pixel may read (1 or 2): the
// receptive-field growth of a resize is (radius + reach) * factor.
int resize_reach(const Op &op);

}  // namespace xunit
