#include "engine/tiled_runner.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <new>

#include "common/error.h"
#include "engine/region_executor.h"
#include "engine/tile_schedule.h"

namespace xunit {

namespace {

float load_pixel(const xunit_image &img, int x, int y, int c) {
  const char *row = static_cast<const char *>(img.data) + size_t(y) * img.row_stride;
  const size_t i = size_t(x) * img.channels + c;
  switch (img.pixel_type) {
    case XUNIT_PIXEL_U8: return float(reinterpret_cast<const uint8_t *>(row)[i]) / 255.f;  // as x / 255 in NumPy
    case XUNIT_PIXEL_U16: return float(reinterpret_cast<const uint16_t *>(row)[i]) / 65535.f;
    default: return reinterpret_cast<const float *>(row)[i];
  }
}

void store_pixel(const xunit_image &img, int x, int y, int c, float v) {
  char *row = static_cast<char *>(img.data) + size_t(y) * img.row_stride;
  const size_t i = size_t(x) * img.channels + c;
  auto quantize = [v](float max) {
    float s = std::nearbyint((v != v ? 0.f : std::min(std::max(v, 0.f), 1.f)) * max);
    return s;
  };
  switch (img.pixel_type) {
    case XUNIT_PIXEL_U8: reinterpret_cast<uint8_t *>(row)[i] = uint8_t(quantize(255.f)); break;
    case XUNIT_PIXEL_U16: reinterpret_cast<uint16_t *>(row)[i] = uint16_t(quantize(65535.f)); break;
    default: reinterpret_cast<float *>(row)[i] = v; break;
  }
}

void fill_region_input(const xunit_image &img, const Tile &t, const BlockedTensor &in) {
  for (int y = t.ry0; y < t.ry1; ++y)
    for (int x = t.rx0; x < t.rx1; ++x)
      for (int b = 0; b < in.blocks(); ++b) {
        float *dst = in.pixel(b, y - t.ry0, x - t.rx0);
        for (int l = 0; l < in.block; ++l) {
          const int c = b * in.block + l;
          dst[l] = c < in.channels ? load_pixel(img, x, y, c) : 0.f;
        }
      }
}

void store_region_output(const BlockedTensor &out, const Tile &t, int scale, const xunit_image &img) {
  for (int y = t.y0 * scale; y < t.y1 * scale; ++y)
    for (int x = t.x0 * scale; x < t.x1 * scale; ++x)
      for (int c = 0; c < out.channels; ++c)
        store_pixel(img, x, y, c, out.data[out.offset(c, y - t.ry0 * scale, x - t.rx0 * scale)]);
}

// Restores the calling thread's OpenMP thread count (oneDNN reads it) on scope exit.
class ThreadCountScope {
 public:
  explicit ThreadCountScope(int threads) : saved_(omp_get_max_threads()) { omp_set_num_threads(threads); }
  ~ThreadCountScope() { omp_set_num_threads(saved_); }

 private:
  int saved_;
};

}  // namespace

void run_tiled(const CompiledModel &model, const xunit_image &input, const xunit_image &output,
               const RunConfig &config) {
  const Graph &g = model.graph();
  const int threads = std::max(1, config.threads);
  int tile_size = config.tile_size;
  if (tile_size < 0) tile_size = auto_tile_size(model, input.width, input.height, threads);
  const std::vector<Tile> tiles = make_tiles(input.width, input.height, tile_size, g.halo());
  const int scale = g.output_scale();
  ThreadCountScope thread_scope(threads);

  std::mutex progress_mutex;
  std::atomic<bool> stop{false};
  std::atomic<size_t> tiles_done{0};
  auto report = [&](float fraction) {
    if (!config.progress) return;
    std::lock_guard<std::mutex> lock(progress_mutex);
    if (!stop.load() && !config.progress(fraction)) stop.store(true);
  };

  if (tiles.size() == 1) {
    // One region: parallelism comes from inside the steps (oneDNN and the gate kernel).
    Arena arena;
    const Tile &t = tiles[0];
    RegionExecutor exec(model, t.ry1 - t.ry0, t.rx1 - t.rx0, arena);
    fill_region_input(input, t, exec.input());
    exec.run(threads, [&](size_t done, size_t total) {
      report(float(done) / float(total));
      return !stop.load();
    });
    if (stop.load()) throw Cancelled();
    store_region_output(exec.output(), t, scale, output);
    return;
  }

  std::exception_ptr failure;
  std::mutex failure_mutex;
  const int workers = int(std::min<size_t>(size_t(threads), tiles.size()));
#pragma omp parallel num_threads(workers)
  {
    Arena arena;  // per-thread scratch, reused across this thread's tiles
#pragma omp for schedule(dynamic, 1)
    for (long i = 0; i < long(tiles.size()); ++i) {
      if (stop.load()) continue;
      try {
        const Tile &t = tiles[size_t(i)];
        RegionExecutor exec(model, t.ry1 - t.ry0, t.rx1 - t.rx0, arena);
        fill_region_input(input, t, exec.input());
        exec.run(1, [&](size_t, size_t) { return !stop.load(); });
        if (stop.load()) continue;
        store_region_output(exec.output(), t, scale, output);
        report(float(++tiles_done) / float(tiles.size()));
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        stop.store(true);
      }
    }
  }
  if (failure) std::rethrow_exception(failure);
  if (stop.load()) throw Cancelled();
}

}  // namespace xunit
