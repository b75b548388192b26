// xunit-run: restore image files or folders with an .xunit model through the C API.
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cli/batch.h"
#include "cli/image_io.h"
#include "cli/model_catalog.h"
#include "cli/noise.h"
#include "cli/progress.h"
#include "cli/quality.h"
#include "cli/restore.h"
#include "cli/run_options.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/printable.h"
#include "xunit/xunit.h"

namespace {

using xunit::Error;
using xunit::cli::BatchItem;
using xunit::cli::Image;
using xunit::cli::RunOptions;

std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) { g_interrupted = true; }

struct ModelDeleter {
  void operator()(xunit_model *m) const { xunit_model_free(m); }
};
using ModelPtr = std::unique_ptr<xunit_model, ModelDeleter>;

ModelPtr load_model(const std::string &path) {
  xunit_model *m = nullptr;
  if (xunit_model_load(path.c_str(), &m) != XUNIT_OK) throw Error(xunit_last_error());
  return ModelPtr(m);
}

std::string file_name(const std::string &path) { return path.substr(path.find_last_of('/') + 1); }

std::string with_format(const std::string &name, const std::string &format) {
  if (format.empty()) return name;
  const size_t dot = name.find_last_of('.');
  return (dot == std::string::npos || dot == 0 ? name : name.substr(0, dot)) + "." + format;
}

