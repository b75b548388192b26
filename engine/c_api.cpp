// The C API: argument checking, error translation and lifetimes around the C++ engine.
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_io.h"
#include "common/printable.h"
#include "engine/compiled_model.h"
#include "engine/image_runner.h"
#include "engine/model_file.h"
#include "engine/noise_estimate.h"
#include "xunit/xunit.h"

static_assert(
    XUNIT_VERSION_NUMBER == XUNIT_PROJECT_VERSION_NUMBER,
    "include/xunit/xunit.h's XUNIT_VERSION_* differ from project(VERSION) in CMakeLists.txt");
static_assert(sizeof(xunit_run_options) <= 4096 && sizeof(xunit_model_info) <= 4096,
              "kMaxStructSize below must stay above every versioned struct");

struct xunit_model {
  std::unique_ptr<xunit::CompiledModel> compiled;  // float32
  std::string family;
  // The other precisions, compiled on first use (a run may ask for any).
  mutable std::mutex mutex;
  mutable std::unique_ptr<xunit::CompiledModel> bf16, automatic;

  const xunit::CompiledModel &for_precision(int32_t precision) const {
    if (precision == XUNIT_PRECISION_FP32) return *compiled;
    std::lock_guard<std::mutex> lock(mutex);
    auto &slot = precision == XUNIT_PRECISION_BF16 ? bf16 : automatic;
    if (!slot) {
      xunit::CompileOptions options;
      options.precision =
          precision == XUNIT_PRECISION_BF16 ? xunit::Precision::Bf16 : xunit::Precision::Auto;
      slot = std::make_unique<xunit::CompiledModel>(*compiled, options);
    }
    return *slot;
  }
};

