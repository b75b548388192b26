// Splitting an image into tiles. Each tile owns a rectangle of input pixels; its region is that
// rectangle grown by the halo (the graph's receptive-field radius) and clipped to the image.
#pragma once
#include <vector>

#include "engine/compiled_model.h"

namespace xunit {

struct Tile {
  int x0, y0, x1, y1;      // owned input pixels [x0, x1) x [y0, y1)
  int rx0, ry0, rx1, ry1;  // region computed (owned + halo, clipped)
};

// tile_size 0 = one tile covering the image.
std::vector<Tile> make_tiles(int width, int height, int tile_size, int halo);

// The tile edge used when the caller asks for automatic tiling: large enough that the halo's
// recomputation stays small, small enough that every thread has work and the per-thread arena
// stays within a fixed budget.
int auto_tile_size(const CompiledModel &model, int width, int height, int threads);

}  // namespace xunit
