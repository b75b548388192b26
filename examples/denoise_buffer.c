/* Denoising an image held in memory with libxunit's C API.
 *
 *   cc denoise_buffer.c -lxunit -o denoise_buffer && ./denoise_buffer models/xdncnn-color.xunit
 *
 * Makes a 320x240 RGB test pattern, adds Gaussian noise (sigma 25 of 255), denoises it with
 * the model on all cores and prints the PSNR before and after. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "xunit/xunit.h"

static double psnr(const uint8_t *a, const uint8_t *b, size_t n) {
  double se = 0;
  for (size_t i = 0; i < n; ++i) se += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
  return 10.0 * log10(255.0 * 255.0 / (se / (double)n));
}

static int progress(float fraction, void *user) {
  (void)user;
  fprintf(stderr, "\r%3.0f%%", 100.0 * fraction);
  return 0; /* non-zero would cancel the run */
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.xunit\n", argv[0]);
    return 2;
  }
  xunit_model *model = NULL;
  if (xunit_model_load(argv[1], &model) != XUNIT_OK) {
    fprintf(stderr, "%s\n", xunit_last_error());
    return 1;
  }
  if (xunit_version_number() != XUNIT_VERSION_NUMBER) /* the library this header describes? */
    fprintf(stderr, "note: built with xunit.h %d, running libxunit %u\n", XUNIT_VERSION_NUMBER,
            (unsigned)xunit_version_number());
  xunit_model_info info;
  info.struct_size = sizeof info; /* struct_size first: the library fills the rest */
  if (xunit_model_get_info(model, &info) != XUNIT_OK) {
    fprintf(stderr, "%s\n", xunit_last_error());
    xunit_model_free(model);
    return 1;
  }
  if (info.task != XUNIT_TASK_DENOISE || info.in_channels != 3) {
    fprintf(stderr, "this example wants a color denoiser; %s is a %s model with %d channels\n",
            argv[1], info.task == XUNIT_TASK_DENOISE ? "denoising" : "super-resolution",
            info.in_channels);
    xunit_model_free(model);
    return 1;
  }

  enum { W = 320, H = 240, C = 3 };
  static uint8_t clean[H][W][C], noisy[H][W][C], restored[H][W][C];
  srand(1);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < C; ++c) {
        double v =
            128 + 90 * sin(x * 0.05 + c) * cos(y * 0.03) + ((x / 40 + y / 40) % 2 ? 20 : -20);
        clean[y][x][c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        /* Box-Muller Gaussian noise */
        double u1 = (rand() + 1.0) / (RAND_MAX + 2.0), u2 = (rand() + 1.0) / (RAND_MAX + 2.0);
        double n = clean[y][x][c] + 25.0 * sqrt(-2 * log(u1)) * cos(6.283185307 * u2);
        noisy[y][x][c] = (uint8_t)(n < 0 ? 0 : n > 255 ? 255 : n + 0.5);
      }

  xunit_image in = {W, H, C, XUNIT_PIXEL_U8, W * C, noisy};
  xunit_image out = {W, H, C, XUNIT_PIXEL_U8, W * C, restored};
  xunit_run_options options;
  xunit_run_options_init(&options); /* all cores, automatic stripes, automatic precision */
  options.progress = progress;
  xunit_status status = xunit_run(model, &options, &in, &out);
  fprintf(stderr, "\n");
  if (status != XUNIT_OK) {
    fprintf(stderr, "xunit_run: %s: %s\n", xunit_status_string(status), xunit_last_error());
    xunit_model_free(model);
    return 1;
  }
  printf("%s (%s, receptive field %d px): PSNR %.2f dB -> %.2f dB\n",
         xunit_model_get_metadata(model, "title"), info.family, info.receptive_field,
         psnr(&clean[0][0][0], &noisy[0][0][0], sizeof clean),
         psnr(&clean[0][0][0], &restored[0][0][0], sizeof clean));
  xunit_model_free(model);
  return 0;
}
