// xunit-imgtool: a procedural test image for demos (shipping no photographs of anyone's).
//   xunit-imgtool synth W H OUT.png
// Noisy versions and PSNR: xunit-run --add-noise / --psnr.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/image_io.h"

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

}  // namespace

int main(int argc, char **argv) {
  if (argc != 5 || std::string(argv[1]) != "synth") {
    std::fputs("usage: xunit-imgtool synth W H OUT.png\n", stderr);
    return 2;
  }
  const int w = std::atoi(argv[2]), h = std::atoi(argv[3]);
  if (w < 1 || h < 1 || w > 16384 || h > 16384) {
    std::fputs("xunit-imgtool: W and H must be in [1, 16384]\n", stderr);
    return 2;
  }
  try {
    xunit::cli::save_image(argv[4], synth(w, h), true);
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "xunit-imgtool: %s\n", e.what());
    return 1;
  }
}
