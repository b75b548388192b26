// xunit-run: restore image files or folders with an .xunit model through the C API.
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <system_error>
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

const char *const kOutputs = ".png .jpg .webp .tif .bmp .tga .npy";

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

// A regular file, or a symbolic link to one (not a folder, FIFO, socket or device).
bool is_regular_file(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// A folder's files: those to do, and those skipped with the reason (reported in the final count).
// Hidden files (.name) and subfolders are left alone: -i is not recursive.
void list_inputs(const std::string &dir, std::vector<std::string> *names,
                 std::vector<std::string> *skipped) {
  DIR *d = opendir(dir.c_str());
  if (!d) throw Error("cannot open folder '" + dir + "': " + std::strerror(errno));
  std::vector<std::string> all;
  while (dirent *e = readdir(d))
    if (e->d_name[0] != '.') all.push_back(e->d_name);
  closedir(d);
  std::sort(all.begin(), all.end());
  for (const std::string &n : all) {
    struct stat st;
    if (::stat((dir + "/" + n).c_str(), &st) != 0) {
      skipped->push_back(n + " (" + std::strerror(errno) + ")");  // e.g. a dangling link
    } else if (S_ISDIR(st.st_mode)) {
      continue;
    } else if (!S_ISREG(st.st_mode)) {
      // Only regular files are opened: a FIFO would block the reading for ever.
      skipped->push_back(n + " (not a regular file)");
    } else if (!xunit::cli::is_supported_input(n)) {
      skipped->push_back(n + " (unsupported format)");
    } else {
      names->push_back(n);
    }
  }
}

bool same_file(const std::string &a, const std::string &b) {
  char ra[PATH_MAX], rb[PATH_MAX];
  return realpath(a.c_str(), ra) && realpath(b.c_str(), rb) && std::string(ra) == rb;
}

// The real path of an existing path; "" when it does not exist.
std::string real_path(const std::string &path) {
  char r[PATH_MAX];
  return realpath(path.c_str(), r) ? std::string(r) : std::string();
}

// "a", "a and b", "a, b and c", at most `most` names then "and N more".
std::string name_list(const std::vector<std::string> &names, size_t most = 4) {
  std::string s;
  const size_t shown = names.size() > most ? most : names.size();
  for (size_t i = 0; i < shown; ++i) {
    if (i) s += i + 1 == names.size() ? " and " : ", ";
    s += names[i];
  }
  if (shown < names.size()) s += " and " + std::to_string(names.size() - shown) + " more";
  return s;
}

// Before any work: no two inputs may become one output, no output may be an input, and without
// -y no output may exist already. Each is refused with one line naming the files.
void check_outputs(const std::vector<BatchItem> &items, bool overwrite) {
  std::set<std::string> inputs;
  for (const BatchItem &item : items) inputs.insert(real_path(item.input));
  // Outputs by where they would be (the real path of their folder and their name).
  std::map<std::string, std::vector<const BatchItem *>> by_output;
  std::vector<std::string> order;
  for (const BatchItem &item : items) {
    std::string where = real_path(item.output);
    if (where.empty()) {
      const size_t slash = item.output.find_last_of('/');
      const std::string dir =
          slash == std::string::npos ? "." : item.output.substr(0, slash == 0 ? 1 : slash);
      const std::string real_dir = real_path(dir);
      where = (real_dir.empty() ? dir : real_dir) + "/" + item.output.substr(slash + 1);
    }
    if (!by_output.count(where)) order.push_back(where);
    by_output[where].push_back(&item);
  }
  std::vector<std::string> collisions, over_inputs, existing;
  for (const std::string &where : order) {
    const std::vector<const BatchItem *> &from = by_output[where];
    const bool is_input = inputs.count(where) != 0;
    if (from.size() > 1) {
      std::vector<std::string> names;
      for (const BatchItem *item : from) names.push_back(item->name);
      collisions.push_back(name_list(names, names.size()) + (from.size() == 2 ? " both" : " all") +
                           " become " + from[0]->output + (is_input ? " (an input)" : ""));
    } else if (is_input) {
      over_inputs.push_back(from[0]->input);
    } else if (!overwrite && xunit::file_exists(from[0]->output)) {
      existing.push_back(from[0]->output);
    }
  }
  if (!collisions.empty()) {
    std::string line = "outputs collide: ";
    for (size_t i = 0; i < collisions.size() && i < 3; ++i) line += (i ? "; " : "") + collisions[i];
    if (collisions.size() > 3)
      line += "; and " + std::to_string(collisions.size() - 3) + " more (use -o elsewhere or -f)";
    throw Error(line);
  }
  XUNIT_CHECK(over_inputs.empty(), "refusing to write over the input" +
                                       std::string(over_inputs.size() > 1 ? "s " : " ") +
                                       name_list(over_inputs) + " (choose another -o)");
  XUNIT_CHECK(existing.empty(),
              std::string(existing.size() > 1 ? "outputs exist" : "output exists") +
                  " (use -y to overwrite): " + name_list(existing));
}

std::string parent_of(const std::string &path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

// Outputs go into `folder`: it must be a writable folder, or (`creatable`) one that can be made
// in its nearest existing ancestor. Checked before any work, so that nothing is done in vain.
void check_writable(const std::string &folder, bool creatable) {
  std::string p = folder;
  while (!xunit::file_exists(p)) {
    XUNIT_CHECK(creatable, "cannot create output in '" + folder + "': No such file or directory");
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    p = parent_of(p);
  }
  XUNIT_CHECK(xunit::is_directory(p),
              "cannot create output folder '" + folder + "': '" + p + "' is not a folder");
  if (access(p.c_str(), W_OK | X_OK) != 0)
    throw Error("cannot write to " +
                (p == folder ? "output folder '" + folder + "'"
                             : "'" + p + "' (to create the output folder '" + folder + "')") +
                ": " + std::strerror(errno));
}

// mkdir -p: the folder and the missing ones above it.
void make_folders(const std::string &folder) {
  for (size_t end = 1; end <= folder.size(); ++end) {
    if (end < folder.size() && folder[end] != '/') continue;
    const std::string part = folder.substr(0, end);
    if (part.back() == '/' || xunit::is_directory(part)) continue;
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
      throw Error("cannot create output folder '" + part + "': " + std::strerror(errno));
  }
}

// The files to do: one, or every supported file of a folder, all outputs checked first.
std::vector<BatchItem> plan_items(const RunOptions &o, std::vector<std::string> *skipped) {
  std::vector<BatchItem> items;
  if (!xunit::is_directory(o.input)) {
    if (!xunit::file_exists(o.input))
      throw Error("cannot open '" + o.input + "': No such file or directory");
    XUNIT_CHECK(is_regular_file(o.input), "'" + o.input + "' is not a regular file");
    if (xunit::is_directory(o.output))
      throw Error("-o is a folder but -i is a file: '" + o.output + "'");
    XUNIT_CHECK(xunit::cli::is_supported_output(o.output),
                "unsupported output format '" + o.output + "' (use " + kOutputs + ")");
    items.push_back({file_name(o.input), o.input, o.output});
    check_outputs(items, o.overwrite);
    check_writable(parent_of(o.output), false);
    return items;
  }
  if (xunit::file_exists(o.output))
    XUNIT_CHECK(xunit::is_directory(o.output),
                "-i is a folder but -o is a file: '" + o.output + "'");
  else
    XUNIT_CHECK(!xunit::cli::is_supported_output(o.output),
                "-i is a folder but -o '" + o.output +
                    "' names an image file; give a folder (a trailing / makes one of that name)");
  std::vector<std::string> names;
  list_inputs(o.input, &names, skipped);
  XUNIT_CHECK(!names.empty(),
              "no supported images in folder '" + o.input + "'" +
                  (skipped->empty() ? "" : " (skipped " + name_list(*skipped) + ")"));
  for (const std::string &n : names)
    items.push_back({n, o.input + "/" + n, o.output + "/" + with_format(n, o.format)});
  check_outputs(items, o.overwrite);
  check_writable(o.output, true);
  return items;
}

int32_t precision_of(const std::string &p) {
  return p == "bf16"   ? XUNIT_PRECISION_BF16
         : p == "auto" ? XUNIT_PRECISION_AUTO
                       : XUNIT_PRECISION_FP32;
}

int run(const RunOptions &o) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::string> skipped;  // in a folder: files not done, with the reason
  const std::vector<BatchItem> items = plan_items(o, &skipped);
  const bool folder = xunit::is_directory(o.input);
  // --psnr: each file's reference, found before any work (by name, else by stem).
  std::vector<std::string> references(items.size(), o.psnr_reference);
  XUNIT_CHECK(o.psnr_reference.empty() || xunit::file_exists(o.psnr_reference),
              "--psnr: no such file or folder '" + o.psnr_reference + "'");
  if (!o.psnr_reference.empty() && xunit::is_directory(o.psnr_reference)) {
    const xunit::cli::ReferenceFolder folder_refs(o.psnr_reference);
    std::vector<std::string> problems;
    for (size_t i = 0; i < items.size(); ++i) try {
        references[i] = folder_refs.find(items[i].name);
      } catch (const Error &e) {
        problems.push_back(e.what());
      }
    if (!problems.empty())
      throw Error("--psnr: " + problems[0] +
                  (problems.size() > 1
                       ? "; and " + std::to_string(problems.size() - 1) + " more file(s)"
                       : std::string()));
  }
  const size_t max_pixels = o.max_pixels ? o.max_pixels : xunit::cli::kDefaultMaxPixels;

  auto load_item = [&](const BatchItem &item) {
    XUNIT_CHECK(is_regular_file(item.input), "'" + item.input + "' is not a regular file");
    if (!o.overwrite && xunit::file_exists(item.output))
      throw Error("output exists (use -y to overwrite): '" + item.output + "'");
    if (same_file(item.input, item.output))
      throw Error("refusing to write over the input '" + item.input + "'");
    if (!xunit::cli::is_supported_output(item.output))
      throw Error("unsupported output format '" + item.output + "' (use " + kOutputs + ")");
    Image img = xunit::cli::load_image(item.input, max_pixels);
    if (o.noise_sigma > 0) xunit::cli::add_gaussian_noise(img, o.noise_sigma, o.seed, item.name);
    return img;
  };
  // One call on one image is mostly start-up: the first input decodes (PNG 512x512: ~11 ms)
  // while this thread loads the model and compiles it for the run (~5 + ~5 ms), instead of one
  // after the other. A model that fails still fails here, before any file is written.
  std::future<Image> first_input;
  if (!items.empty()) try {
      first_input = std::async(std::launch::async, [&] { return load_item(items[0]); });
    } catch (const std::system_error &) {  // no thread to be had: it loads in its turn
    }
  xunit::cli::ProgressBar bar(!o.quiet);
  // Models: the one given, or per image the shipped one for its content (loaded once each).
  std::map<std::string, ModelPtr> models;
  std::mutex models_mutex;
  auto load_once = [&](const std::string &path) -> const xunit_model * {
    std::lock_guard<std::mutex> lock(models_mutex);
    ModelPtr &m = models[path];
    if (!m) m = load_model(path);
    return m.get();
  };
  // Said once per model, when an image first runs on it (not for one loaded ahead and unused).
  std::set<const xunit_model *> tile_checked;
  auto check_tile = [&](const xunit_model *m) {
    std::lock_guard<std::mutex> lock(models_mutex);
    if (o.quiet || o.tile <= 0 || !tile_checked.insert(m).second) return;
    xunit_model_info info;
    info.struct_size = sizeof info;
    xunit_model_get_info(m, &info);
    if (o.tile < info.receptive_field)
      bar.print("xunit-run: warning: -t " + std::to_string(o.tile) +
                " is narrower than the model's receptive field (halo) of " +
                std::to_string(info.receptive_field) + " pixels: each stripe computes " +
                std::to_string(o.tile + 2 * info.receptive_field) + " columns to produce " +
                std::to_string(o.tile) + " (slow); give a wider -t, or leave it automatic");
  };
  // --sigma N is for models with a noise-level input: a blind one is refused in one line.
  auto check_sigma = [&](const xunit_model *m, const std::string &path) {
    xunit_model_info info{};  // zeroed: a field the library does not fill reads 0
    info.struct_size = sizeof info;
    xunit_model_get_info(m, &info);
    if (o.sigma_auto || info.noise_level_input) return;
    std::string name = file_name(path);
    if (name.size() > 6 && name.compare(name.size() - 6, 6, ".xunit") == 0)
      name.resize(name.size() - 6);
    char given[32];
    std::snprintf(given, sizeof given, "%g", double(o.sigma));
    throw Error(std::string("--sigma ") + given + ": " + name +
                " takes no noise level (a blind model): leave --sigma auto");
  };
  // The model for an image (the content may pick the other shipped denoiser: said in the log,
  // with the noise level for a conditioned model, which is known only once the image is ready
  // to run: `note` is then returned for that line instead of printed).
  struct Chosen {
    const xunit_model *model;
    std::string note;
  };
  auto model_for = [&](const BatchItem &item, const Image &img) {
    const bool alpha = img.bits != 32 && (img.channels == 2 || img.channels == 4);
    const xunit::cli::ModelChoice choice = xunit::cli::choose_model(
        o.model, o.scale, alpha ? img.channels - 1 : img.channels, xunit::cli::gray_content(img));
    const xunit_model *m = load_once(choice.path);
    check_sigma(m, choice.path);
    check_tile(m);
    xunit_model_info info{};
    info.struct_size = sizeof info;
    xunit_model_get_info(m, &info);
    if (info.noise_level_input) return Chosen{m, choice.note};
    if (!o.quiet && !choice.note.empty())
      bar.print(xunit::printable("xunit-run: " + (folder ? item.name + ": " : std::string()) +
                                 choice.note));
    return Chosen{m, ""};
  };
  // The model's plan and primitives for the run's precision (what the first run would make).
  auto compile = [&](const xunit_model *m) {
    xunit_run_options opts;
    xunit_run_options_init(&opts);
    opts.threads = o.threads;
    opts.precision = precision_of(o.precision);
    uint64_t bytes = 0;
    xunit_run_memory_needed(m, &opts, 64, 64, &bytes);  // (a refusal is the run's to report)
  };
  // Fail now, before any file, if the model is bad, or blind with --sigma N (without -m: the
  // shipped models the images may pick).
  if (!o.model.empty()) {
    const std::string path = xunit::cli::find_model(o.model);
    check_sigma(load_once(path), path);
    if (!o.no_model) compile(load_once(path));
  } else if (!o.sigma_auto && !o.no_model) {
    const std::vector<std::string> names =
        o.scale ? std::vector<std::string>{"xsrgan-x" + std::to_string(o.scale)}
                : std::vector<std::string>{"xdncnn-color", "xdncnn-gray"};
    for (const std::string &name : names) {
      std::string path;
      try {
        path = xunit::cli::find_model(name);
      } catch (const Error &) {
        continue;  // not shipped here: the image that needs it fails on its own
      }
      check_sigma(load_once(path), path);
    }
  }
  // Without -m, the model a color image of no gray content takes, as the likeliest (loaded
  // anyway by the first such image; a gray one loads its own).
  if (o.model.empty() && !o.no_model) try {
      compile(load_once(xunit::cli::choose_model("", o.scale, 3, false).path));
    } catch (const Error &) {  // not shipped here: the image that needs it says so
    }
  if (folder) make_folders(o.output);  // only now: a refused run leaves no folder behind

  std::mutex out_mutex;
  size_t written = 0;
  double psnr_sum = 0, ssim_sum = 0;
  size_t measured = 0, unscored = 0;  // unscored: written, but --psnr could not measure it

  xunit::cli::RestoreOptions ro;
  ro.threads = o.threads;
  ro.tile = o.tile;
  ro.precision = precision_of(o.precision);
  ro.tta = o.tta;
  ro.sigma_auto = o.sigma_auto;
  ro.sigma = o.sigma;

  xunit::cli::BatchSteps steps;
  steps.load = [&](const BatchItem &item) {
    if (&item == &items[0] && first_input.valid()) return first_input.get();
    return load_item(item);
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
    const Chosen chosen = model_for(item, img);
    r.on_noise_level = [&, note = chosen.note](float sigma,
                                               xunit::cli::RestoreOptions::LevelSource source) {
      using Source = xunit::cli::RestoreOptions::LevelSource;
      if (o.quiet) return;
      char level[96];
      std::snprintf(level, sizeof level,
                    source == Source::kGiven ? "sigma %g (given)"
                    : source == Source::kEstimated
                        ? "sigma %.1f (estimated)"
                        : "sigma %.1f (estimated; the file's chroma is subsampled)",
                    double(sigma));
      bar.print(xunit::printable("xunit-run: " + (folder ? item.name + ": " : std::string()) +
                                 (note.empty() ? std::string() : note + "; ") + level));
    };
    Image out = xunit::cli::restore(chosen.model, img, r);
    bar.update(index, items.size(), item.name, 1.f);
    return out;
  };
  steps.save = [&](const BatchItem &item, const Image &img) {
    xunit::cli::SaveOptions save;
    save.quality = o.quality;
    save.png_compression = o.png_compression;
    xunit::cli::save_image(item.output, img, o.overwrite, save);
    {
      std::lock_guard<std::mutex> lock(out_mutex);
      ++written;
    }
    if (o.psnr_reference.empty()) return;
    try {
      // The file as written (a JPEG after its compression), read back as any input is.
      const xunit::cli::Quality q =
          xunit::cli::measure(xunit::cli::load_image(item.output, max_pixels),
                              xunit::cli::load_image(references[size_t(&item - items.data())]));
      char line[512];
      std::snprintf(line, sizeof line, "%s: PSNR %.2f dB, SSIM %.4f",
                    xunit::printable(file_name(item.output)).c_str(), q.psnr, q.ssim);
      std::lock_guard<std::mutex> lock(out_mutex);
      bar.print(line, stdout);
      if (std::isfinite(q.psnr)) psnr_sum += q.psnr, ssim_sum += q.ssim, ++measured;
    } catch (const std::exception &e) {  // the file is written: not a failure, but not scored
      std::lock_guard<std::mutex> lock(out_mutex);
      ++unscored;
      bar.print(xunit::printable("xunit-run: " + (folder ? item.name + ": " : std::string()) +
                                 "--psnr: " + e.what()));
    }
  };
  steps.failed = [&](const BatchItem &item, const std::string &message) {
    bar.print(
        xunit::printable("xunit-run: " + (folder ? item.name + ": " : std::string()) + message));
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
  // The final count of a folder: every file is written, failed (its line above) or skipped.
  if (folder && (!o.quiet || !skipped.empty())) {
    std::string line =
        "xunit-run: " + std::to_string(written) + " written to " + xunit::printable(o.output);
    char time[32];
    std::snprintf(time, sizeof time, " in %.1f s", seconds);
    line += time;
    if (failed) line += ", " + std::to_string(failed) + " failed";
    if (unscored) line += ", " + std::to_string(unscored) + " not scored (--psnr)";
    if (!skipped.empty())
      line += ", " + std::to_string(skipped.size()) + " skipped: " + name_list(skipped, 10);
    std::fprintf(stderr, "%s\n", xunit::printable(line).c_str());
  }
  return failed || unscored || !skipped.empty() ? 1 : 0;
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
  // The run's peak is checked against this limit before anything is allocated (restore.cpp and
  // xunit_run read it).
  if (!o.memory_limit.empty()) setenv("XUNIT_MEMORY_LIMIT", o.memory_limit.c_str(), 1);
  try {
    if (o.version) {
      std::printf("xunit-run %s\n", xunit_version());
      return 0;
    }
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
