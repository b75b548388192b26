#include "cli/codecs/orientation.h"

#include <utility>
#include <vector>

namespace xunit::cli {

void apply_orientation(Image &image, int orientation) {
  if (orientation < 2 || orientation > 8) return;
  const int w = image.width, h = image.height, c = image.channels;
  const bool swap = orientation >= 5;
  const int out_w = swap ? h : w, out_h = swap ? w : h;
  std::vector<float> out(image.pixels.size());
  for (int y = 0; y < out_h; ++y)
    for (int x = 0; x < out_w; ++x) {
      // The stored pixel (sx, sy) shown at (x, y).
      int sx = x, sy = y;
      switch (orientation) {
        case 2:
          sx = w - 1 - x;
          break;
        case 3:
          sx = w - 1 - x, sy = h - 1 - y;
          break;
        case 4:
          sy = h - 1 - y;
          break;
        case 5:
          sx = y, sy = x;
          break;
        case 6:
          sx = y, sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y, sy = h - 1 - x;
          break;
        default:  // 8
          sx = w - 1 - y, sy = x;
          break;
      }
      const float *src = &image.pixels[(size_t(sy) * w + sx) * c];
      float *dst = &out[(size_t(y) * out_w + x) * c];
      for (int k = 0; k < c; ++k) dst[k] = src[k];
    }
  image.pixels = std::move(out);
  image.width = out_w;
  image.height = out_h;
}

}  // namespace xunit::cli
