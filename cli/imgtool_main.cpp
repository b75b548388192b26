// xunit-imgtool: small image utilities for demos and tests.
//   xunit-imgtool synth W H CLEAN.png [NOISY.png --sigma S --seed N]   procedural test image (+ noise)
//   xunit-imgtool psnr A B                                             PSNR of B against A (dB)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "cli/image_io.h"
#include "common/error.h"

namespace {

using xunit::cli::Image;

// A deterministic scene with smooth shading, hard edges and fine texture: what a denoiser must
// keep apart from noise.
Image synth(int w, int h) {
  Image img;
  img.width = w;
  img.height = h;
  img.channels = 3;
  img.pixels.resize(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float u = float(x) / float(w), v = float(y) / float(h);
      float r = 0.25f + 0.5f * u, g = 0.3f + 0.4f * v, b = 0.6f - 0.3f * u * v;
      float dx = u - 0.35f, dy = v - 0.45f;
      if (dx * dx + dy * dy < 0.05f) r = 0.9f, g = 0.75f - 0.3f * v, b = 0.2f;  // disc
      if (u > 0.6f && u < 0.9f && v > 0.15f && v < 0.4f) r = g = b = ((x / 4 + y / 4) % 2) ? 0.85f : 0.1f;
      if (v > 0.7f) {  // stripes of increasing frequency
        float f = 2.f + 30.f * u;
        float s = 0.5f + 0.4f * std::sin(6.2831853f * f * u);
        r = 0.5f * r + 0.5f * s, g = 0.5f * g + 0.5f * s, b = 0.5f * b + 0.5f * s;
      }
      float *p = &img.pixels[(size_t(y) * w + x) * 3];
      p[0] = r, p[1] = g, p[2] = b;
    }
  return img;
}

int usage() {
  std::fputs("usage: xunit-imgtool synth W H CLEAN.png [NOISY.png --sigma S --seed N]\n"
             "       xunit-imgtool psnr REFERENCE.png IMAGE.png\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char **argv) {
  try {
    if (argc >= 5 && std::string(argv[1]) == "synth") {
      int w = std::atoi(argv[2]), h = std::atoi(argv[3]);
      if (w < 1 || h < 1 || w > 16384 || h > 16384) return usage();
      Image clean = synth(w, h);
      xunit::cli::save_image(argv[4], clean, true);
      if (argc >= 6) {
        float sigma = 25.f;
        unsigned seed = 0;
        for (int i = 6; i + 1 < argc; i += 2) {
          std::string a = argv[i];
          if (a == "--sigma") sigma = std::strtof(argv[i + 1], nullptr);
          else if (a == "--seed") seed = unsigned(std::strtoul(argv[i + 1], nullptr, 10));
          else return usage();
        }
        std::mt19937 rng(seed);
        std::normal_distribution<float> n(0.f, sigma / 255.f);
        Image noisy = clean;
        for (float &p : noisy.pixels) p += n(rng);
        xunit::cli::save_image(argv[5], noisy, true);
      }
      return 0;
    }
    if (argc == 4 && std::string(argv[1]) == "psnr") {
      Image a = xunit::cli::load_image(argv[2]), b = xunit::cli::load_image(argv[3]);
      xunit::check(a.width == b.width && a.height == b.height && a.channels == b.channels,
                   "images differ in size or channels");
      double se = 0;
      for (size_t i = 0; i < a.pixels.size(); ++i) se += double(a.pixels[i] - b.pixels[i]) * (a.pixels[i] - b.pixels[i]);
      double mse = se / double(a.pixels.size());
      std::printf("%.2f\n", mse > 0 ? 10.0 * std::log10(1.0 / mse) : 99.0);
      return 0;
    }
    return usage();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "xunit-imgtool: %s\n", e.what());
    return 1;
  }
}
