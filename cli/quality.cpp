#include "cli/quality.h"

#include <cmath>
#include <limits>
#include <vector>

#include "common/error.h"

namespace xunit::cli {

namespace {

int colour_channels(const Image &img) {
  return img.bits != 32 && (img.channels == 2 || img.channels == 4) ? img.channels - 1
                                                                    : img.channels;
}

// Luma in [0, 1] (BT.601 weights) for color, the value for gray; clamped like a saved image.
std::vector<double> luma(const Image &img) {
  const int c = colour_channels(img);
  std::vector<double> y(size_t(img.width) * img.height);
  for (size_t i = 0; i < y.size(); ++i) {
    const float *p = &img.pixels[i * size_t(img.channels)];
    auto v = [](float x) { return std::min(1.0, std::max(0.0, double(x))); };
    y[i] = c >= 3 ? 0.299 * v(p[0]) + 0.587 * v(p[1]) + 0.114 * v(p[2]) : v(p[0]);
  }
  return y;
}

// Separable Gaussian blur (11 taps, sigma 1.5), zero-padded and renormalized at the borders.
std::vector<double> blur(const std::vector<double> &in, int w, int h) {
  double k[11], sum = 0;
  for (int i = 0; i < 11; ++i) sum += k[i] = std::exp(-(i - 5) * (i - 5) / (2 * 1.5 * 1.5));
  for (double &v : k) v /= sum;
  std::vector<double> tmp(in.size()), out(in.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double acc = 0, norm = 0;
      for (int i = -5; i <= 5; ++i)
        if (x + i >= 0 && x + i < w) acc += k[i + 5] * in[size_t(y) * w + x + i], norm += k[i + 5];
      tmp[size_t(y) * w + x] = acc / norm;
    }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double acc = 0, norm = 0;
      for (int i = -5; i <= 5; ++i)
        if (y + i >= 0 && y + i < h) acc += k[i + 5] * tmp[size_t(y + i) * w + x], norm += k[i + 5];
      out[size_t(y) * w + x] = acc / norm;
    }
  return out;
}

}  // namespace

Quality measure(const Image &a, const Image &b) {
  XUNIT_CHECK(a.width == b.width && a.height == b.height,
              "reference is " + std::to_string(b.width) + "x" + std::to_string(b.height) +
                  ", the image " + std::to_string(a.width) + "x" + std::to_string(a.height));
  const int ca = colour_channels(a), cb = colour_channels(b);
  XUNIT_CHECK(ca == cb, "reference has " + std::to_string(cb) + " colour channels, the image " +
                            std::to_string(ca));
  Quality q;
  double se = 0;
  const size_t pixels = size_t(a.width) * a.height;
  for (size_t i = 0; i < pixels; ++i)
    for (int c = 0; c < ca; ++c) {
      auto v = [](float x) { return std::min(1.0, std::max(0.0, double(x))); };
      const double d =
          v(a.pixels[i * size_t(a.channels) + c]) - v(b.pixels[i * size_t(b.channels) + c]);
      se += d * d;
    }
  const double mse = se / double(pixels * size_t(ca));
  q.psnr = mse == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(1 / mse);

  const int w = a.width, h = a.height;
  const std::vector<double> x = luma(a), y = luma(b);
  std::vector<double> xx(x.size()), yy(x.size()), xy(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    xx[i] = x[i] * x[i], yy[i] = y[i] * y[i], xy[i] = x[i] * y[i];
  const std::vector<double> mx = blur(x, w, h), my = blur(y, w, h), sxx = blur(xx, w, h),
                            syy = blur(yy, w, h), sxy = blur(xy, w, h);
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  double total = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i],
                 cov = sxy[i] - mx[i] * my[i];
    total += ((2 * mx[i] * my[i] + c1) * (2 * cov + c2)) /
             ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2));
  }
  q.ssim = total / double(x.size());
  return q;
}

}  // namespace xunit::cli
