/* xunit: CPU inference for xUnit image-restoration networks (denoising, super-resolution).
 *
 * Plain C API. Objects are opaque and owned by the caller between *_load and *_free. A loaded
 * model is immutable: any number of threads may call xunit_run on the same model at the same time.
 *
 * Failures: the functions returning an xunit_status return XUNIT_OK (0) on success; on failure
 * they return another status and xunit_last_error() gives a one-line message for the calling
 * thread. A NULL pointer where an object is required is XUNIT_ERROR_INVALID_ARGUMENT. The other
 * functions cannot fail; each one's comment says what it does with NULL or unknown arguments.
 *
 * ABI: xunit_run_options and xunit_model_info begin with `struct_size`, the sizeof the caller
 * was compiled with, so that later versions can append fields: the library reads and writes only
 * the fields that lie wholly within struct_size (an older caller's shorter struct works; the
 * fields it lacks take their defaults). struct_size 0, smaller than the struct_size field itself,
 * or above 4096 is refused with XUNIT_ERROR_INVALID_ARGUMENT. A struct_size larger than this
 * version's sizeof (a newer caller) is accepted: the extra bytes of xunit_run_options must be zero
 * (fields this library does not know, left at their defaults), and those of xunit_model_info are
 * zeroed. xunit_image is frozen: its layout never changes; new pixel layouts will come as new
 * functions. */
#ifndef XUNIT_XUNIT_H
#define XUNIT_XUNIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XUNIT_VERSION_MAJOR 0
#define XUNIT_VERSION_MINOR 2
#define XUNIT_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH of this header; compare with xunit_version_number(). */
#define XUNIT_VERSION_NUMBER \
  (XUNIT_VERSION_MAJOR * 10000 + XUNIT_VERSION_MINOR * 100 + XUNIT_VERSION_PATCH)

/* Marks the exported functions: default visibility when building libxunit (which compiles with
 * hidden visibility and a version script), nothing for its users. */
#if defined(XUNIT_BUILDING_LIBRARY) && (defined(__GNUC__) || defined(__clang__))
#define XUNIT_API __attribute__((visibility("default")))
#else
#define XUNIT_API
#endif

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
  /* The convolutions multiply in bfloat16 and sum in float32: 3x3 convs by Winograd with
   * bfloat16 products of float32 transforms (with AVX512-BF16), the others read bfloat16
   * activations and weights; the xUnit gate and the output layer stay float32. Needs AVX-512
   * (fast with AVX512-BF16); otherwise xunit_run returns XUNIT_ERROR_UNSUPPORTED. */
  XUNIT_PRECISION_BF16 = 1,
  /* bfloat16 where it is faster (every convolution but the output layer, on CPUs with
   * AVX512-BF16; PSNR within 0.02 dB of float32 on the shipped models), float32 everywhere on
   * CPUs without AVX512-BF16. */
  XUNIT_PRECISION_AUTO = 2
} xunit_precision;

typedef enum xunit_noise_level_mode {
  XUNIT_NOISE_LEVEL_AUTO = 0, /* estimated from the input (xunit_estimate_noise_level) */
  XUNIT_NOISE_LEVEL_FIXED = 1 /* xunit_run_options.noise_level */
} xunit_noise_level_mode;

/* An image in memory: interleaved channels, rows `row_stride` bytes apart (>= width * channels *
 * pixel size). Built by the caller, e.g. {w, h, 3, XUNIT_PIXEL_U8, w * 3, pixels}. Frozen: this
 * layout is part of the ABI and never changes (no struct_size); new pixel layouts or image
 * descriptions will come as new types and functions. */
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

