// g_xdncnn and g_dncnn (MODELS.md): y = features_to_image(features(image_to_features(x))) + x;
// g_xdncnn(noise_map=True) first concatenates to x a channel of sigma/255 (FFDNet's conditioning).
#include "common/error.h"
#include "converter/families/family_registry.h"

namespace xunit::convert {

namespace {

struct DenoiseShape {
  int channels;  // what the first conv reads
  int features, blocks;
};

DenoiseShape infer_shape(WeightSource &w) {
  std::vector<int64_t> first = w.conv_shape("image_to_features.conv.weight");
  DenoiseShape s;
  s.channels = int(first[1]);
  s.features = int(first[0]);
  s.blocks = w.max_index("features") + 1;
  XUNIT_CHECK(first[2] == 3, "image_to_features.conv.weight: expected a 3x3 conv");
  return s;
}

int tail(GraphBuilder &b, int h, int input, int channels) {
  int y = b.conv("features_to_image", h, channels, 5);
  return b.binary(OpType::Add, y, input, "residual");
}

}  // namespace

// The image's channels are what features_to_image writes (the residual adds the image): the
// first conv reads one more when the network is conditioned on the noise level.
int xdncnn_image_channels(const WeightSource &w) {
  return int(w.conv_shape("features_to_image.weight")[0]);
}

// Block: xunit(conv3x3(BN(x))), BN over the block's input channels (before the conv); the xUnit
// is xUnitS in the official code, the vanilla xUnit where a user swapped it in.
int build_xdncnn(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                 std::map<std::string, std::string> &meta) {
  const float eps = s.get_float("eps", 1e-5f);
  const DenoiseShape shape = infer_shape(w);
  const int kernel = b.xunit_kernel("image_to_features.xunit");
  const int channels = b.channels(input);
  XUNIT_CHECK(shape.channels == channels || shape.channels == channels + 1,
              "image_to_features.conv.weight reads " + std::to_string(shape.channels) +
                  " channels where features_to_image.weight writes " + std::to_string(channels) +
                  ": expected as many, or one more (a noise-level map)");
  int first = input;
  if (shape.channels == channels + 1) {  // the map is the last channel, as the model concatenates
    first = b.concat({input, b.noise_level_map(input, "noise_level")}, "image_and_noise_level");
    meta["noise_level_input"] = "sigma/255";
  }
  auto block = [&](const std::string &prefix, int x) {
    BatchNorm bn = take_batchnorm(w, prefix + ".bn", b.channels(x), eps);
    int a = b.affine(prefix + ".bn", x, bn);
    int c = b.conv(prefix + ".conv", a, shape.features, 3);
    return b.xunit(prefix + ".xunit", c, eps);
  };
  int h = block("image_to_features", first);
  for (int i = 0; i < shape.blocks; ++i) h = block("features." + std::to_string(i), h);
  meta["num_features"] = std::to_string(shape.features);
  meta["gen_blocks"] = std::to_string(shape.blocks);
  meta["xunit_kernel"] = std::to_string(kernel);
  return tail(b, h, input, channels);
}

// Block: relu(BN(conv3x3(x))); the BN follows the conv and is folded into it.
int build_dncnn(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                std::map<std::string, std::string> &meta) {
  const float eps = s.get_float("eps", 1e-5f);
  const DenoiseShape shape = infer_shape(w);
  auto block = [&](const std::string &prefix, int x) {
    BatchNorm bn = take_batchnorm(w, prefix + ".bn", shape.features, eps);
    int c = b.conv(prefix + ".conv", x, shape.features, 3, 1, &bn);
    return b.unary(OpType::Relu, c, prefix + ".relu");
  };
  int h = block("image_to_features", input);
  for (int i = 0; i < shape.blocks; ++i) h = block("features." + std::to_string(i), h);
  meta["num_features"] = std::to_string(shape.features);
  meta["gen_blocks"] = std::to_string(shape.blocks);
  return tail(b, h, input, shape.channels);
}

}  // namespace xunit::convert
