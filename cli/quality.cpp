#include "cli/quality.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
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
  // A gray image against a color one: as if the gray one were saved as RGB.
  XUNIT_CHECK(
      ca == cb || (std::min(ca, cb) == 1 && std::max(ca, cb) == 3),
      "reference has " + std::to_string(cb) + " colour channels, the image " + std::to_string(ca));
  const int cn = std::max(ca, cb);
  Quality q;
  double se = 0;
  const size_t pixels = size_t(a.width) * a.height;
  for (size_t i = 0; i < pixels; ++i)
    for (int c = 0; c < cn; ++c) {
      auto v = [](float x) { return std::min(1.0, std::max(0.0, double(x))); };
      const double d = v(a.pixels[i * size_t(a.channels) + (ca == 1 ? 0 : c)]) -
                       v(b.pixels[i * size_t(b.channels) + (cb == 1 ? 0 : c)]);
      se += d * d;
    }
  const double mse = se / double(pixels * size_t(cn));
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

ReferenceFolder::ReferenceFolder(const std::string &dir) : dir_(dir) {
  DIR *d = opendir(dir.c_str());
  if (!d) throw Error("--psnr: cannot open folder '" + dir + "': " + std::strerror(errno));
  while (dirent *e = readdir(d))
    if (e->d_name[0] != '.' && is_supported_input(e->d_name)) names_.push_back(e->d_name);
  closedir(d);
  std::sort(names_.begin(), names_.end());
}

std::string ReferenceFolder::find(const std::string &name) const {
  if (std::binary_search(names_.begin(), names_.end(), name)) return dir_ + "/" + name;
  auto stem = [](const std::string &n) {
    const size_t dot = n.find_last_of('.');
    return dot == std::string::npos || dot == 0 ? n : n.substr(0, dot);
  };
  std::vector<std::string> same;
  for (const std::string &n : names_)
    if (stem(n) == stem(name)) same.push_back(n);
  XUNIT_CHECK(!same.empty(), "no reference for " + name + " in " + dir_ + " (no " + stem(name) +
                                 ".* image there)");
  if (same.size() > 1) {
    std::string list;
    for (size_t i = 0; i < same.size(); ++i)
      list += (i ? i + 1 == same.size() ? " and " : ", " : "") + same[i];
    throw Error("ambiguous reference for " + name + " in " + dir_ + ": " + list +
                " (keep one, or name it " + name + ")");
  }
  return dir_ + "/" + same[0];
}

}  // namespace xunit::cli
