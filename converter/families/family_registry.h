// The model families the converter knows, how each is recognised from its keys, and how each
// is turned into a graph.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "converter/families/family_builder.h"
#include "converter/settings.h"
#include "converter/state_dict.h"
#include "engine/graph.h"

namespace xunit::convert {

struct Family {
  const char *name;
  const char *task;  // "denoise" or "sr"; null when the build decides (sets meta["task"])
  bool (*matches)(const WeightSource &w);
  // Adds the network to `graph` (input already added); returns the output value.
  int (*build)(GraphBuilder &b, WeightSource &w, Settings &s, int input,
               std::map<std::string, std::string> &meta);
  // The image's channels, where the first conv reads more than the image (null: it reads the
  // image alone, and its input channels are the image's).
  int (*image_channels)(const WeightSource &w) = nullptr;
};

const std::vector<Family> &families();

// Builds the graph of `arch` (or of the only family whose keys match when arch is empty),
// validates it, and fills the metadata (family, task, scale, channels, receptive field...).
Graph build_graph(const StateDict &dict, const std::string &arch,
                  const std::map<std::string, std::string> &settings);

// Families defined in their own files.
int build_xdncnn(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                 std::map<std::string, std::string> &meta);
int xdncnn_image_channels(const WeightSource &w);
int build_dncnn(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                std::map<std::string, std::string> &meta);
int build_xsrgan(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                 std::map<std::string, std::string> &meta);
int build_srgan(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                std::map<std::string, std::string> &meta);
int build_xdense(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                 std::map<std::string, std::string> &meta);
int build_xdncnn2018(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                     std::map<std::string, std::string> &meta);
int build_xsrcnn2018(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                     std::map<std::string, std::string> &meta);
int build_xsrresnet2018(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                        std::map<std::string, std::string> &meta);
bool match_kair_dncnn(const WeightSource &w);
int build_kair_dncnn(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                     std::map<std::string, std::string> &meta);
bool match_ffdnet(const WeightSource &w);
int build_ffdnet(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                 std::map<std::string, std::string> &meta);
int ffdnet_image_channels(const WeightSource &w);

}  // namespace xunit::convert
