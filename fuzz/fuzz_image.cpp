// libFuzzer target: image decoding as xunit-run does it (JPEG, PNG, WebP, TIFF through their
// libraries, BMP and TGA via stb_image, EXIF via libexif, .npy), with a pixel limit that keeps a
// fuzzing process's memory small.
#include <cstdint>

#include "cli/image_io.h"
#include "common/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    (void)xunit::cli::decode_image(data, size, size_t(1) << 20);
  } catch (const xunit::Error &) {
  }
  return 0;
}
