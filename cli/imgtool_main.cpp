// xunit-imgtool: a procedural test image for demos (shipping no photographs of anyone's).
//   xunit-imgtool synth W H OUT.png
// Noisy versions and PSNR: xunit-run --add-noise / --psnr.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/image_io.h"
#include "cli/synthetic_image.h"
#include "common/printable.h"

int main(int argc, char **argv) {
  if (argc != 5 || std::string(argv[1]) != "synth") {
    std::fputs("usage: xunit-imgtool synth W H OUT.png\n", stderr);
    return 2;
  }
  const int w = std::atoi(argv[2]), h = std::atoi(argv[3]);
  if (w < 1 || h < 1 || w > 16384 || h > 16384) {
    std::fputs("xunit-imgtool: W and H must be in [1, 16384]\n", stderr);
    return 2;
  }
  try {
    xunit::cli::save_image(argv[4], xunit::cli::synthetic_scene(w, h), true);
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "xunit-imgtool: %s\n", xunit::printable(e.what()).c_str());
    return 1;
  }
}
