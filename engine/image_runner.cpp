#include "engine/image_runner.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "common/error.h"
#include "common/memory_limit.h"
#include "common/pixel.h"
#include "engine/steps/step_kind.h"
#include "engine/stripe_executor.h"

namespace xunit {

namespace {

float load_pixel(const xunit_image &img, int x, int y, int c) {
  const char *row = static_cast<const char *>(img.data) + size_t(y) * img.row_stride;
  const size_t i = size_t(x) * img.channels + c;
  switch (img.pixel_type) {
    case XUNIT_PIXEL_U8:
      return unit_from_u8(reinterpret_cast<const uint8_t *>(row)[i]);
    case XUNIT_PIXEL_U16:
      return unit_from_u16(reinterpret_cast<const uint16_t *>(row)[i]);
    default:
      return reinterpret_cast<const float *>(row)[i];
  }
}

void store_pixel(const xunit_image &img, int x, int y, int c, float v) {
  char *row = static_cast<char *>(img.data) + size_t(y) * img.row_stride;
  const size_t i = size_t(x) * img.channels + c;
  switch (img.pixel_type) {
    case XUNIT_PIXEL_U8:
      reinterpret_cast<uint8_t *>(row)[i] = quantize_u8(v);
      break;
    case XUNIT_PIXEL_U16:
      reinterpret_cast<uint16_t *>(row)[i] = quantize_u16(v);
      break;
    default:
      reinterpret_cast<float *>(row)[i] = v;
      break;
  }
}

// Reads the stream's input pixels from the user's image: the image itself, or, for a graph that
// unshuffles its input by r, channel ch of stream pixel (x, y) is image pixel (x*r + j, y*r + i)
// of one channel. Images whose sides are not multiples of r are extended at the right and
// bottom by the unshuffle's border mode: reflection (what Real-ESRGAN's own inference pads with)
// or the edge repeated (FFDNet's); the extra output is cropped.
class InputSampler {
 public:
  InputSampler(const Graph &g, const xunit_image &img) : img_(img), r_(g.input_factor()) {
    for (const Op &op : g.ops)
      if (op.output == g.stream_input()) {
        dcr_ = unshuffle_position_major(op.type);
        border_ = unshuffle_border(op.type);
      }
  }
  float operator()(int x, int y, int ch) const {
    if (r_ == 1) return load_pixel(img_, x, y, ch);
    const int C = img_.channels;
    const int block = dcr_ ? ch / C : ch % (r_ * r_), c = dcr_ ? ch % C : ch / (r_ * r_);
    return load_pixel(img_, unshuffle_source(border_, x * r_ + block % r_, img_.width),
                      unshuffle_source(border_, y * r_ + block / r_, img_.height), c);
  }

 private:
  const xunit_image &img_;
  int r_;
  bool dcr_ = false;
  int border_ = int(BorderMode::Reflect);
};

// Restores the calling thread's OpenMP thread count (oneDNN reads it) on scope exit.
class ThreadCountScope {
 public:
  explicit ThreadCountScope(int threads) : saved_(omp_get_max_threads()) {
    omp_set_num_threads(threads);
  }
  ~ThreadCountScope() { omp_set_num_threads(saved_); }