namespace {

thread_local std::string g_last_error;

// Messages carry paths and names from files: escaped here, once, for every caller that prints
// xunit_last_error() (common/printable.h).
xunit_status fail(xunit_status status, const std::string &message) {
  g_last_error = xunit::printable(message);
  return status;
}

// Maps an exception from the engine to a status, keeping its message.
template <typename F>
xunit_status guarded(xunit_status error_status, F &&body) {
  try {
    g_last_error.clear();
    return body();
  } catch (const xunit::Cancelled &) {
    return fail(XUNIT_ERROR_CANCELLED, "cancelled by the progress callback");
  } catch (const xunit::UnsupportedError &e) {
    return fail(XUNIT_ERROR_UNSUPPORTED, e.what());
  } catch (const std::bad_alloc &) {
    return fail(XUNIT_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const xunit::OutOfMemoryError &e) {
    return fail(XUNIT_ERROR_OUT_OF_MEMORY, e.what());
  } catch (const xunit::Error &e) {
    return fail(error_status, e.what());
  } catch (const std::exception &e) {
    return fail(XUNIT_ERROR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(XUNIT_ERROR_INTERNAL, "internal error");
  }
}

xunit_status finish_load(xunit::Graph graph, std::shared_ptr<const void> storage,
                         xunit_model **out) {
  auto model = std::make_unique<xunit_model>();
  auto it = graph.metadata.find("family");
  model->family = it == graph.metadata.end() ? "unknown" : it->second;
  model->compiled = std::make_unique<xunit::CompiledModel>(std::move(graph), std::move(storage));
  *out = model.release();
  return XUNIT_OK;
}

size_t pixel_size(int32_t t) { return t == XUNIT_PIXEL_U8 ? 1 : t == XUNIT_PIXEL_U16 ? 2 : 4; }

std::string check_image(const xunit_image *img, const char *what) {
  std::string w = what;
  if (!img) return w + " image is NULL";
  if (!img->data) return w + " image has no data";
  if (img->width <= 0 || img->height <= 0) return w + " image has a non-positive size";
  if (img->channels <= 0 || img->channels > 4096) return w + " image has a bad channel count";
  if (img->pixel_type != XUNIT_PIXEL_U8 && img->pixel_type != XUNIT_PIXEL_U16 &&
      img->pixel_type != XUNIT_PIXEL_F32)
    return w + " image has an unknown pixel type";
  size_t row = 0;
  if (!xunit::checked_mul(size_t(img->width), size_t(img->channels), &row) ||
      !xunit::checked_mul(row, pixel_size(img->pixel_type), &row) || img->row_stride < row)
    return w + " image row stride is smaller than a row";
  if (img->row_stride % pixel_size(img->pixel_type) != 0)
    return w + " image row stride is not a multiple of the pixel size";
  size_t total = 0;
  if (!xunit::checked_mul(img->row_stride, size_t(img->height), &total) ||
      total > size_t(PTRDIFF_MAX))
    return w + " image is larger than the address space (row stride times height)";
  return "";
}

// The versioned structs (see the top of xunit.h): the largest struct_size taken as plausible.
constexpr uint32_t kMaxStructSize = 4096;

std::string check_struct_size(uint32_t struct_size, const char *what) {
  if (struct_size < sizeof(uint32_t) || struct_size > kMaxStructSize)
    return std::string(what) + " struct_size is " + std::to_string(struct_size) +
           " (set it to sizeof(" + what + "))";
  return "";
}

// Whether the caller's struct of `struct_size` bytes holds the whole field at offset/size.
bool has_field(uint32_t struct_size, size_t offset, size_t size) {
  return offset + size <= struct_size;
}
#define XUNIT_HAS_FIELD(ptr, type, field) \
  has_field((ptr)->struct_size, offsetof(type, field), sizeof((ptr)->field))

}  // namespace

extern "C" {

#define XUNIT_STRINGIFY_(x) #x
#define XUNIT_STRINGIFY(x) XUNIT_STRINGIFY_(x)
const char *xunit_version(void) {
  return XUNIT_STRINGIFY(XUNIT_VERSION_MAJOR) "." XUNIT_STRINGIFY(
      XUNIT_VERSION_MINOR) "." XUNIT_STRINGIFY(XUNIT_VERSION_PATCH);
}

uint32_t xunit_version_number(void) { return XUNIT_VERSION_NUMBER; }

const char *xunit_last_error(void) { return g_last_error.c_str(); }

const char *xunit_status_string(xunit_status status) {
  switch (status) {
    case XUNIT_OK:
      return "ok";
    case XUNIT_ERROR_INVALID_ARGUMENT:
      return "invalid argument";
    case XUNIT_ERROR_IO:
      return "i/o error";
    case XUNIT_ERROR_INVALID_MODEL:
      return "invalid model";
    case XUNIT_ERROR_UNSUPPORTED:
      return "unsupported";
    case XUNIT_ERROR_OUT_OF_MEMORY:
      return "out of memory";
    case XUNIT_ERROR_CANCELLED:
      return "cancelled";
    case XUNIT_ERROR_INTERNAL:
      return "internal error";
  }
  return "unknown status";
}

xunit_status xunit_model_load(const char *path, xunit_model **out_model) {
  if (out_model) *out_model = nullptr;
  if (!path || !out_model)
    return fail(XUNIT_ERROR_INVALID_ARGUMENT, "path and out_model must not be NULL");
  // Read, not mapped: a file truncated while it is loaded or later (SIGBUS on a mapping) or
  // rewritten cannot reach the parser or a run; the model owns its weights and the file's bytes
  // are released after loading.
  std::vector<uint8_t> bytes;
  xunit_status st = guarded(XUNIT_ERROR_IO, [&] {
    bytes = xunit::read_file(path);
    return XUNIT_OK;
  });
  if (st != XUNIT_OK) return st;
  return guarded(XUNIT_ERROR_INVALID_MODEL, [&] {
    try {
      xunit::Graph graph = xunit::parse_model(bytes.data(), bytes.size());
      xunit::own_weights(graph);
      return finish_load(std::move(graph), nullptr, out_model);
    } catch (const xunit::Error &e) {
      throw xunit::Error(std::string(path) + ": " + e.what());
    }
  });
}

xunit_status xunit_model_load_memory(const void *data, size_t size, xunit_model **out_model) {
  if (out_model) *out_model = nullptr;
  if (!data || !out_model)
    return fail(XUNIT_ERROR_INVALID_ARGUMENT, "data and out_model must not be NULL");
  return guarded(XUNIT_ERROR_INVALID_MODEL, [&] {
    // Copy into 64-byte aligned memory: parse_model reads fp32 weights in place, aligned.
    std::shared_ptr<uint8_t> copy(
        static_cast<uint8_t *>(std::aligned_alloc(64, (size + 63) / 64 * 64 + 64)),
        [](uint8_t *p) { std::free(p); });
    if (!copy) throw std::bad_alloc();
    std::memcpy(copy.get(), data, size);
    xunit::Graph graph = xunit::parse_model(copy.get(), size);
    xunit::own_weights(graph);  // the weights only; the copy of the file is released
    return finish_load(std::move(graph), nullptr, out_model);
  });
}

void xunit_model_free(xunit_model *model) { delete model; }

xunit_status xunit_model_get_info(const xunit_model *model, xunit_model_info *info) {
  if (!model || !info) return fail(XUNIT_ERROR_INVALID_ARGUMENT, "model and info must not be NULL");
  std::string problem = check_struct_size(info->struct_size, "xunit_model_info");
  if (!problem.empty()) return fail(XUNIT_ERROR_INVALID_ARGUMENT, problem);
  g_last_error.clear();
  const xunit::Graph &g = model->compiled->graph();
  xunit_model_info full;
  full.struct_size = info->struct_size;
  full.scale = g.output_scale();
  full.task = full.scale > 1 ? XUNIT_TASK_SUPER_RESOLUTION : XUNIT_TASK_DENOISE;
  full.in_channels = g.in_channels();
  full.out_channels = g.out_channels();
  full.receptive_field = g.receptive_radius();
  full.parameters = int64_t(g.parameter_count());
  full.family = model->family.c_str();
  full.noise_level_input = g.noise_level_input() ? 1 : 0;
  // Only the fields that lie within the caller's struct; a newer caller's extra bytes are zeroed.
#define XUNIT_COPY(field) \
  if (XUNIT_HAS_FIELD(info, xunit_model_info, field)) info->field = full.field
  XUNIT_COPY(task);
  XUNIT_COPY(scale);
  XUNIT_COPY(in_channels);
  XUNIT_COPY(out_channels);
  XUNIT_COPY(receptive_field);
  XUNIT_COPY(parameters);
  XUNIT_COPY(family);
  XUNIT_COPY(noise_level_input);
#undef XUNIT_COPY
  if (info->struct_size > sizeof(xunit_model_info))
    std::memset(reinterpret_cast<char *>(info) + sizeof(xunit_model_info), 0,
                info->struct_size - sizeof(xunit_model_info));
  return XUNIT_OK;
}

const char *xunit_model_get_metadata(const xunit_model *model, const char *key) {
  if (!model || !key) return nullptr;
  const auto &md = model->compiled->graph().metadata;
  auto it = md.find(key);
  return it == md.end() ? nullptr : it->second.c_str();
}

void xunit_run_options_init_sized(xunit_run_options *options, size_t size) {
  if (!options || size < sizeof(uint32_t)) return;
  xunit_run_options defaults;
  defaults.struct_size = uint32_t(std::min<size_t>(size, UINT32_MAX));
  defaults.threads = 0;
  defaults.tile_size = -1;
  defaults.precision = XUNIT_PRECISION_FP32;
  defaults.progress = nullptr;
  defaults.progress_user_data = nullptr;
  defaults.noise_level_mode = XUNIT_NOISE_LEVEL_AUTO;
  defaults.noise_level = 0.f;
  // Field by field within the caller's size: a struct that ends mid-field keeps those bytes.
#define XUNIT_INIT(field)                                                           \
  if (has_field(uint32_t(defaults.struct_size), offsetof(xunit_run_options, field), \
                sizeof(defaults.field)))                                            \
  options->field = defaults.field
  XUNIT_INIT(struct_size);
  XUNIT_INIT(threads);
  XUNIT_INIT(tile_size);
  XUNIT_INIT(precision);
  XUNIT_INIT(progress);
  XUNIT_INIT(progress_user_data);
  XUNIT_INIT(noise_level_mode);
  XUNIT_INIT(noise_level);
#undef XUNIT_INIT
}

// The function of that name in 0.2.0, for programs built against it: their struct ended before
// noise_level_mode (32 bytes), and they cannot call the macro that replaced it in the header.
void(xunit_run_options_init)(xunit_run_options *options) {
  xunit_run_options_init_sized(options, offsetof(xunit_run_options, noise_level_mode));
}

namespace {

// The caller's options over the defaults, checked; XUNIT_OK or a failure already reported.
xunit_status read_run_options(const xunit_run_options *options, xunit_run_options *out) {
  xunit_run_options &opts = *out;
  xunit_run_options_init(&opts);
  if (options) {
    std::string problem = check_struct_size(options->struct_size, "xunit_run_options");
    if (!problem.empty()) return fail(XUNIT_ERROR_INVALID_ARGUMENT, problem);
      // Only the fields within the caller's struct; the others keep their defaults. A newer
      // caller's fields beyond ours must be zero (their defaults): we could not honour others.
#define XUNIT_READ(field) \
  if (XUNIT_HAS_FIELD(options, xunit_run_options, field)) opts.field = options->field
    XUNIT_READ(threads);
    XUNIT_READ(tile_size);
    XUNIT_READ(precision);
    XUNIT_READ(progress);
    XUNIT_READ(progress_user_data);
    XUNIT_READ(noise_level_mode);
    XUNIT_READ(noise_level);
#undef XUNIT_READ
    const char *bytes = reinterpret_cast<const char *>(options);
    for (size_t i = sizeof(xunit_run_options); i < options->struct_size; ++i)
      if (bytes[i] != 0)
        return fail(XUNIT_ERROR_INVALID_ARGUMENT,
                    "xunit_run_options has non-zero fields this library (" +
                        std::string(xunit_version()) + ") does not know");
  }
  if (opts.threads < 0 || opts.threads > 4096)
    return fail(XUNIT_ERROR_INVALID_ARGUMENT, "threads must be 0 (all cores) or positive");
  if (opts.tile_size < -1)
    return fail(XUNIT_ERROR_INVALID_ARGUMENT, "tile_size must be -1, 0 or positive");
  if (opts.precision != XUNIT_PRECISION_FP32 && opts.precision != XUNIT_PRECISION_BF16 &&
      opts.precision != XUNIT_PRECISION_AUTO)
    return fail(XUNIT_ERROR_INVALID_ARGUMENT, "unknown precision");
  if (opts.noise_level_mode != XUNIT_NOISE_LEVEL_AUTO &&
      opts.noise_level_mode != XUNIT_NOISE_LEVEL_FIXED)
    return fail(XUNIT_ERROR_INVALID_ARGUMENT,
                "unknown noise_level_mode " + std::to_string(opts.noise_level_mode) +
                    " (XUNIT_NOISE_LEVEL_AUTO or XUNIT_NOISE_LEVEL_FIXED)");
  if (opts.noise_level_mode == XUNIT_NOISE_LEVEL_FIXED &&
      !(opts.noise_level >= 0.f && opts.noise_level <= 255.f)) {  // NaN included
    char level[32];
    std::snprintf(level, sizeof level, "%g", double(opts.noise_level));
    return fail(XUNIT_ERROR_INVALID_ARGUMENT,
                std::string("noise_level must be 0 to 255 (8-bit levels), not ") + level);
  }
  return XUNIT_OK;
}

// A fixed noise level is for a model that takes one; refused for the others, which would ignore
// it. (AUTO asks for nothing: a blind model runs as it is.)
xunit_status check_noise_level_mode(const xunit::Graph &g, const xunit_run_options &opts) {
  if (opts.noise_level_mode == XUNIT_NOISE_LEVEL_FIXED && !g.noise_level_input())
    return fail(XUNIT_ERROR_INVALID_ARGUMENT,
                "a fixed noise level was given, but the model has no noise-level input");
  return XUNIT_OK;
}

// The run's noise level for a model that takes one: the caller's (FIXED) or the input's own,
// estimated (AUTO). XUNIT_OK or a failure already reported.
xunit_status noise_level_of(const xunit::Graph &g, const xunit_run_options &opts,
                            const xunit_image *input, xunit::RunParams *params) {
  if (const xunit_status st = check_noise_level_mode(g, opts); st != XUNIT_OK) return st;
  if (!g.noise_level_input()) return XUNIT_OK;
  if (opts.noise_level_mode == XUNIT_NOISE_LEVEL_FIXED) {
    params->noise_level = opts.noise_level;
    return XUNIT_OK;
  }
  return xunit_estimate_noise_level(input, &params->noise_level);
}

xunit::RunConfig run_config(const xunit_run_options &opts) {
  xunit::RunConfig config;
  config.threads = opts.threads > 0 ? opts.threads : omp_get_num_procs();
  config.tile_size = opts.tile_size;
  // Tuning knob for benchmarks (documented in docs/engine.md): input rows per streaming pass.
  if (const char *rows = std::getenv("XUNIT_CHUNK_ROWS"))
    config.chunk_rows = std::max(0, std::atoi(rows));
  return config;
}

}  // namespace

xunit_status xunit_run_memory_needed(const xunit_model *model, const xunit_run_options *options,
                                     int32_t width, int32_t height, uint64_t *out_bytes) {
  if (!model || !out_bytes)
    return fail(XUNIT_ERROR_INVALID_ARGUMENT, "model and out_bytes must not be NULL");
  xunit_run_options opts;
  if (const xunit_status st = read_run_options(options, &opts); st != XUNIT_OK) return st;
  if (width < 1 || height < 1)
    return fail(XUNIT_ERROR_INVALID_ARGUMENT, "width and height must be positive");
  // The options xunit_run refuses are refused here too.
  if (const xunit_status st = check_noise_level_mode(model->compiled->graph(), opts);
      st != XUNIT_OK)
    return st;
  return guarded(XUNIT_ERROR_INVALID_ARGUMENT, [&] {
    const xunit::CompiledModel &m = model->for_precision(opts.precision);
    // The run's own figure: of the stream (an input unshuffle's smaller image) it works on.
    const xunit::StreamSize s = xunit::stream_size(m.graph(), width, height, run_config(opts));
    try {
      *out_bytes = xunit::run_scratch_bytes(m, s.width, s.height,
                                            xunit::choose_geometry(m, s.width, s.height, s.config));
    } catch (const xunit::OutOfMemoryError &) {
      *out_bytes = UINT64_MAX;  // beyond this machine's memory
    }
    return XUNIT_OK;
  });
}

xunit_status xunit_run(const xunit_model *model, const xunit_run_options *options,
                       const xunit_image *input, xunit_image *output) {
  if (!model) return fail(XUNIT_ERROR_INVALID_ARGUMENT, "model must not be NULL");
  xunit_run_options opts;
  if (const xunit_status st = read_run_options(options, &opts); st != XUNIT_OK) return st;
  for (auto [img, what] :
       {std::pair<const xunit_image *, const char *>{input, "input"}, {output, "output"}}) {
    std::string problem = check_image(img, what);
    if (!problem.empty()) return fail(XUNIT_ERROR_INVALID_ARGUMENT, problem);
  }
  const xunit::Graph &g = model->compiled->graph();
  const int scale = g.output_scale();
  if (input->channels != g.in_channels())
    return fail(XUNIT_ERROR_INVALID_ARGUMENT, "input has " + std::to_string(input->channels) +
                                                  " channels; the model expects " +
                                                  std::to_string(g.in_channels()));
  if (output->channels != g.out_channels())
    return fail(XUNIT_ERROR_INVALID_ARGUMENT, "output has " + std::to_string(output->channels) +
                                                  " channels; the model produces " +
                                                  std::to_string(g.out_channels()));
  // In 64 bits: an output size no int32 can hold cannot be described by the caller.
  const int64_t out_w = int64_t(input->width) * scale, out_h = int64_t(input->height) * scale;
  if (out_w > INT32_MAX || out_h > INT32_MAX)
    return fail(XUNIT_ERROR_INVALID_ARGUMENT,
                "the output would be " + std::to_string(out_w) + "x" + std::to_string(out_h) +
                    " (input size times scale " + std::to_string(scale) +
                    "): that size cannot be represented");
  if (int64_t(output->width) != out_w || int64_t(output->height) != out_h)
    return fail(XUNIT_ERROR_INVALID_ARGUMENT,
                "output must be " + std::to_string(out_w) + "x" + std::to_string(out_h) +
                    " (input size times scale " + std::to_string(scale) + ")");
  if (input->data == output->data)
    return fail(XUNIT_ERROR_INVALID_ARGUMENT, "input and output must not share memory");

  xunit::RunConfig config = run_config(opts);
  if (const xunit_status st = noise_level_of(g, opts, input, &config.params); st != XUNIT_OK)
    return st;
  if (opts.progress) {
    config.progress = [&opts](float fraction) {
      return opts.progress(fraction, opts.progress_user_data) == 0;
    };
  }
  return guarded(XUNIT_ERROR_INTERNAL, [&] {
    xunit::run_image(model->for_precision(opts.precision), *input, *output, config);
    return XUNIT_OK;
  });
}

xunit_status xunit_estimate_noise_level_stored(const xunit_image *image, int32_t chroma_storage,
                                               float *out_sigma) {
  if (!out_sigma) return fail(XUNIT_ERROR_INVALID_ARGUMENT, "out_sigma must not be NULL");
  if (chroma_storage != XUNIT_CHROMA_FULL && chroma_storage != XUNIT_CHROMA_SUBSAMPLED)
    return fail(XUNIT_ERROR_INVALID_ARGUMENT,
                "chroma_storage must be XUNIT_CHROMA_FULL or XUNIT_CHROMA_SUBSAMPLED, not " +
                    std::to_string(chroma_storage));
  std::string problem = check_image(image, "input");
  if (!problem.empty()) return fail(XUNIT_ERROR_INVALID_ARGUMENT, problem);
  return guarded(XUNIT_ERROR_INTERNAL, [&] {
    // At most 255, the top of the levels run options accept: a float image far outside [0, 1]
    // (0..255 values given as floats) reads as that rather than as thousands of levels.
    *out_sigma = std::min(
        xunit::estimate_noise_level(*image, chroma_storage == XUNIT_CHROMA_SUBSAMPLED), 255.f);
    return XUNIT_OK;
  });
}

xunit_status xunit_estimate_noise_level(const xunit_image *image, float *out_sigma) {
  return xunit_estimate_noise_level_stored(image, XUNIT_CHROMA_FULL, out_sigma);
}

}  // extern "C"
