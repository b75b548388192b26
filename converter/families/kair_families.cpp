// KAIR's (github.com/cszn/KAIR) plain conv-ReLU denoisers, the layouts of the .pth files users
// have from it: a Sequential `model` of 3x3 convs at the even slots (keys model.0, model.2, ...)
// with a ReLU after every conv but the last at the odd slots (no keys; its released files have
// their BatchNorms merged into the convs).
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

// The conv slots model.0, model.2, ..., model.<2(n-1)>: their count, checked to be even slots.
int conv_count(const WeightSource &w, const char *family) {
  const int last = w.max_index("model");
  XUNIT_CHECK(last >= 2 && last % 2 == 0,
              std::string(family) +
                  ": expected convs at model.0, model.2, ... (ReLUs between them), the last at "
                  "an even slot; the last slot is model." +
                  std::to_string(last));
  return last / 2 + 1;
}

// The first and the last conv's weight shapes, when the keys are a KAIR conv stack's.
bool stack_shapes(const WeightSource &w, std::vector<int64_t> *first, std::vector<int64_t> *last) {
  if (!w.has("model.0.weight") || w.max_index("model") < 2) return false;
  const std::string last_key = "model." + std::to_string(w.max_index("model")) + ".weight";
  if (!w.has(last_key)) return false;
  *first = w.shape_of("model.0.weight");
  *last = w.shape_of(last_key);
  return first->size() == 4 && last->size() == 4;
}

// The convs with ReLUs between them, from `x`; the last writes `out_channels`.
int conv_stack(GraphBuilder &b, WeightSource &w, int x, int out_channels, const char *what,
               const char *family, std::map<std::string, std::string> &meta) {
  const int convs = conv_count(w, family);
  int features = 0;
  for (int i = 0; i < convs; ++i) {
    const std::string key = "model." + std::to_string(2 * i);
    const std::vector<int64_t> shape = w.conv_shape(key + ".weight");
    XUNIT_CHECK(shape[2] == 3, key + ".weight: expected a 3x3 conv");
    const bool last = i == convs - 1;
    if (last)
      XUNIT_CHECK(shape[0] == out_channels, key + ".weight writes " + std::to_string(shape[0]) +
                                                " channels, expected " +
                                                std::to_string(out_channels) + " (" + what + ")");
    else
      features = int(shape[0]);
    x = b.conv(key, x, int(shape[0]), 3);
    if (!last) x = b.unary(OpType::Relu, x, "model." + std::to_string(2 * i + 1));
  }
  meta["num_features"] = std::to_string(features);
  meta["num_convs"] = std::to_string(convs);
  return x;
}

}  // namespace

bool match_kair_dncnn(const WeightSource &w) {
  std::vector<int64_t> first, last;
  return stack_shapes(w, &first, &last) && first[1] <= 4 && last[0] == first[1];
}

int build_kair_dncnn(GraphBuilder &b, WeightSource &w, Settings &, int input,
                     std::map<std::string, std::string> &meta) {
  const int noise =
      conv_stack(b, w, input, b.channels(input), "the image's channels", "kair_dncnn", meta);
  return b.binary(OpType::Sub, input, noise, "residual");
}

bool match_ffdnet(const WeightSource &w) {
  std::vector<int64_t> first, last;
  // the image's 4 sub-images and the map in, its 4 sub-images out
  return stack_shapes(w, &first, &last) && first[1] >= 5 && (first[1] - 1) % 4 == 0 &&
         last[0] == first[1] - 1;
}

int ffdnet_image_channels(const WeightSource &w) {
  return int(w.conv_shape("model.0.weight")[1] - 1) / 4;
}

int build_ffdnet(GraphBuilder &b, WeightSource &w, Settings &, int input,
                 std::map<std::string, std::string> &meta) {
  const int u = b.unshuffle_input(OpType::PixelUnshuffleEdge, input, 2, "unshuffle");
  const int x = b.concat({u, b.noise_level_map(u, "noise_level")}, "image_and_noise_level");
  const int y =
      conv_stack(b, w, x, 4 * b.channels(input), "the image's 2x2 sub-images", "ffdnet", meta);
  meta["noise_level_input"] = "sigma/255";
  return b.pixel_shuffle(y, 2, "shuffle");
}

}  // namespace xunit::convert
