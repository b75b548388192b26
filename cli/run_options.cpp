#include "cli/run_options.h"

#include <cmath>
#include <cstdlib>

#include "common/memory_limit.h"

namespace xunit::cli {

const char *kRunUsage =
    "NAME\n"
    "    xunit-run - denoise or super-resolve images with xUnit networks on the CPU\n"
    "\n"
    "SYNOPSIS\n"
    "    xunit-run [-m MODEL | -s SCALE] [options] -i INPUT -o OUTPUT\n"
    "    xunit-run --list-models\n"
    "    xunit-run --info MODEL\n"
    "    xunit-run --version\n"
    "\n"
    "DESCRIPTION\n"
    "    Restores INPUT (a file or a folder of files) with an .xunit model and writes OUTPUT.\n"
    "    Without -m the shipped denoiser for the image's content is used: xdncnn-gray for a\n"
    "    gray file and for an RGB file of gray content (R, G, B equal within JPEG's rounding,\n"
    "    no tint; written back as RGB), xdncnn-color otherwise. -m xdncnn-color or -m\n"
    "    xdncnn-gray (by name) is switched the same way, saying so; a model given by the path\n"
    "    of its file is always the one run. -s 2 or -s 4 picks the shipped super-resolution\n"
    "    model.\n"
    "\n"
    "    Images: .png and .tif/.tiff (8- and 16-bit), .jpg, .webp, .bmp, .tga; 16-bit in gives\n"
    "    16-bit out (PNG, TIFF). Gray stays gray; EXIF orientation is applied on load; EXIF and\n"
    "    ICC profiles are carried to JPEG, PNG and WebP outputs (ICC only to TIFF).\n"
    "    .npy: float32 (H, W) or (H, W, C) arrays in the network's domain ([0, 1] for images),\n"
    "    written back unclamped: the raw network output, for exact comparisons.\n"
    "    An alpha channel is passed through (resized with the image for super-resolution). A\n"
    "    gray model runs on each of R, G, B of a color image (once on gray content); a color\n"
    "    model runs on a gray image replicated to RGB and its result is averaged back to gray.\n"
    "\n"
    "    A folder is planned before any work: two inputs that would become one output, an\n"
    "    output that is an input, existing outputs (without -y) and an output folder that is\n"
    "    not writable are refused with one line naming them. Only regular files of the formats\n"
    "    above are read; the others (other formats, FIFOs) are skipped, named in the final\n"
    "    count, and make the exit status 1. Hidden files and subfolders are left alone.\n"
    "\n"
    "OPTIONS\n"
    "  Input and output\n"
    "    -i, --input PATH      an image or .npy file, or a folder of them (not recursive)\n"
    "    -o, --output PATH     the output file; a folder when INPUT is one (created with its\n"
    "                          parents if missing; files keep their names)\n"
    "    -f, --format EXT      png, jpg, webp, tif, bmp, tga or npy: the format of a folder's\n"
    "                          outputs (default: each input's own)\n"
    "    --quality N           JPEG and WebP outputs: quality 1..100 (default: JPEG 95, WebP\n"
    "                          lossless; with --quality, WebP is lossy)\n"
    "    --png-compression N   PNG outputs: zlib level 0..9 (default 1, the fastest: a few %\n"
    "                          larger than 6 or 9, several times faster to write)\n"
    "    -y, --overwrite       replace existing outputs (default: refuse; the input itself\n"
    "                          is never written)\n"
    "    --max-pixels N        refuse images larger than N pixels (default 268435456)\n"
    "    --memory-limit SIZE   refuse an image whose run would need more memory than SIZE\n"
    "                          (bytes, or with K, M, G: 4G); computed before anything is\n"
    "                          allocated. Default: XUNIT_MEMORY_LIMIT, else the available memory\n"
    "  Model\n"
    "    -m, --model MODEL     an .xunit file (see xunit-convert), or a shipped model's name\n"
    "    -s, --scale 2|4       super-resolve with the shipped model of that scale\n"
    "    --list-models         list the shipped models and exit\n"
    "    --info MODEL          describe a model (task, size, training, validation) and exit\n"
    "  Processing\n"
    "    -x, --tta             test-time augmentation: average the results of the 8\n"
    "                          flips/rotations of the input (8x the time, a little better)\n"
    "    -j, --threads N       threads (default 0: all cores)\n"
    "    -t, --tile N          width in input pixels of the column stripes the image is cut\n"
    "                          into; each is streamed top to bottom, so memory grows with the\n"
    "                          width, not the height. 0: one stripe. Default: automatic\n"
    "                          (bounded memory). Narrower than the model's receptive field\n"
    "                          (--info), stripes recompute more than they produce: a warning\n"
    "    --precision P         fp32 (default), bf16 (bfloat16 convolutions; AVX-512 CPUs), or\n"
    "                          auto (bfloat16 only where it is faster)\n"
    "    --sigma auto|N        for a denoiser conditioned on the noise level: the level to\n"
    "                          remove, N levels of 255 (0..255, any number; larger removes\n"
    "                          more), or auto (default): each image's own, estimated once on\n"
    "                          what the model runs on (after the gray-content route; by the\n"
    "                          luma for a JPEG or lossy WebP with subsampled chroma); the log\n"
    "                          says which. N with a blind model is an error\n"
    "  Test inputs and evaluation\n"
    "    --add-noise SIGMA     add Gaussian noise of SIGMA/255 to each input first\n"
    "    --seed N              seed of that noise (default 0); each file's noise also depends\n"
    "                          on its name, so reruns give identical files\n"
    "    --no-model            with --add-noise: write the noisy inputs, run no model\n"
    "    --psnr REF            print PSNR (dB, colour channels) and SSIM (luma) of each output\n"
    "                          file as written (read back: a JPEG after its compression)\n"
    "                          against REF: a file, or a folder holding for each input x.EXT\n"
    "                          x.EXT or else the one image x.* (none or several: refused\n"
    "                          before any work). Unmeasurable outputs make the status 1\n"
    "  Other\n"
    "    -q, --quiet           no progress bar, no warnings or notes (which denoiser the\n"
    "                          content picked), and no final count unless files were\n"
    "                          skipped\n"
    "    -h, --help            this text\n"
    "    --version             the version and exit\n"
    "\n"
    "ENVIRONMENT\n"
    "    XUNIT_MODEL_DIR       a folder searched first for shipped models\n"
    "    XUNIT_ISA             avx512bf16, avx512, avx2 or scalar: cap the instruction set\n"
    "\n"
    "EXIT STATUS\n"
    "    0    every file written (of a folder: every file in it but hidden files and\n"
    "         subfolders)\n"
    "    1    an error, or some files of a folder failed or were skipped: one line on stderr\n"
    "         per failed file (the other files are written), and the final count names the\n"
    "         skipped ones (unsupported formats, FIFOs and other non-regular files)\n"
    "    2    bad usage\n"
    "    130  interrupted (Ctrl-C or SIGTERM): outputs finished before are kept, no partial\n"
    "         file is left\n"
    "\n"
    "EXAMPLES\n"
    "    xunit-run -i noisy.png -o clean.png\n"
    "    xunit-run -s 4 -i small.jpg -o big.png\n"
    "    xunit-run -i photos/ -o restored/ -f png -x\n"
    "    xunit-run --add-noise 25 --seed 1 --no-model -i clean/ -o noisy/\n"
    "    xunit-run -i noisy/ -o denoised/ --psnr clean/\n"
    "    xunit-run -m model.xunit -i input.npy -o output.npy -t 0\n";

namespace {

long parse_long(const std::string &flag, const char *v, long lo, long hi) {
  char *end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (!end || *end || !*v || n < lo || n > hi)
    throw UsageError{flag + ": expected an integer in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]"};
  return n;
}

// A noise level (8-bit levels, any number in [0, 255]), or false.
bool parse_level(const std::string &v, float *level) {
  char *end = nullptr;
  *level = std::strtof(v.c_str(), &end);
  return end && !*end && !v.empty() && std::isfinite(*level) && *level >= 0 && *level <= 255;
}

}  // namespace

RunOptions parse_run_options(int argc, char **argv) {
  RunOptions o;
  bool noise_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc) throw UsageError{a + " needs a value"};
      return argv[++i];
    };
    if (a == "-h" || a == "--help")
      o.help = true;
    else if (a == "--version")
      o.version = true;
    else if (a == "--list-models")
      o.list_models = true;
    else if (a == "--info")
      o.info = value();
    else if (a == "-m" || a == "--model")
      o.model = value();
    else if (a == "-s" || a == "--scale") {
      o.scale = int(parse_long(a, value(), 2, 4));
      if (o.scale == 3) throw UsageError{"-s: the shipped models upscale by 2 or 4"};
    } else if (a == "-i" || a == "--input")
      o.input = value();
    else if (a == "-o" || a == "--output")
      o.output = value();
    else if (a == "-f" || a == "--format") {
      o.format = value();
      if (o.format != "png" && o.format != "jpg" && o.format != "webp" && o.format != "tif" &&
          o.format != "tiff" && o.format != "bmp" && o.format != "tga" && o.format != "npy")
        throw UsageError{"-f must be png, jpg, webp, tif, bmp, tga or npy"};
    } else if (a == "--quality")
      o.quality = int(parse_long(a, value(), 1, 100));
    else if (a == "--png-compression")
      o.png_compression = int(parse_long(a, value(), 0, 9));
    else if (a == "-x" || a == "--tta")
      o.tta = true;
    else if (a == "-t" || a == "--tile")
      o.tile = int(parse_long(a, value(), 0, 1 << 20));
    else if (a == "-j" || a == "--threads")
      o.threads = int(parse_long(a, value(), 0, 4096));
    else if (a == "--max-pixels")
      o.max_pixels = size_t(parse_long(a, value(), 1, 1L << 40));
    else if (a == "--memory-limit") {
      o.memory_limit = value();
      uint64_t bytes = 0;
      if (!xunit::parse_memory_size(o.memory_limit, &bytes))
        throw UsageError{"--memory-limit: expected a size (bytes, or a number with K, M, G or T)"};
    } else if (a == "--precision") {
      o.precision = value();
      if (o.precision != "fp32" && o.precision != "bf16" && o.precision != "auto")
        throw UsageError{"--precision must be fp32, bf16 or auto"};
    } else if (a == "--sigma") {
      const std::string v = value();
      o.sigma_auto = v == "auto";
      if (!o.sigma_auto && !parse_level(v, &o.sigma))
        throw UsageError{"--sigma: expected auto or a noise level in [0, 255] (of 255)"};
    } else if (a == "--add-noise") {
      if (!parse_level(value(), &o.noise_sigma))
        throw UsageError{"--add-noise: expected a sigma in [0, 255] (of 255)"};
      noise_given = true;
    } else if (a == "--seed")
      o.seed = uint64_t(parse_long(a, value(), 0, 1L << 62));
    else if (a == "--no-model")
      o.no_model = true;
    else if (a == "--psnr")
      o.psnr_reference = value();
    else if (a == "-y" || a == "--overwrite")
      o.overwrite = true;
    else if (a == "-q" || a == "--quiet")
      o.quiet = true;
    else
      throw UsageError{"unknown argument '" + a + "'"};
  }
  if (o.help || o.version || o.list_models || !o.info.empty()) return o;
  if (o.input.empty() || o.output.empty()) throw UsageError{"-i and -o are required"};
  if (!o.model.empty() && o.scale) throw UsageError{"-m and -s are exclusive"};
  if (o.no_model && !noise_given)
    throw UsageError{"--no-model is for making noisy inputs: give --add-noise"};
  if (o.no_model && (!o.model.empty() || o.scale || o.tta || !o.sigma_auto))
    throw UsageError{"--no-model runs no model: drop -m, -s, -x and --sigma"};
  return o;
}

}  // namespace xunit::cli
