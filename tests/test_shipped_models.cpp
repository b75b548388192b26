// Every model shipped in models/ restores: a denoiser raises the PSNR of a noisy image well
// above the noisy input's, a super-resolution model beats bilinear upscaling, in fp32 and bf16.
#include <dirent.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cli/noise.h"
#include "cli/quality.h"
#include "cli/restore.h"
#include "cli/synthetic_image.h"
#include "kernels/isa.h"
#include "xunit/xunit.h"

using xunit::cli::Image;

namespace {

std::vector<std::string> shipped() {
  std::vector<std::string> paths;
  const std::string dir = XUNIT_MODELS_DIR;
  if (DIR *d = opendir(dir.c_str())) {
    while (dirent *e = readdir(d)) {
      const std::string n = e->d_name;
      if (n.size() > 6 && n.compare(n.size() - 6, 6, ".xunit") == 0) paths.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

Image to_gray(const Image &rgb) {
  Image g = rgb;
  g.channels = 1;
  g.pixels.resize(size_t(rgb.width) * rgb.height);
  for (size_t i = 0; i < g.pixels.size(); ++i)
    g.pixels[i] = 0.299f * rgb.pixels[3 * i] + 0.587f * rgb.pixels[3 * i + 1] +
                  0.114f * rgb.pixels[3 * i + 2];
  return g;
}

// Downscaling as the SR models were trained (PIL's antialiased bicubic, a = -0.5): each output
// pixel averages the input under a cubic kernel stretched by the factor, clamped at the borders.
float cubic(float x) {
  const float a = -0.5f;
  x = std::abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

Image bicubic_down(const Image &img, int f) {
  auto pass = [f](const Image &in, bool horizontal) {
    Image out = in;
    (horizontal ? out.width : out.height) /= f;
    out.pixels.assign(size_t(out.width) * out.height * in.channels, 0.f);
    const int n = horizontal ? in.width : in.height;
    for (int y = 0; y < out.height; ++y)
      for (int x = 0; x < out.width; ++x) {
        const int o = horizontal ? x : y;
        const float center = (o + 0.5f) * f;
        float norm = 0;
        std::vector<float> acc(in.channels, 0.f);
        for (int i = int(center - 2 * f) - 1; i <= int(center + 2 * f) + 1; ++i) {
          const float w = cubic((i + 0.5f - center) / f);
          if (w == 0) continue;
          const int ii = std::clamp(i, 0, n - 1);
          const size_t at = horizontal ? (size_t(y) * in.width + ii) : (size_t(ii) * in.width + x);
          for (int c = 0; c < in.channels; ++c) acc[c] += w * in.pixels[at * in.channels + c];
          norm += w;
        }
        for (int c = 0; c < in.channels; ++c)
          out.pixels[(size_t(y) * out.width + x) * in.channels + c] = acc[c] / norm;
      }
    return out;
  };
  return pass(pass(img, true), false);
}

Image bilinear_up(const Image &img, int f) {
  Image out = img;
  out.width = img.width * f;
  out.height = img.height * f;
  out.pixels.resize(size_t(out.width) * out.height * img.channels);
  auto tap = [f](int d, int n, int *i0, int *i1, float *t) {
    const float s = std::max((d + 0.5f) / f - 0.5f, 0.f);
    *i0 = std::min(int(s), n - 1), *i1 = std::min(*i0 + 1, n - 1), *t = s - float(*i0);
  };
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      int y0, y1, x0, x1;
      float ty, tx;
      tap(y, img.height, &y0, &y1, &ty);
      tap(x, img.width, &x0, &x1, &tx);
      for (int c = 0; c < img.channels; ++c) {
        auto at = [&](int yy, int xx) {
          return img.pixels[(size_t(yy) * img.width + xx) * img.channels + c];
        };
        out.pixels[(size_t(y) * out.width + x) * img.channels + c] =
            (at(y0, x0) * (1 - tx) + at(y0, x1) * tx) * (1 - ty) +
            (at(y1, x0) * (1 - tx) + at(y1, x1) * tx) * ty;
      }
    }
  return out;
}

}  // namespace

TEST_CASE("shipped models restore" * doctest::test_suite("engine")) {
  const std::vector<std::string> models = shipped();
  REQUIRE(!models.empty());
  for (const std::string &path : models) {
    CAPTURE(path);
    xunit_model *m = nullptr;
    REQUIRE(xunit_model_load(path.c_str(), &m) == XUNIT_OK);
    xunit_model_info info;
    info.struct_size = sizeof info;
    REQUIRE(xunit_model_get_info(m, &info) == XUNIT_OK);
    CHECK(xunit_model_get_metadata(m, "title") != nullptr);
    Image clean = xunit::cli::synthetic_scene(192, 128);
    if (info.in_channels == 1) clean = to_gray(clean);
    xunit::cli::RestoreOptions o;
    o.threads = 2;
    if (info.task == XUNIT_TASK_DENOISE) {
      Image noisy = clean;
      xunit::cli::add_gaussian_noise(noisy, 25.f, 1, "test");
      const double before = xunit::cli::measure(noisy, clean).psnr;
      const Image out = xunit::cli::restore(m, noisy, o);
      const double after = xunit::cli::measure(out, clean).psnr;
      MESSAGE(path << ": sigma 25, PSNR " << before << " -> " << after << " dB");
      CHECK(after > before + 6.0);
      o.precision = XUNIT_PRECISION_BF16;
      double bf16 = 0;
      bool refused = false;
      try {
        bf16 = xunit::cli::measure(xunit::cli::restore(m, noisy, o), clean).psnr;
      } catch (const std::exception &e) {
        refused = true;  // no bf16 on this CPU: the refusal says why
        CHECK(std::string(e.what()).find("AVX-512") != std::string::npos);
      }
      // Refused exactly where the engine has no bf16 path (below AVX-512, or forced below it).
      CHECK(refused == (xunit::kernels::active_isa() < xunit::kernels::Isa::Avx512));
      if (!refused) CHECK(std::abs(bf16 - after) < 0.05);
    } else {
      const Image small = bicubic_down(clean, info.scale);
      const double baseline = xunit::cli::measure(bilinear_up(small, info.scale), clean).psnr;
      const double sr = xunit::cli::measure(xunit::cli::restore(m, small, o), clean).psnr;
      MESSAGE(path << ": x" << info.scale << ", bilinear " << baseline << " dB, model " << sr
                   << " dB");
      CHECK(sr > baseline + 0.5);
    }
    xunit_model_free(m);
  }
}
