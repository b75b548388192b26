// KAIR's (github.com/cszn/KAIR) plain conv-ReLU denoisers, the layouts of the .pth files users
// have from it: a Sequential `model` of 3x3 convs (keys model.0, model.2, ...) with a ReLU after
// every conv but the last (slots without keys); its released files have their BatchNorms merged
// into the convs, a file saved while training with act_mode 'BR' has them in a slot after the
// conv (folded here). What the keys cannot tell: dilations (KAIR's IRCNN has this layout with
// dilated convs) and LeakyReLU (act_mode 'L'); such files are not these families.
//
// DnCNN (models/network_dncnn.py; dncnn_15/25/50.pth, dncnn_gray_blind.pth,
// dncnn_color_blind.pth): clean = x - model(x).
//
// FFDNet (models/network_ffdnet.py; ffdnet_gray.pth, ffdnet_color.pth and their _clip variants):
//   x' = x extended to even sides by repeating its last row and column (ReplicationPad2d)
//   y  = pixel_shuffle(model(cat(pixel_unshuffle(x', 2), sigma/255)), 2), cropped to x's size
// The output is the clean image, not a residual.
#include "common/error.h"
#include "converter/families/family_registry.h"

namespace xunit::convert {

namespace {

// The first and the last conv's weight shapes, when the keys are a KAIR conv stack's.
bool stack_shapes(const WeightSource &w, std::vector<int64_t> *first, std::vector<int64_t> *last) {
  if (!w.has("model.0.weight") || w.max_index("model") < 2) return false;
  const std::string last_key = "model." + std::to_string(w.max_index("model")) + ".weight";
  if (!w.has(last_key)) return false;
  *first = w.shape_of("model.0.weight");
  *last = w.shape_of(last_key);
  return first->size() == 4 && last->size() == 4;
}

// The Sequential from model.0: a conv, then a BatchNorm in the next slot where there is one
// (KAIR's act_mode 'BR' before its BatchNorms are merged: folded into the conv, exactly), then
// a ReLU slot (no keys) unless the conv was the last; the last writes `out_channels`.
int conv_stack(GraphBuilder &b, WeightSource &w, Settings &s, int x, int out_channels,
               const std::string &what, const std::string &family,
               std::map<std::string, std::string> &meta) {
  const float eps = s.get_float("eps", 1e-4f);  // KAIR's BatchNorm2d(..., eps=1e-04)
  const int last_slot = w.max_index("model");
  int slot = 0, convs = 0, features = 0, batch_norms = 0;
  for (;;) {
    const std::string key = "model." + std::to_string(slot++);
    XUNIT_CHECK(w.has(key + ".weight"),
                family + ": expected a conv at " + key +
                    " (a conv, a BatchNorm or none, a ReLU slot without keys, a conv, ...)");
    const std::vector<int64_t> shape = w.conv_shape(key + ".weight");
    XUNIT_CHECK(shape[2] == 3, key + ".weight: expected a 3x3 conv");
    const int out = int(shape[0]);
    BatchNorm bn;
    const std::string bn_key = "model." + std::to_string(slot);
    const bool has_bn = w.has(bn_key + ".running_mean");
    if (has_bn) {
      bn = take_batchnorm(w, bn_key, out, eps);
      ++slot, ++batch_norms;
    }
    const bool last = slot > last_slot;
    XUNIT_CHECK(!last || out == out_channels, key + ".weight writes " + std::to_string(out) +
                                                  " channels, expected " +
                                                  std::to_string(out_channels) + " (" + what + ")");
    x = b.conv(key, x, out, 3, 1, has_bn ? &bn : nullptr);
    ++convs;
    if (last) break;
    features = out;
    const std::string relu = "model." + std::to_string(slot++);
    XUNIT_CHECK(!w.has(relu + ".weight") && !w.has(relu + ".bias"),
                family + ": " + relu + " holds weights where a ReLU was expected");
    x = b.unary(OpType::Relu, x, relu);
  }
  meta["num_features"] = std::to_string(features);
  meta["num_convs"] = std::to_string(convs);
  if (batch_norms) meta["batch_norms_folded"] = std::to_string(batch_norms);
  return x;
}

}  // namespace

bool match_kair_dncnn(const WeightSource &w) {
  std::vector<int64_t> first, last;
  return stack_shapes(w, &first, &last) && (first[1] == 1 || first[1] == 3) && last[0] == first[1];
}

int build_kair_dncnn(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                     std::map<std::string, std::string> &meta) {
  const int noise =
      conv_stack(b, w, s, input, b.channels(input), "the image's channels", "kair_dncnn", meta);
  return b.binary(OpType::Sub, input, noise, "residual");
}

bool match_ffdnet(const WeightSource &w) {
  std::vector<int64_t> first, last;
  // a gray or color image's 4 sub-images and the map in, its 4 sub-images out
  return stack_shapes(w, &first, &last) && (first[1] == 5 || first[1] == 13) &&
         last[0] == first[1] - 1;
}

int ffdnet_image_channels(const WeightSource &w) {
  const int64_t in = w.conv_shape("model.0.weight")[1];
  XUNIT_CHECK(in >= 5 && (in - 1) % 4 == 0,
              "model.0.weight reads " + std::to_string(in) +
                  " channels: FFDNet's first conv reads the image's 2x2 sub-images and the "
                  "noise-level map (4 C + 1: 5 gray, 13 color)");
  return int(in - 1) / 4;
}

int build_ffdnet(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                 std::map<std::string, std::string> &meta) {
  const int u = b.unshuffle_input(OpType::PixelUnshuffleEdge, input, 2, "unshuffle");
  const int x = b.concat({u, b.noise_level_map(u, "noise_level")}, "image_and_noise_level");
  const int y =
      conv_stack(b, w, s, x, 4 * b.channels(input), "the image's 2x2 sub-images", "ffdnet", meta);
  meta["noise_level_input"] = "sigma/255";
  return b.pixel_shuffle(y, 2, "shuffle");
}

}  // namespace xunit::convert
