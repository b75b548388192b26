#include "cli/synthetic_image.h"

#include <cmath>

namespace xunit::cli {

Image synthetic_scene(int w, int h) {
  Image img;
  img.width = w;
  img.height = h;
  img.channels = 3;
  img.pixels.resize(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float u = float(x) / float(w), v = float(y) / float(h);
      float r = 0.25f + 0.5f * u, g = 0.3f + 0.4f * v, b = 0.6f - 0.3f * u * v;
      const float dx = u - 0.35f, dy = v - 0.45f;
      if (dx * dx + dy * dy < 0.05f) r = 0.9f, g = 0.75f - 0.3f * v, b = 0.2f;  // a disc
      if (u > 0.6f && u < 0.9f && v > 0.15f && v < 0.4f)
        r = g = b = ((x / 4 + y / 4) % 2) ? 0.85f : 0.1f;
      if (v > 0.7f) {  // stripes of increasing frequency
        const float f = 2.f + 30.f * u, s = 0.5f + 0.4f * std::sin(6.2831853f * f * u);
        r = 0.5f * r + 0.5f * s, g = 0.5f * g + 0.5f * s, b = 0.5f * b + 0.5f * s;
      }
      float *p = &img.pixels[(size_t(y) * w + x) * 3];
      p[0] = std::round(r * 255.f) / 255.f, p[1] = std::round(g * 255.f) / 255.f,
      p[2] = std::round(b * 255.f) / 255.f;
    }
  return img;
}

}  // namespace xunit::cli
