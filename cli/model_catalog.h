// The shipped models: where xunit-run finds them, which one a request means, how to describe one.
#pragma once
#include <string>
#include <vector>

namespace xunit::cli {

// Folders searched, in order: $XUNIT_MODEL_DIR, models/ of the source tree (from build/bin),
// share/xunit/models of the install prefix (from bin/, then the configured prefix), models/ next
// to the executable.
std::vector<std::string> model_dirs();

// `name` as given when it is a file, else the shipped model of that name (".xunit" optional).
// Throws xunit::Error listing where it looked.
std::string find_model(const std::string &name);

// The shipped model for a task: the color or gray denoiser for an image of `channels` colour
// channels (scale 1), or the super-resolution model of `scale` (2 or 4).
std::string default_model(int channels, int scale);

// The model an image runs with, and why when it is not the obvious one. `requested` is -m as
// given ("" for none), `scale` -s (0 for none). Between the shipped denoisers xdncnn-color and
// xdncnn-gray the image's content decides, when -m is not given or names one of them (a name,
// not a path to a file): gray content (a gray file, or an RGB file of gray content, see
// gray_content in restore.h) gets xdncnn-gray, color content xdncnn-color; `note` then says so
// where the file's channels or the name asked for the other. A model file given by its path
// is always the one run.
struct ModelChoice {
  std::string path;
  std::string note;  // "" or e.g. "gray content in a color file: denoised with xdncnn-gray"
};
ModelChoice choose_model(const std::string &requested, int scale, int colour_channels,
                         bool gray_content);

// Every shipped model found (first folder that has one wins), sorted by name.
std::vector<std::string> shipped_models();

// Several lines about a model: task, scale, channels, receptive field, parameters, metadata.
std::string describe_model(const std::string &path);
// One line: name, task, scale, channels and title.
std::string summarize_model(const std::string &path);

}  // namespace xunit::cli
