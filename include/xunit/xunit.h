/* xunit: CPU inference for xUnit image-restoration networks (denoising, super-resolution).
 *
 * Plain C API. Objects are opaque and owned by the caller between *_load and *_free. Every
 * function returns an xunit_status (XUNIT_OK == 0); on failure xunit_last_error() gives a one-line
 * message for the calling thread. A loaded model is immutable: any number of threads may call
 * xunit_run on the same model at the same time. */
#ifndef XUNIT_XUNIT_H
#define XUNIT_XUNIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XUNIT_VERSION_MAJOR 0
#define XUNIT_VERSION_MINOR 1
#define XUNIT_VERSION_PATCH 0

typedef enum xunit_status {
  XUNIT_OK = 0,
  XUNIT_ERROR_INVALID_ARGUMENT = 1, /* a NULL pointer, bad image descriptor, bad option */
  XUNIT_ERROR_IO = 2,               /* the file could not be opened or read */
  XUNIT_ERROR_INVALID_MODEL = 3,    /* corrupted, truncated or inconsistent model file */
  XUNIT_ERROR_UNSUPPORTED = 4,      /* a valid request this build cannot serve */
  XUNIT_ERROR_OUT_OF_MEMORY = 5,
  XUNIT_ERROR_CANCELLED = 6, /* the progress callback asked to stop */
  XUNIT_ERROR_INTERNAL = 7
} xunit_status;

typedef enum xunit_pixel_type {
  XUNIT_PIXEL_U8 = 0,  /* 0..255 maps to [0, 1]; output clamped, rounded half up */
  XUNIT_PIXEL_U16 = 1, /* 0..65535 maps to [0, 1]; output clamped, rounded half up */
  XUNIT_PIXEL_F32 = 2  /* the network's own domain, unclamped */
} xunit_pixel_type;

typedef enum xunit_task { XUNIT_TASK_DENOISE = 0, XUNIT_TASK_SUPER_RESOLUTION = 1 } xunit_task;

typedef enum xunit_precision {
  XUNIT_PRECISION_FP32 = 0, /* float32 throughout: matches PyTorch to ~1e-6 (the default) */
  /* The convolutions read bfloat16 activations and weights and accumulate in float32; the xUnit
   * gate and the output layer stay float32. Needs AVX-512 (fast with AVX512-BF16); otherwise
   * xunit_run returns XUNIT_ERROR_UNSUPPORTED. */
  XUNIT_PRECISION_BF16 = 1,
  /* bfloat16 for the convolutions that are faster so, float32 for the others (3x3 convs, which
   * use Winograd in float32); float32 everywhere on CPUs without AVX512-BF16. */
  XUNIT_PRECISION_AUTO = 2
} xunit_precision;

/* An image in memory: interleaved channels, rows `row_stride` bytes apart (>= width * channels *
 * pixel size). */
typedef struct xunit_image {
  int32_t width;
  int32_t height;
  int32_t channels;
  int32_t
      pixel_type; /* an xunit_pixel_type (a fixed-size field: enum sizes vary between compilers) */
  size_t row_stride;
  void *data;
} xunit_image;

/* Called as work completes with fraction in [0, 1]. Return non-zero to cancel: xunit_run then
 * returns XUNIT_ERROR_CANCELLED promptly. Calls are serialized but may come from worker threads. */
typedef int (*xunit_progress_fn)(float fraction, void *user_data);

typedef struct xunit_run_options {
  int32_t threads; /* 0: all available cores */
  /* The image is cut into column stripes of this many input pixels (plus the network's
   * receptive field on each side), and every stripe streams from top to bottom through the
   * network, so memory grows with the stripe width, not with the image. 0: one stripe (the
   * whole width); -1: automatic (the widest stripe within a fixed scratch budget of ~200 MB). */
  int32_t tile_size;
  int32_t precision;          /* an xunit_precision */
  xunit_progress_fn progress; /* may be NULL */
  void *progress_user_data;
} xunit_run_options;

typedef struct xunit_model_info {
  int32_t task;  /* an xunit_task */
  int32_t scale; /* output size / input size (1 for denoisers) */
  int32_t in_channels;
  int32_t out_channels;
  int32_t receptive_field; /* halo radius in input pixels */
  int64_t parameters;      /* number of weights */
  const char *family;      /* e.g. "xdncnn"; owned by the model */
} xunit_model_info;

typedef struct xunit_model xunit_model;

/* Version of the library, e.g. "0.1.0". */
const char *xunit_version(void);

/* The message of the last failure on this thread ("" if none). Valid until the next call. */
const char *xunit_last_error(void);
const char *xunit_status_string(xunit_status status);

/* Loads and validates a .xunit model (checksum, bounds, graph) from a file (memory-mapped) or a
 * caller buffer (copied: the buffer may be freed afterwards). */
xunit_status xunit_model_load(const char *path, xunit_model **out_model);
xunit_status xunit_model_load_memory(const void *data, size_t size, xunit_model **out_model);
void xunit_model_free(xunit_model *model);

xunit_status xunit_model_get_info(const xunit_model *model, xunit_model_info *out_info);
/* A metadata value by key (e.g. "family", "source_sha256", "converter_version"), or NULL. */
const char *xunit_model_get_metadata(const xunit_model *model, const char *key);

/* Default options: all cores, automatic stripes, FP32, no progress callback. */
void xunit_run_options_init(xunit_run_options *options);

/* Runs the network on `input`, writing `output`, which must be preallocated with width and height
 * equal to the input's times the model scale, and channels equal to the model's out_channels
 * (input channels must equal in_channels). options may be NULL for the defaults. */
xunit_status xunit_run(const xunit_model *model, const xunit_run_options *options,
                       const xunit_image *input, xunit_image *output);

#ifdef __cplusplus
}
#endif

#endif /* XUNIT_XUNIT_H */