std::vector<std::string> list_inputs(const std::string &dir) {
  std::vector<std::string> names;
  DIR *d = opendir(dir.c_str());
  if (!d) throw Error("cannot open folder '" + dir + "'");
  while (dirent *e = readdir(d)) {
    const std::string n = e->d_name;
    if (n[0] == '.') continue;
    if (!xunit::is_directory(dir + "/" + n) && xunit::cli::is_supported_input(n))
      names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

bool same_file(const std::string &a, const std::string &b) {
  char ra[PATH_MAX], rb[PATH_MAX];
  return realpath(a.c_str(), ra) && realpath(b.c_str(), rb) && std::string(ra) == rb;
}

// The files to do: one, or every supported file of a folder.
std::vector<BatchItem> plan_items(const RunOptions &o) {
  std::vector<BatchItem> items;
  if (!xunit::is_directory(o.input)) {
    if (!xunit::file_exists(o.input))
      throw Error("cannot open '" + o.input + "': No such file or directory");
    if (xunit::is_directory(o.output))
      throw Error("-o is a folder but -i is a file: '" + o.output + "'");
    items.push_back({file_name(o.input), o.input, o.output});
    return items;
  }
  const std::vector<std::string> names = list_inputs(o.input);
  if (names.empty()) throw Error("no supported images in folder '" + o.input + "'");
  if (!xunit::is_directory(o.output) && mkdir(o.output.c_str(), 0755) != 0)
    throw Error("cannot create output folder '" + o.output + "'");
  for (const std::string &n : names)
    items.push_back({n, o.input + "/" + n, o.output + "/" + with_format(n, o.format)});
  return items;
}

int32_t precision_of(const std::string &p) {
  return p == "bf16"   ? XUNIT_PRECISION_BF16
         : p == "auto" ? XUNIT_PRECISION_AUTO
                       : XUNIT_PRECISION_FP32;
}

int run(const RunOptions &o) {
  const auto started = std::chrono::steady_clock::now();
  const std::vector<BatchItem> items = plan_items(o);
  const bool folder_refs = !o.psnr_reference.empty() && xunit::is_directory(o.psnr_reference);

  // Models: the one given, or per image the shipped one for its channels (loaded once each).
  std::map<std::string, ModelPtr> models;
  std::mutex models_mutex;
  auto model_for = [&](const Image &img) -> const xunit_model * {
    std::string path;
    if (!o.model.empty()) {
      path = xunit::cli::find_model(o.model);
    } else {
      const bool alpha = img.bits != 32 && (img.channels == 2 || img.channels == 4);
      path =
          xunit::cli::default_model(alpha ? img.channels - 1 : img.channels, o.scale ? o.scale : 1);
    }
    std::lock_guard<std::mutex> lock(models_mutex);
    ModelPtr &m = models[path];
    if (!m) m = load_model(path);
    return m.get();
  };
  if (!o.model.empty()) model_for(Image{});  // fail now, before any file, if the model is bad

  xunit::cli::ProgressBar bar(!o.quiet);
  std::mutex out_mutex;
  size_t written = 0;
  double psnr_sum = 0, ssim_sum = 0;
  size_t measured = 0;

  xunit::cli::RestoreOptions ro;
  ro.threads = o.threads;
  ro.tile = o.tile;
  ro.precision = precision_of(o.precision);
  ro.tta = o.tta;

  xunit::cli::BatchSteps steps;
  steps.load = [&](const BatchItem &item) {
    if (!o.overwrite && xunit::file_exists(item.output))
      throw Error("output exists (use -y to overwrite): '" + item.output + "'");
    if (same_file(item.input, item.output))
      throw Error("refusing to write over the input '" + item.input + "'");
    if (!xunit::cli::is_supported_output(item.output))
      throw Error("unsupported output format '" + item.output + "' (use .png .jpg .bmp .tga .npy)");
    Image img = xunit::cli::load_image(item.input,
                                       o.max_pixels ? o.max_pixels : xunit::cli::kDefaultMaxPixels);
    if (o.noise_sigma > 0) xunit::cli::add_gaussian_noise(img, o.noise_sigma, o.seed, item.name);
    return img;
  };
  steps.process = [&](const BatchItem &item, const Image &img) {
    const size_t index = size_t(&item - items.data());
    bar.update(index, items.size(), item.name, 0.f);
    if (o.no_model) return img;
    xunit::cli::RestoreOptions r = ro;
    r.progress = [&](float f) {
      bar.update(index, items.size(), item.name, f);
      return !g_interrupted.load();
    };
    Image out = xunit::cli::restore(model_for(img), img, r);
    bar.update(index, items.size(), item.name, 1.f);
    return out;
  };
  steps.save = [&](const BatchItem &item, const Image &img) {
    xunit::cli::save_image(item.output, img, o.overwrite);
    std::lock_guard<std::mutex> lock(out_mutex);
    ++written;
    if (o.psnr_reference.empty()) return;
    const std::string ref_path =
        folder_refs ? o.psnr_reference + "/" + item.name : o.psnr_reference;
    try {
      const xunit::cli::Quality q = xunit::cli::measure(img, xunit::cli::load_image(ref_path));
      char line[512];
      std::snprintf(line, sizeof line, "%s: PSNR %.2f dB, SSIM %.4f",
                    xunit::printable(file_name(item.output)).c_str(), q.psnr, q.ssim);
      bar.print(line, stdout);
      if (std::isfinite(q.psnr)) psnr_sum += q.psnr, ssim_sum += q.ssim, ++measured;
    } catch (const std::exception &e) {
      throw Error(std::string("--psnr: ") + e.what());
    }
  };
  steps.failed = [&](const BatchItem &item, const std::string &message) {
    bar.print(xunit::printable(
        "xunit-run: " + (items.size() > 1 ? item.name + ": " : std::string()) + message));
  };

  size_t failed = 0;
  try {
    failed = xunit::cli::run_batch(items, steps, g_interrupted);
  } catch (const xunit::cli::Cancelled &) {
    bar.finish();
    std::fprintf(stderr, "xunit-run: interrupted after %zu of %zu files (no partial file left)\n",
                 written, items.size());
    return 130;
  }
  bar.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (measured > 1)
    std::printf("mean: PSNR %.2f dB, SSIM %.4f over %zu files\n", psnr_sum / measured,
                ssim_sum / measured, measured);
  if (!o.quiet && items.size() > 1)
    std::fprintf(stderr, "xunit-run: %zu of %zu files written to %s in %.1f s\n", written,
                 items.size(), xunit::printable(o.output).c_str(), seconds);
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char **argv) {
  RunOptions o;
  try {
    o = xunit::cli::parse_run_options(argc, argv);
  } catch (const xunit::cli::UsageError &e) {
    std::fprintf(stderr, "xunit-run: %s (see --help)\n", xunit::printable(e.message).c_str());
    return 2;
  }
  try {
    if (o.help) {
      std::fputs(xunit::cli::kRunUsage, stdout);
      return 0;
    }
    if (o.list_models) {
      const std::vector<std::string> found = xunit::cli::shipped_models();
      if (found.empty()) throw Error("no shipped models found (set XUNIT_MODEL_DIR)");
      for (const std::string &m : found)
        std::printf("%s\n", xunit::cli::summarize_model(m).c_str());
      return 0;
    }
    if (!o.info.empty()) {
      std::fputs(xunit::cli::describe_model(xunit::cli::find_model(o.info)).c_str(), stdout);
      return 0;
    }
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    return run(o);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "xunit-run: %s\n", xunit::printable(e.what()).c_str());
    return 1;
  }
}