 private:
  int saved_;
};

struct Stripe {
  int x0, x1;    // owned input columns
  int rx0, rx1;  // computed columns (owned + halo, clipped)
};

std::vector<Stripe> make_stripes(int width, int tile_width, int halo) {
  std::vector<Stripe> stripes;
  for (int x0 = 0; x0 < width; x0 += tile_width) {
    Stripe s;
    s.x0 = x0;
    s.x1 = std::min(width, x0 + tile_width);
    s.rx0 = std::max(0, s.x0 - halo);
    s.rx1 = std::min(width, s.x1 + halo);
    stripes.push_back(s);
  }
  return stripes;
}

void print_profile(const CompiledModel &model, const std::vector<double> &seconds, double total,
                   int width, int height, const StripeGeometry &geo, size_t stripes,
                   size_t arena_bytes) {
  const Plan &plan = model.plan();
  std::fprintf(stderr,
               "xunit profile: %dx%d, %zu stripe(s) of %d columns, %d rows per pass, %.1f MB "
               "scratch, %.1f ms\n",
               width, height, stripes, geo.tile_width, geo.stream.chunk_rows,
               double(arena_bytes) / (1 << 20), total * 1e3);
  double steps = 0;
  for (size_t i = 0; i < seconds.size(); ++i) {
    const Step &s = plan.steps[i];
    std::string what = std::string(step_kind_name(s.kind)) + " " + s.op->name;
    // The implementation chosen for a full chunk (oneDNN's for a conv).
    const int scale = model.graph().values[size_t(s.output)].scale;
    const std::string impl = model.program(i).implementation(
        std::min(geo.stream.chunk_rows, height) * scale, std::min(geo.tile_width, width));
    if (!impl.empty()) what += " [" + impl + "]";
    std::fprintf(stderr, "  %8.2f ms %5.1f%%  %s\n", seconds[i] * 1e3, 100 * seconds[i] / total,
                 what.c_str());
    steps += seconds[i];
  }
  std::fprintf(stderr, "  %8.2f ms %5.1f%%  (outside steps: loading, storing, buffer moves)\n",
               (total - steps) * 1e3, 100 * (total - steps) / total);
}

}  // namespace

StripeGeometry choose_geometry(const CompiledModel &model, int width, int height,
                               const RunConfig &config) {
  const Graph &g = model.graph();
  StripeGeometry geo;
  StreamShape &shape = geo.stream;
  // 32 rows per pass at the output's resolution, and at least 16k output pixels per pass:
  // enough for Winograd's 4x4 tiles and oneDNN's blocking, small enough that a chunk of a
  // 64-channel layer stays in the L3 cache. Streaming in chunks is also what makes the engine
  // fast: a whole 512x512x64 layer fits in no cache (layer-by-layer runs are 2x slower here).
  const int s = g.stream_scale();
  // Every size the run computes in int (columns and rows at each value's resolution) must fit:
  // checked here in 64 bits, before anything is sized by the image.
  int max_scale = 1;
  for (const Value &v : g.values) max_scale = std::max(max_scale, v.scale);
  XUNIT_CHECK(width >= 1 && height >= 1, "the image has a non-positive size");
  XUNIT_CHECK(int64_t(width) * max_scale <= INT_MAX && int64_t(height) * max_scale <= INT_MAX,
              "a " + std::to_string(width) + "x" + std::to_string(height) +
                  " image is too large for this model (scale " + std::to_string(max_scale) +
                  "): its sizes cannot be represented");
  const int64_t per_row = int64_t(width) * s * s;  // output pixels per input row
  const int by_width = int(std::min<int64_t>(64, (16384 + per_row - 1) / per_row));
  shape.chunk_rows = std::max(4, std::min(64, round_up(std::max(32 / s, by_width), 4)));
  if (config.chunk_rows > 0) shape.chunk_rows = config.chunk_rows;
  geo.tile_width = config.tile_size > 0 ? std::min(config.tile_size, width) : width;
  if (config.tile_size >= 0) return geo;

  const size_t budget = config.memory_budget ? config.memory_budget : kDefaultMemoryBudget;
  const int halo = g.halo();
  auto fits = [&](int tile) {
    try {
      return StripeExecutor::arena_bytes(model, height, std::min(width, tile + 2 * halo), shape) <=
             budget;
    } catch (const std::exception &) {  // beyond the machine's memory (or a shape oneDNN
      return false;                     // refuses): try narrower; a run at the narrowest
    }                                   // stripe reports the error
  };
  if (fits(width)) return geo;  // the whole width in one stripe
  // The widest stripe within the budget (memory grows linearly with the width).
  for (;;) {
    int lo = 16, hi = width;
    if (fits(lo)) {
      while (hi - lo > 16) {
        const int mid = (lo + hi) / 2;
        (fits(mid) ? lo : hi) = mid;
      }
      geo.tile_width = lo;
      return geo;
    }
    if (shape.chunk_rows <= 4) {  // the budget is too small for any stripe: use the narrowest
      geo.tile_width = 16;
      return geo;
    }
    shape.chunk_rows /= 2;
  }
}

size_t run_scratch_bytes(const CompiledModel &model, int width, int height,
                         const StripeGeometry &geo) {
  const int halo = model.graph().halo();
  int widest = 0;
  for (const Stripe &st : make_stripes(width, geo.tile_width, halo))
    widest = std::max(widest, st.rx1 - st.rx0);
  // Throws OutOfMemoryError, with a figure, for a stripe beyond the machine's memory.
  return StripeExecutor::arena_bytes(model, height, widest, geo.stream);
}

StreamSize stream_size(const Graph &g, int width, int height, const RunConfig &config) {
  const int r = g.input_factor();
  StreamSize s{int((int64_t(width) + r - 1) / r), int((int64_t(height) + r - 1) / r), config};
  if (s.config.tile_size > 0) s.config.tile_size = (s.config.tile_size + r - 1) / r;
  return s;
}

void run_image(const CompiledModel &model, const xunit_image &input, const xunit_image &output,
               const RunConfig &user_config) {
  const Graph &g = model.graph();
  const int threads = std::max(1, user_config.threads);
  // The stream's size (the input's, or the unshuffled input's: see InputSampler).
  const StreamSize stream = stream_size(g, input.width, input.height, user_config);
  const int W = stream.width, H = stream.height;
  const int scale = g.stream_scale();
  const RunConfig &config = stream.config;
  const InputSampler sample(g, input);
  ThreadCountScope thread_scope(threads);  // before any conv primitive is made for this run
  const StripeGeometry geo = choose_geometry(model, W, H, config);
  const std::vector<Stripe> stripes = make_stripes(W, geo.tile_width, g.halo());
  // The peak, known before anything is allocated: the scratch of the widest stripe (the caller
  // holds the input and the output).
  check_memory_needed(run_scratch_bytes(model, W, H, geo),
                      "a run on a " + std::to_string(W) + "x" + std::to_string(H) +
                          " image (stripes of " + std::to_string(geo.tile_width) + " columns)");

  // XUNIT_PROFILE=1 prints where the time went, per step, to stderr.
  const bool profile =
      std::getenv("XUNIT_PROFILE") && std::strcmp(std::getenv("XUNIT_PROFILE"), "0") != 0;
  std::vector<double> step_seconds(model.plan().steps.size(), 0.0);
  const auto started = std::chrono::steady_clock::now();

  ArenaPool::Handle scratch = model.scratch().take();
  Arena &arena = *scratch;
  size_t stripes_done = 0;
  for (const Stripe &st : stripes) {
    const int rw = st.rx1 - st.rx0;
    StripeExecutor exec(model, H, rw, geo.stream, arena);
    exec.set_profiling(profile);
    auto load = [&](RowStore &in, RowRange rows) {
      const RowLayout &l = in.layout();
      std::vector<float *> dst;
      for (int y = rows.lo; y < rows.hi; ++y)
        for (int p = 0; p < l.planes(); ++p) dst.push_back(in.row(p, y));
#pragma omp parallel for num_threads(threads) if (threads > 1 && rows.size() > 1)
      for (int i = 0; i < rows.size(); ++i)
        for (int p = 0; p < l.planes(); ++p) {
          float *row = dst[size_t(i) * l.planes() + p];
          for (int x = 0; x < rw; ++x)
            for (int lane = 0; lane < l.block; ++lane) {
              const int c = p * l.block + lane;
              row[size_t(x) * l.block + lane] =
                  c < l.channels ? sample(st.rx0 + x, rows.lo + i, c) : 0.f;
            }
        }
    };
    auto store = [&](const RowStore &out, RowRange rows) {
      const RowLayout &l = out.layout();
      std::vector<const float *> src;
      for (int y = rows.lo; y < rows.hi; ++y)
        for (int p = 0; p < l.planes(); ++p) src.push_back(out.row(p, y));
      // The columns this stripe owns, less what an unshuffle's padding added beyond the output.
      const int ox0 = (st.x0 - st.rx0) * scale,
                ox1 = std::min(st.x1 * scale, output.width) - st.rx0 * scale;
      const int n = std::max(0, std::min(rows.hi, output.height) - rows.lo);
#pragma omp parallel for num_threads(threads) if (threads > 1 && n > 1)
      for (int i = 0; i < n; ++i)
        for (int c = 0; c < l.channels; ++c) {
          const float *row = src[size_t(i) * l.planes() + c / l.block] + c % l.block;
          for (int x = ox0; x < ox1; ++x)
            store_pixel(output, st.x0 * scale + (x - ox0), rows.lo + i, c,
                        row[size_t(x) * l.block]);
        }
    };
    const bool finished = exec.run(threads, config.params, load, store, [&](int pass, int passes) {
      if (!config.progress) return true;
      return config.progress((float(stripes_done) + float(pass) / float(passes)) /
                             float(stripes.size()));
    });
    if (!finished) throw Cancelled();
    ++stripes_done;
    for (size_t i = 0; i < exec.step_seconds().size(); ++i)
      step_seconds[i] += exec.step_seconds()[i];
  }
  if (profile)
    print_profile(model, step_seconds,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                  W, H, geo, stripes.size(), arena.capacity());
}

}  // namespace xunit
