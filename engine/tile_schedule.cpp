#include "engine/tile_schedule.h"

#include <algorithm>
#include <cmath>


namespace xunit {

std::vector<Tile> make_tiles(int width, int height, int tile_size, int halo) {
  std::vector<Tile> tiles;
  const int tw = tile_size <= 0 ? width : std::min(tile_size, width);
  const int th = tile_size <= 0 ? height : std::min(tile_size, height);
  for (int y0 = 0; y0 < height; y0 += th)
    for (int x0 = 0; x0 < width; x0 += tw) {
      Tile t;
      t.x0 = x0;
      t.y0 = y0;
      t.x1 = std::min(width, x0 + tw);
      t.y1 = std::min(height, y0 + th);
      t.rx0 = std::max(0, t.x0 - halo);
      t.ry0 = std::max(0, t.y0 - halo);
      t.rx1 = std::min(width, t.x1 + halo);
      t.ry1 = std::min(height, t.y1 + halo);
      tiles.push_back(t);
    }
  return tiles;
}

int auto_tile_size(const CompiledModel &model, int width, int height, int threads) {
  // Per-thread arena budget: keeps an 8192x8192 run with a few threads far below 300 MB of
  // scratch on top of the caller's buffers.
  constexpr double kArenaBudget = 48.0 * 1024 * 1024;
  const int halo = model.graph().halo();
  double floats_per_pixel = 0;
  for (size_t floats : model.slot_floats(1, 1)) floats_per_pixel += double(floats);
  const double bytes_per_pixel = floats_per_pixel * sizeof(float);
  int by_memory = int(std::sqrt(kArenaBudget / bytes_per_pixel)) - 2 * halo;
  by_memory = std::max(by_memory, 16);
  // Enough tiles for every thread: split the image into at least `threads` pieces.
  int tile = by_memory;
  const long pixels = long(width) * height;
  if (threads > 1) {
    int per_thread = int(std::ceil(std::sqrt(double(pixels) / threads)));
    tile = std::min(tile, std::max(per_thread, 16));
  }
  if (tile >= width && tile >= height && threads <= 1) return 0;
  return tile;
}

}  // namespace xunit