/* Set up by xunit_run_options_init, then adjusted field by field. */
typedef struct xunit_run_options {
  uint32_t struct_size; /* sizeof(xunit_run_options); set by xunit_run_options_init */
  int32_t threads;      /* 0: all available cores */
  /* The image is cut into column stripes of this many input pixels (plus the network's
   * receptive field on each side), and every stripe streams from top to bottom through the
   * network, so memory grows with the stripe width, not with the image. 0: one stripe (the
   * whole width); -1: automatic (the widest stripe within a fixed scratch budget of ~200 MB). */
  int32_t tile_size;
  int32_t precision;          /* an xunit_precision */
  xunit_progress_fn progress; /* may be NULL */
  void *progress_user_data;
  /* For models with a noise-level input (xunit_model_info.noise_level_input): how strongly to
   * denoise. XUNIT_NOISE_LEVEL_AUTO (the default): the input's own noise level, estimated by
   * xunit_estimate_noise_level. XUNIT_NOISE_LEVEL_FIXED: `noise_level`, the standard deviation
   * of the noise in 8-bit levels (0..255 whatever the pixel type; larger removes more). A fixed
   * level for a model without that input: XUNIT_ERROR_INVALID_ARGUMENT. */
  int32_t noise_level_mode; /* an xunit_noise_level_mode */
  float noise_level;
} xunit_run_options;

/* Filled by xunit_model_get_info; the caller sets struct_size first:
 *   xunit_model_info info;
 *   info.struct_size = sizeof info; */
typedef struct xunit_model_info {
  uint32_t struct_size; /* set by the caller: sizeof(xunit_model_info) */
  int32_t task;         /* an xunit_task */
  int32_t scale;        /* output size / input size (1 for denoisers) */
  int32_t in_channels;
  int32_t out_channels;
  int32_t receptive_field; /* halo radius in input pixels */
  int64_t parameters;      /* number of weights */
  const char *family;      /* e.g. "xdncnn"; owned by the model */
  /* 1 when the model takes the noise level of its input (xunit_run_options.noise_level): a
   * denoiser whose strength can be set; 0 for blind models. */
  int32_t noise_level_input;
} xunit_model_info;

typedef struct xunit_model xunit_model;

/* Version of the library, e.g. "0.2.0" (a static string, never NULL). */
XUNIT_API const char *xunit_version(void);
/* Version of the library as MAJOR * 10000 + MINOR * 100 + PATCH: compare with
 * XUNIT_VERSION_NUMBER, the header's, at run time. Cannot fail. */
XUNIT_API uint32_t xunit_version_number(void);

/* The message of the last failure on this thread ("" if none; a successful call that returns a
 * status clears it). Never NULL; valid until the thread's next xunit call. */
XUNIT_API const char *xunit_last_error(void);
/* A static name for a status, e.g. "invalid argument"; "unknown status" for values outside the
 * enum. Never NULL. */
XUNIT_API const char *xunit_status_string(xunit_status status);

/* Loads and validates a .xunit model (checksum, bounds, graph) from a file (read once: the
 * model owns its weights, so the file may change or go afterwards) or a caller buffer (copied:
 * the buffer may be freed afterwards). On success *out_model is the model;
 * on failure it is NULL (when out_model is not NULL). NULL path, data or out_model:
 * XUNIT_ERROR_INVALID_ARGUMENT. */
XUNIT_API xunit_status xunit_model_load(const char *path, xunit_model **out_model);
XUNIT_API xunit_status xunit_model_load_memory(const void *data, size_t size,
                                               xunit_model **out_model);
/* Frees a model and everything it owns (info.family, metadata strings). NULL: does nothing. */
XUNIT_API void xunit_model_free(xunit_model *model);

/* Fills *out_info (whose struct_size the caller has set; see the top of this file). NULL model or
 * out_info, or a bad struct_size: XUNIT_ERROR_INVALID_ARGUMENT, and *out_info is not written. */
XUNIT_API xunit_status xunit_model_get_info(const xunit_model *model, xunit_model_info *out_info);
/* A metadata value by key (e.g. "family", "source_sha256", "converter_version"), owned by the
 * model; NULL if the key is absent or model or key is NULL. Does not touch xunit_last_error. */
XUNIT_API const char *xunit_model_get_metadata(const xunit_model *model, const char *key);

/* Writes the defaults into *options, a struct of `size` bytes: struct_size = size, all cores,
 * automatic stripes, FP32, no progress callback, the noise level estimated (AUTO). Only the
 * fields that lie within `size` are written, so a program built with an older, shorter struct is
 * never written past. NULL, or a size below 4: does nothing. Call it through the macro below. */
