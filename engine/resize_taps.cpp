#include "engine/resize_taps.h"

#include <algorithm>
#include <cmath>

namespace xunit {

namespace {

constexpr const char *kModes[] = {"nearest", "linear", "cubic"};
constexpr const char *kCoordinates[] = {"half_pixel", "asymmetric"};
constexpr const char *kRoundings[] = {"floor", "round_prefer_floor", "round_prefer_ceil", "ceil"};

template <size_t N>
const char *name_of(const char *const (&names)[N], int v) {
  return v >= 0 && size_t(v) < N ? names[v] : "?";
}
template <size_t N>
bool value_of(const char *const (&names)[N], const std::string &name, int *out) {
  for (size_t i = 0; i < N; ++i)
    if (name == names[i]) {
      *out = int(i);
      return true;
    }
  return false;
}

int clamp_index(int i, int size) { return std::min(std::max(i, 0), size - 1); }

// PyTorch's cubic convolution coefficients (aten/src/ATen/native/UpSample.h).
float cubic1(float x, float a) { return ((a + 2) * x - (a + 3)) * x * x + 1; }        // |x| <= 1
float cubic2(float x, float a) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; }  // 1 < |x| < 2

}  // namespace

const char *resize_mode_name(int mode) { return name_of(kModes, mode); }
const char *resize_coordinates_name(int coordinates) { return name_of(kCoordinates, coordinates); }
const char *nearest_rounding_name(int rounding) { return name_of(kRoundings, rounding); }
bool resize_mode_from_name(const std::string &name, int *out) {
  return value_of(kModes, name, out);
}
bool resize_coordinates_from_name(const std::string &name, int *out) {
  return value_of(kCoordinates, name, out);
}
bool nearest_rounding_from_name(const std::string &name, int *out) {
  return value_of(kRoundings, name, out);
}

ResizeTaps resize_taps(const Op &op, int dst, int size) {
  const float f = float(op.factor);
  const bool half_pixel = op.coordinates == int(ResizeCoordinates::HalfPixel);
  float src = half_pixel ? (float(dst) + 0.5f) / f - 0.5f : float(dst) / f;
  ResizeTaps taps;
  switch (ResizeMode(op.resize_mode)) {
    case ResizeMode::Nearest: {
      const float lo = std::floor(src), frac = src - lo;
      float i = lo;
      switch (NearestRounding(op.nearest_rounding)) {
        case NearestRounding::Floor:
          break;
        case NearestRounding::Ceil:
          i = std::ceil(src);
          break;
        case NearestRounding::RoundPreferFloor:
          i = frac > 0.5f ? lo + 1 : lo;
          break;
        case NearestRounding::RoundPreferCeil:
          i = frac >= 0.5f ? lo + 1 : lo;
          break;
      }
      taps.count = 1;
      taps.index[0] = clamp_index(int(i), size);
      taps.weight[0] = 1.f;
      break;
    }
    case ResizeMode::Linear: {
      // A negative coordinate reads the first pixel either way (PyTorch clamps it; ONNX weights
      // the clamped tap); clamping keeps PyTorch's exact arithmetic.
      src = std::max(src, 0.f);
      const int i0 = std::min(int(src), size - 1);
      const float t = src - float(i0);
      taps.count = 2;
      taps.index[0] = i0;
      taps.index[1] = std::min(i0 + 1, size - 1);
      taps.weight[0] = 1.f - t;
      taps.weight[1] = t;
      break;
    }
    case ResizeMode::Cubic: {
      const float lo = std::floor(src), t = src - lo;
      const float a = op.cubic_a;
      taps.count = 4;
      for (int k = 0; k < 4; ++k) taps.index[k] = clamp_index(int(lo) - 1 + k, size);
      taps.weight[0] = cubic2(t + 1.f, a);
      taps.weight[1] = cubic1(t, a);
      taps.weight[2] = cubic1(1.f - t, a);
      taps.weight[3] = cubic2(2.f - t, a);
      break;
    }
  }
  return taps;
}

int resize_reach(const Op &op) { return op.resize_mode == int(ResizeMode::Cubic) ? 2 : 1; }

}  // namespace xunit
