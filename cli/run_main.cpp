// xunit-run: restore image files or folders with an .xunit model through the C API.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cli/image_io.h"
#include "cli/run_options.h"
#include "common/error.h"
#include "common/file_io.h"
#include "xunit/xunit.h"

namespace {

using xunit::Error;
using xunit::cli::Image;
using xunit::cli::RunOptions;

struct ModelDeleter {
  void operator()(xunit_model *m) const { xunit_model_free(m); }
};
using ModelPtr = std::unique_ptr<xunit_model, ModelDeleter>;

std::string executable_dir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string p(buf, size_t(n));
  return p.substr(0, p.find_last_of('/'));
}

// Where shipped models live: $XUNIT_MODEL_DIR, the source tree's models/ (from build/bin), or an
// install prefix's share/xunit/models.
std::string find_default_model(int channels) {
  const std::string name = channels == 1 ? "xdncnn-gray.xunit" : "xdncnn-color.xunit";
  std::vector<std::string> dirs;
  if (const char *env = std::getenv("XUNIT_MODEL_DIR")) dirs.push_back(env);
  const std::string exe = executable_dir();
  dirs.push_back(exe + "/../../models");
  dirs.push_back(exe + "/../share/xunit/models");
  for (const auto &d : dirs)
    if (xunit::file_exists(d + "/" + name)) return d + "/" + name;
  throw Error("no -m given and the default model '" + name + "' was not found (set XUNIT_MODEL_DIR)");
}

ModelPtr load_model(const std::string &path) {
  xunit_model *m = nullptr;
  if (xunit_model_load(path.c_str(), &m) != XUNIT_OK) throw Error(xunit_last_error());
  return ModelPtr(m);
}

// Runs the model on a float HWC buffer with the model's channel count.
std::vector<float> run_model(const xunit_model *model, const RunOptions &o, const float *pixels, int w, int h,
                             int channels, int scale, int out_channels) {
  std::vector<float> out(size_t(w) * scale * size_t(h) * scale * out_channels);
  xunit_image in{w, h, channels, XUNIT_PIXEL_F32, size_t(w) * channels * sizeof(float), const_cast<float *>(pixels)};
  xunit_image res{w * scale, h * scale, out_channels, XUNIT_PIXEL_F32, size_t(w) * scale * out_channels * sizeof(float),
                  out.data()};
  xunit_run_options opts;
  xunit_run_options_init(&opts);
  opts.threads = o.threads;
  opts.tile_size = o.tile;
  opts.precision = o.precision == "bf16" ? XUNIT_PRECISION_BF16
                   : o.precision == "auto" ? XUNIT_PRECISION_AUTO
                                           : XUNIT_PRECISION_FP32;
  if (xunit_run(model, &opts, &in, &res) != XUNIT_OK) throw Error(xunit_last_error());
  return out;
}

// Bilinear resize of one plane by an integer factor (for passing alpha through SR).
std::vector<float> upscale_plane(const std::vector<float> &p, int w, int h, int f) {
  if (f == 1) return p;
  std::vector<float> out(size_t(w) * f * size_t(h) * f);
  auto coord = [f](int dst, int size, int *i0, int *i1, float *t) {
    float s = std::max((dst + 0.5f) / f - 0.5f, 0.f);
    *i0 = std::min(int(s), size - 1);
    *i1 = std::min(*i0 + 1, size - 1);
    *t = s - *i0;
  };
  for (int y = 0; y < h * f; ++y) {
    int y0, y1;
    float ty;
    coord(y, h, &y0, &y1, &ty);
    for (int x = 0; x < w * f; ++x) {
      int x0, x1;
      float tx;
      coord(x, w, &x0, &x1, &tx);
      float top = p[size_t(y0) * w + x0] * (1 - tx) + p[size_t(y0) * w + x1] * tx;
      float bot = p[size_t(y1) * w + x0] * (1 - tx) + p[size_t(y1) * w + x1] * tx;
      out[size_t(y) * w * f + x] = top * (1 - ty) + bot * ty;
    }
  }
  return out;
}

std::vector<float> channel(const Image &img, int c) {
  std::vector<float> p(size_t(img.width) * img.height);
  for (size_t i = 0; i < p.size(); ++i) p[i] = img.pixels[i * img.channels + size_t(c)];
  return p;
}

