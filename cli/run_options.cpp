#include "cli/run_options.h"

#include <cstdlib>

namespace xunit::cli {

const char *kRunUsage =
    "usage: xunit-run [-m MODEL] -i INPUT -o OUTPUT [options]\n"
    "\n"
    "Restores images (denoising or super-resolution) with an xUnit network on the CPU.\n"
    "\n"
    "  -i INPUT           an image (.png 8/16-bit, .jpg, .bmp, .tga) or a .npy float32 array\n"
    "                     (H, W, C) in the network's domain ([0,1]); or a folder of them.\n"
    "  -o OUTPUT          the result: format from the extension (.png .jpg .bmp .tga .npy); a folder\n"
    "                     when INPUT is a folder (created if missing; files keep their names).\n"
    "                     .npy output is the raw network output, unclamped.\n"
    "  -m MODEL           an .xunit model (see xunit-convert). Default: the shipped denoiser for the\n"
    "                     input's channels (models/ next to the program, or $XUNIT_MODEL_DIR).\n"
    "  -t TILE            width in input pixels of the column stripes the image is cut into (each is\n"
    "                     streamed top to bottom, so memory grows with the width, not the height);\n"
    "                     0 = one stripe (the whole width); default automatic (bounded memory).\n"
    "  -j THREADS         threads; default all cores.\n"
    "  --precision P      fp32 (default) | bf16 | auto.\n"
    "  --max-pixels N     refuse images with more than N pixels (default 268435456).\n"
    "  -y, --overwrite    replace existing output files (never the input).\n"
    "  -q, --quiet        no summary line on stderr.\n"
    "  -h, --help         this text.\n"
    "\n"
    "Channels: 16-bit PNG in gives 16-bit PNG out; an alpha channel is passed through unchanged\n"
    "(resized with the image for super-resolution). A gray model on a color image runs on each\n"
    "of R, G, B; a color model on a gray image runs on the gray value replicated to RGB and the\n"
    "result is averaged back to gray. .npy arrays must have the model's channel count.\n"
    "\n"
    "Exit status: 0 success; 1 a file failed (one line on stderr per failure); 2 bad usage.\n"
    "\n"
    "examples:\n"
    "  xunit-run -i noisy.png -o clean.png\n"
    "  xunit-run -m models/xsrgan-x4.xunit -i small.png -o big.png -j 2\n"
    "  xunit-run -m model.xunit -i input.npy -o output.npy -t 0\n";

namespace {
long parse_long(const std::string &flag, const char *v, long lo, long hi) {
  char *end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (!end || *end || !*v || n < lo || n > hi)
    throw UsageError{flag + ": expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]"};
  return n;
}
}  // namespace

RunOptions parse_run_options(int argc, char **argv) {
  RunOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc) throw UsageError{a + " needs a value"};
      return argv[++i];
    };
    if (a == "-h" || a == "--help") o.help = true;
    else if (a == "-m" || a == "--model") o.model = value();
    else if (a == "-i" || a == "--input") o.input = value();
    else if (a == "-o" || a == "--output") o.output = value();
    else if (a == "-t" || a == "--tile") o.tile = int(parse_long(a, value(), 0, 1 << 20));
    else if (a == "-j" || a == "--threads") o.threads = int(parse_long(a, value(), 0, 4096));
    else if (a == "--max-pixels") o.max_pixels = size_t(parse_long(a, value(), 1, 1L << 40));
    else if (a == "--precision") {
      o.precision = value();
      if (o.precision != "fp32" && o.precision != "bf16" && o.precision != "auto")
        throw UsageError{"--precision must be fp32, bf16 or auto"};
    } else if (a == "-y" || a == "--overwrite") o.overwrite = true;
    else if (a == "-q" || a == "--quiet") o.quiet = true;
    else throw UsageError{"unknown argument '" + a + "'"};
  }
  if (!o.help && (o.input.empty() || o.output.empty())) throw UsageError{"-i and -o are required"};
  return o;
}

}  // namespace xunit::cli
