#include "cli/ycbcr_sr.h"

#include <cmath>

#include "common/error.h"

namespace xunit::cli {

namespace {

double keys_cubic(double x) {  // a = -0.5 (PIL)
  const double a = -0.5;
  x = std::fabs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

struct Taps {
  int first = 0;
  std::vector<double> weights;
};

// PIL's coefficients for one output index of an upsampling (support 2, no antialiasing).
std::vector<Taps> taps(int in_size, int factor) {
  std::vector<Taps> out(size_t(in_size) * factor);
  for (int x = 0; x < in_size * factor; ++x) {
    const double center = (x + 0.5) / factor;
    const int lo = std::max(int(std::floor(center - 2 + 0.5)), 0);
    const int hi = std::min(int(std::floor(center + 2 + 0.5)), in_size);
    Taps &t = out[size_t(x)];
    t.first = lo;
    double sum = 0;
    for (int i = lo; i < hi; ++i) {
      t.weights.push_back(keys_cubic(i - center + 0.5));
      sum += t.weights.back();
    }
    for (double &w : t.weights) w /= sum;
  }
  return out;
}

}  // namespace

Image upsample_bicubic(const Image &img, int f) {
  XUNIT_CHECK(f >= 1 && f <= 8, "bicubic upsampling: factor must be 1 to 8");
  const int W = img.width, H = img.height, C = img.channels;
  const std::vector<Taps> tx = taps(W, f), ty = taps(H, f);
  // Horizontal pass, then vertical (as PIL).
  std::vector<double> rows(size_t(W) * f * H * C);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W * f; ++x)
      for (int c = 0; c < C; ++c) {
        double acc = 0;
        const Taps &t = tx[size_t(x)];
        for (size_t k = 0; k < t.weights.size(); ++k)
          acc += t.weights[k] * img.pixels[(size_t(y) * W + t.first + k) * C + c];
        rows[(size_t(y) * W * f + x) * C + c] = acc;
      }
  Image out{W * f, H * f, C, img.bits, std::vector<float>(size_t(W) * f * H * f * C)};
  for (int y = 0; y < H * f; ++y) {
    const Taps &t = ty[size_t(y)];
    for (int x = 0; x < W * f; ++x)
      for (int c = 0; c < C; ++c) {
        double acc = 0;
        for (size_t k = 0; k < t.weights.size(); ++k)
          acc += t.weights[k] * rows[((t.first + k) * size_t(W) * f + x) * C + c];
        out.pixels[(size_t(y) * W * f + x) * C + c] = float(acc);
      }
  }
  return out;
}

void rgb_to_ycbcr(const float *p, float *o) {
  const double r = p[0], g = p[1], b = p[2];
  o[0] = float((16 + 65.481 * r + 128.553 * g + 24.966 * b) / 255);
  o[1] = float((128 - 37.797 * r - 74.203 * g + 112.0 * b) / 255);
  o[2] = float((128 + 112.0 * r - 93.786 * g - 18.214 * b) / 255);
}

void ycbcr_to_rgb(const float *p, float *o) {
  // The inverse of rgb_to_ycbcr's matrix (MATLAB's ycbcr2rgb).
  const double y = p[0] * 255.0 - 16, cb = p[1] * 255.0 - 128, cr = p[2] * 255.0 - 128;
  o[0] = float((255.0 / 219 * y + 255.0 / 224 * 1.402 * cr) / 255);
  o[1] = float((255.0 / 219 * y - 255.0 / 224 * 1.772 * 0.114 / 0.587 * cb -
                255.0 / 224 * 1.402 * 0.299 / 0.587 * cr) /
               255);
  o[2] = float((255.0 / 219 * y + 255.0 / 224 * 1.772 * cb) / 255);
}

Image restore_ycbcr_bicubic(
    const Image &img, int factor,
    const std::function<std::vector<float>(const std::vector<float> &, int, int)> &restore_y) {
  XUNIT_CHECK(img.bits != 32,
              "the model restores the Y channel of a bicubic-upsampled image: "
              "give it an image (a .npy goes straight into the network)");
  const bool alpha = img.channels == 2 || img.channels == 4;
  const int colour = alpha ? img.channels - 1 : img.channels;
  XUNIT_CHECK(colour == 1 || colour == 3, "the image has " + std::to_string(colour) +
                                              " colour channels; the model takes gray or RGB");
  Image up = upsample_bicubic(img, factor);
  const size_t n = size_t(up.width) * up.height;
  const int C = up.channels;
  std::vector<float> y(n), ycbcr(n * 3);
  for (size_t i = 0; i < n; ++i) {
    float rgb[3];
    for (int c = 0; c < 3; ++c) {
      const float v = up.pixels[i * C + (colour == 3 ? c : 0)];
      rgb[c] = std::min(std::max(v, 0.f), 1.f);  // (bicubic overshoots; a file holds [0, 1])
    }
    rgb_to_ycbcr(rgb, &ycbcr[i * 3]);
    y[i] = ycbcr[i * 3];
  }
  const std::vector<float> restored = restore_y(y, up.width, up.height);
  XUNIT_CHECK(restored.size() == n, "internal error: the Y plane changed size");
  for (size_t i = 0; i < n; ++i) {
    ycbcr[i * 3] = restored[i];
    float rgb[3];
    ycbcr_to_rgb(&ycbcr[i * 3], rgb);
    if (colour == 3)
      for (int c = 0; c < 3; ++c) up.pixels[i * C + c] = rgb[c];
    else
      up.pixels[i * C] = (restored[i] - 16.f / 255) * (255.f / 219);  // gray: R = G = B
    if (alpha) up.pixels[i * C + colour] = std::min(std::max(up.pixels[i * C + colour], 0.f), 1.f);
  }
  return up;
}

}  // namespace xunit::cli