void process_file(const std::string &in_path, const std::string &out_path, const RunOptions &o,
                  const xunit_model *given_model) {
  if (!xunit::cli::is_supported_output(out_path))
    throw Error("unsupported output format '" + out_path + "' (use .png .jpg .bmp .tga .npy)");
  if (!o.overwrite && xunit::file_exists(out_path))
    throw Error("output exists (use -y to overwrite): '" + out_path + "'");
  char in_real[PATH_MAX], out_real[PATH_MAX];
  if (realpath(in_path.c_str(), in_real) && realpath(out_path.c_str(), out_real) &&
      std::string(in_real) == out_real)
    throw Error("refusing to write over the input '" + in_path + "'");

  Image img = xunit::cli::load_image(in_path, o.max_pixels ? o.max_pixels : xunit::cli::kDefaultMaxPixels);
  const bool raw = img.bits == 32;
  const bool has_alpha = !raw && (img.channels == 2 || img.channels == 4);
  const int color = has_alpha ? img.channels - 1 : img.channels;

  ModelPtr default_model;
  const xunit_model *model = given_model;
  if (!model) {
    default_model = load_model(find_default_model(color));
    model = default_model.get();
  }
  xunit_model_info info;
  xunit_model_get_info(model, &info);
  const int s = info.scale, W = img.width, H = img.height;

  // Colour planes in, colour planes out, adapted to the model's channel count.
  std::vector<float> result;  // (H*s, W*s, color)
  if (color == info.in_channels) {
    std::vector<float> in(size_t(W) * H * color);
    for (size_t i = 0; i < size_t(W) * H; ++i)
      for (int c = 0; c < color; ++c) in[i * color + c] = img.pixels[i * img.channels + c];
    result = run_model(model, o, in.data(), W, H, color, s, info.out_channels);
    if (info.out_channels != color) throw Error("the model changes the channel count; not an image model");
  } else if (!raw && info.in_channels == 1 && color == 3) {
    result.assign(size_t(W) * s * H * s * 3, 0.f);
    for (int c = 0; c < 3; ++c) {
      std::vector<float> plane = channel(img, c);
      std::vector<float> out = run_model(model, o, plane.data(), W, H, 1, s, 1);
      for (size_t i = 0; i < out.size(); ++i) result[i * 3 + c] = out[i];
    }
  } else if (!raw && info.in_channels == 3 && color == 1) {
    std::vector<float> rgb(size_t(W) * H * 3);
    for (size_t i = 0; i < size_t(W) * H; ++i)
      rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = img.pixels[i * img.channels];
    std::vector<float> out = run_model(model, o, rgb.data(), W, H, 3, s, 3);
    result.resize(out.size() / 3);
    for (size_t i = 0; i < result.size(); ++i) result[i] = (out[i * 3] + out[i * 3 + 1] + out[i * 3 + 2]) / 3.f;
  } else {
    throw Error("'" + in_path + "' has " + std::to_string(color) + " channels; the model expects " +
                std::to_string(info.in_channels));
  }

  Image out;
  out.width = W * s;
  out.height = H * s;
  out.channels = img.channels;
  out.bits = img.bits;
  out.pixels.resize(size_t(out.width) * out.height * out.channels);
  std::vector<float> alpha = has_alpha ? upscale_plane(channel(img, img.channels - 1), W, H, s) : std::vector<float>();
  for (size_t i = 0; i < size_t(out.width) * out.height; ++i) {
    for (int c = 0; c < color; ++c) out.pixels[i * out.channels + c] = result[i * color + c];
    if (has_alpha) out.pixels[i * out.channels + color] = alpha[i];
  }
  xunit::cli::save_image(out_path, out, o.overwrite);
}

std::vector<std::string> list_inputs(const std::string &dir) {
  std::vector<std::string> names;
  DIR *d = opendir(dir.c_str());
  if (!d) throw Error("cannot open folder '" + dir + "'");
  while (dirent *e = readdir(d)) {
    std::string n = e->d_name;
    if (n[0] == '.') continue;
    if (!xunit::is_directory(dir + "/" + n) && xunit::cli::is_supported_input(n)) names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

int main(int argc, char **argv) {
  RunOptions o;
  try {
    o = xunit::cli::parse_run_options(argc, argv);
  } catch (const xunit::cli::UsageError &e) {
    std::fprintf(stderr, "xunit-run: %s (see --help)\n", e.message.c_str());
    return 2;
  }
  if (o.help) {
    std::fputs(xunit::cli::kRunUsage, stdout);
    return 0;
  }
  try {
    ModelPtr model;
    if (!o.model.empty()) model = load_model(o.model);
    if (!xunit::is_directory(o.input)) {
      if (xunit::is_directory(o.output)) throw Error("-o is a folder but -i is a file: '" + o.output + "'");
      process_file(o.input, o.output, o, model.get());
      if (!o.quiet) std::fprintf(stderr, "xunit-run: wrote %s\n", o.output.c_str());
      return 0;
    }
    std::vector<std::string> names = list_inputs(o.input);
    if (names.empty()) throw Error("no supported images in folder '" + o.input + "'");
    if (!xunit::is_directory(o.output) && mkdir(o.output.c_str(), 0755) != 0)
      throw Error("cannot create output folder '" + o.output + "'");
    int failed = 0;
    for (const auto &n : names) {
      try {
        process_file(o.input + "/" + n, o.output + "/" + n, o, model.get());
      } catch (const std::exception &e) {
        std::fprintf(stderr, "xunit-run: %s: %s\n", n.c_str(), e.what());
        ++failed;
      }
    }
    if (!o.quiet)
      std::fprintf(stderr, "xunit-run: %zu of %zu files written to %s\n", names.size() - size_t(failed),
                   names.size(), o.output.c_str());
    return failed ? 1 : 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "xunit-run: %s\n", e.what());
    return 1;
  }
}