XUNIT_API void xunit_run_options_init_sized(xunit_run_options *options, size_t size);
/* Initialises the caller's own struct (the size this header gives it). Programs built against
 * 0.2.0, whose struct ended before noise_level_mode, call the function of this name, which
 * writes those 32 bytes only (the parentheses keep the macro from expanding). */
XUNIT_API void(xunit_run_options_init)(xunit_run_options *options);
#define xunit_run_options_init(options) \
  xunit_run_options_init_sized((options), sizeof(xunit_run_options))

/* Runs the network on `input`, writing `output`, which must be preallocated with width and height
 * equal to the input's times the model scale, and channels equal to the model's out_channels
 * (input channels must equal in_channels). options may be NULL for the defaults. A NULL model,
 * input or output, a bad image descriptor, a bad option or struct_size, or input and output
 * sharing memory: XUNIT_ERROR_INVALID_ARGUMENT, and nothing is written. */
XUNIT_API xunit_status xunit_run(const xunit_model *model, const xunit_run_options *options,
                                 const xunit_image *input, xunit_image *output);

/* The scratch memory in bytes xunit_run will allocate for a width x height input with these
 * options (options may be NULL), not counting the caller's input and output images; UINT64_MAX
 * when it is beyond this machine's physical memory. xunit_run
 * computes the same figure before it allocates anything and returns XUNIT_ERROR_OUT_OF_MEMORY,
 * with the figure in the message, when it exceeds the memory limit: the environment variable
 * XUNIT_MEMORY_LIMIT (bytes, or a number with a K, M, G or T suffix) when set, else the
 * available physical memory (lowered to the address space left under ulimit -v). A NULL model
 * or out_bytes, a bad option or a non-positive size: XUNIT_ERROR_INVALID_ARGUMENT. */
XUNIT_API xunit_status xunit_run_memory_needed(const xunit_model *model,
                                               const xunit_run_options *options, int32_t width,
                                               int32_t height, uint64_t *out_bytes);

/* Estimates the standard deviation of additive white noise in `image`, in 8-bit levels (0..255
 * whatever the pixel type), from the flattest parts of a fine-scale high-pass band: about 0 for
 * a clean photo, the sigma of Gaussian noise added to one (clipped and quantized as in a saved
 * file); at most 255 (a float image of 0..255 values reads so). What XUNIT_NOISE_LEVEL_AUTO runs. A
 * NULL or bad image or out_sigma: XUNIT_ERROR_INVALID_ARGUMENT. */
XUNIT_API xunit_status xunit_estimate_noise_level(const xunit_image *image, float *out_sigma);

/* How the file an RGB image was decoded from stored its chroma, for
 * xunit_estimate_noise_level_stored: subsampled chroma (a 4:2:0 or 4:2:2 JPEG, what most cameras
 * and encoders write; lossy WebP) keeps only the luma's share of noise that was independent in R,
 * G and B (about 0.67 of its level), and no chroma of it, so the plain estimate reads such a file
 * low (sigma 25 as about 15, 10 and less as about 0). */
typedef enum xunit_chroma_storage {
  XUNIT_CHROMA_FULL = 0,      /* every channel at full resolution: PNG, TIFF, 4:4:4 JPEG, ... */
  XUNIT_CHROMA_SUBSAMPLED = 1 /* chroma at a lower resolution than luma */
} xunit_chroma_storage;

/* xunit_estimate_noise_level for an image decoded from a file whose chroma storage is known
 * (`chroma_storage`, an xunit_chroma_storage): with XUNIT_CHROMA_SUBSAMPLED an RGB image is read
 * by its luma and the level given is that of the noise before the file was saved (the level to
 * give a noise-conditioned model as XUNIT_NOISE_LEVEL_FIXED); RGBA alike (alpha left out); gray
 * content (R = G = B) and gray or gray+alpha images read as with XUNIT_CHROMA_FULL, which is
 * xunit_estimate_noise_level. Another
 * chroma_storage, or what xunit_estimate_noise_level refuses: XUNIT_ERROR_INVALID_ARGUMENT. */
XUNIT_API xunit_status xunit_estimate_noise_level_stored(const xunit_image *image,
                                                         int32_t chroma_storage, float *out_sigma);

#ifdef __cplusplus
}
#endif

#endif /* XUNIT_XUNIT_H */
