// g_xdncnn and g_dncnn (MODELS.md): y = features_to_image(features(image_to_features(x))) + x.
#include "common/error.h"
#include "converter/families/family_registry.h"

namespace xunit::convert {

namespace {

struct DenoiseShape {
  int channels, features, blocks;
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

// Block: xunit(conv3x3(BN(x))), BN over the block's input channels (before the conv); the xUnit
// is xUnitS in the official code, the vanilla xUnit where a user swapped it in.
int build_xdncnn(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                 std::map<std::string, std::string> &meta) {
  const float eps = s.get_float("eps", 1e-5f);
  const DenoiseShape shape = infer_shape(w);
  const int kernel = b.xunit_kernel("image_to_features.xunit");
  auto block = [&](const std::string &prefix, int x) {
    BatchNorm bn = take_batchnorm(w, prefix + ".bn", b.channels(x), eps);
    int a = b.affine(prefix + ".bn", x, bn);
    int c = b.conv(prefix + ".conv", a, shape.features, 3);
    return b.xunit(prefix + ".xunit", c, eps);
  };
  int h = block("image_to_features", input);
  for (int i = 0; i < shape.blocks; ++i) h = block("features." + std::to_string(i), h);
  meta["num_features"] = std::to_string(shape.features);
  meta["gen_blocks"] = std::to_string(shape.blocks);
  meta["xunit_kernel"] = std::to_string(kernel);
  return tail(b, h, input, shape.channels);
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
