#include "cli/model_catalog.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "common/error.h"
#include "common/file_io.h"
#include "common/printable.h"
#include "xunit/xunit.h"

namespace xunit::cli {

namespace {

std::string executable_dir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  const std::string p(buf, size_t(n));
  return p.substr(0, p.find_last_of('/'));
}

bool ends_with(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct ModelHandle {
  xunit_model *m = nullptr;
  explicit ModelHandle(const std::string &path) {
    if (xunit_model_load(path.c_str(), &m) != XUNIT_OK) throw Error(xunit_last_error());
  }
  ~ModelHandle() { xunit_model_free(m); }
};

// Metadata values are text from the file: escaped for the terminal.
std::string meta(const xunit_model *m, const char *key) {
  const char *v = xunit_model_get_metadata(m, key);
  return v ? printable(v) : "";
}

std::string base_name(const std::string &path) {
  std::string n = path.substr(path.find_last_of('/') + 1);
  return ends_with(n, ".xunit") ? n.substr(0, n.size() - 6) : n;
}

}  // namespace

std::vector<std::string> model_dirs() {
  std::vector<std::string> dirs;
  if (const char *env = std::getenv("XUNIT_MODEL_DIR"); env && *env) dirs.push_back(env);
  const std::string exe = executable_dir();
  dirs.push_back(exe + "/../../models");
  dirs.push_back(exe + "/../share/xunit/models");
#ifdef XUNIT_INSTALL_MODEL_DIR
  dirs.push_back(XUNIT_INSTALL_MODEL_DIR);  // the configured install prefix, if the tools moved
#endif
  dirs.push_back(exe + "/models");
  return dirs;
}

std::string find_model(const std::string &name) {
  if (file_exists(name) && !is_directory(name)) return name;
  if (name.find('/') == std::string::npos) {
    const std::string file = ends_with(name, ".xunit") ? name : name + ".xunit";
    for (const std::string &d : model_dirs())
      if (file_exists(d + "/" + file)) return d + "/" + file;
  }
  std::string looked;
  for (const std::string &d : model_dirs()) looked += (looked.empty() ? "" : ", ") + d;
  throw Error("no model '" + name + "' (not a file, nor a shipped model in " + looked +
              "; see --list-models)");
}

std::string default_model(int channels, int scale) {
  if (scale == 1) return find_model(channels == 1 ? "xdncnn-gray" : "xdncnn-color");
  return find_model("xsrgan-x" + std::to_string(scale));
}

ModelChoice choose_model(const std::string &requested, int scale, int colour_channels,
                         bool gray_content) {
  const std::string color = "xdncnn-color", gray = "xdncnn-gray";
  if (scale > 1) return {default_model(colour_channels, scale), ""};
  const bool gray_wanted = colour_channels == 1 || gray_content;
  if (requested.empty()) {
    if (colour_channels != 3 || !gray_content) return {default_model(colour_channels, 1), ""};
    try {
      return {find_model(gray),
              "gray content in a color file: denoised with " + gray + " (written as color)"};
    } catch (const Error &) {
      return {default_model(colour_channels, 1), ""};  // no gray denoiser shipped
    }
  }
  const bool by_name = requested.find('/') == std::string::npos &&
                       !(file_exists(requested) && !is_directory(requested));
  const std::string name = ends_with(requested, ".xunit") ? base_name(requested) : requested;
  if (!by_name || (name != color && name != gray) || (name == gray) == gray_wanted)
    return {find_model(requested), ""};
  const std::string other = name == color ? gray : color;
  try {
    return {find_model(other), std::string(gray_wanted ? "gray" : "color") +
                                   " content: denoised with " + other + " instead of " + name +
                                   " (give the model file's path to run " + name + ")"};
  } catch (const Error &) {
    return {find_model(requested), ""};  // the other one is not shipped here
  }
}

std::vector<std::string> shipped_models() {
  for (const std::string &d : model_dirs()) {
    std::vector<std::string> found;
    if (DIR *dir = opendir(d.c_str())) {
      while (dirent *e = readdir(dir)) {
        const std::string n = e->d_name;
        if (n[0] != '.' && ends_with(n, ".xunit")) found.push_back(d + "/" + n);
      }
      closedir(dir);
    }
    if (!found.empty()) {
      std::sort(found.begin(), found.end());
      return found;
    }
  }
  return {};
}

std::string summarize_model(const std::string &path) {
  ModelHandle h(path);
  xunit_model_info info;
  info.struct_size = sizeof info;
  xunit_model_get_info(h.m, &info);
  std::string task = info.task == XUNIT_TASK_DENOISE
                         ? "denoise"
                         : "super-resolution x" + std::to_string(info.scale);
  std::string line = printable(base_name(path)) + "  " + task + ", " +
                     (info.in_channels == 1   ? "gray"
                      : info.in_channels == 3 ? "color"
                                              : std::to_string(info.in_channels) + " channels");
  const std::string title = meta(h.m, "title");
  if (!title.empty()) line += "  - " + title;
  return line;
}

std::string describe_model(const std::string &path) {
  ModelHandle h(path);
  xunit_model_info info;
  info.struct_size = sizeof info;
  xunit_model_get_info(h.m, &info);
  std::string s = printable(path) + "\n";
  s += "  task:             " +
       std::string(info.task == XUNIT_TASK_DENOISE ? "denoising" : "super-resolution") +
       (info.scale > 1 ? " x" + std::to_string(info.scale) : "") + "\n";
  s += "  family:           " + printable(info.family) + "\n";
  s += "  channels:         " + std::to_string(info.in_channels) + " in, " +
       std::to_string(info.out_channels) + " out\n";
  s += "  receptive field:  " + std::to_string(info.receptive_field) + " px\n";
  if (info.noise_level_input)
    s +=
        "  noise level:      an input (sigma in 8-bit levels: estimated, or fixed by the caller)\n";
  s += "  parameters:       " + std::to_string(info.parameters) + "\n";
  for (const char *key :
       {"title", "num_features", "gen_blocks", "num_convs", "xunit_kernel", "weights_dtype",
        "training", "validation", "source_format", "source_sha256", "converter_version"}) {
    const std::string v = meta(h.m, key);
    if (!v.empty())
      s += "  " + std::string(key) + ":" +
           std::string(size_t(std::max<int>(1, 18 - int(std::string(key).size()))), ' ') + v + "\n";
  }
  return s;
}

}  // namespace xunit::cli
