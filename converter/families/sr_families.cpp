// g_xsrgan and g_srgan (MODELS.md):
//   r = bilinear(x, scale); h = lrelu(image_to_features(x)); h = blocks(h);
//   h = log2(scale) x lrelu(pixel_shuffle2(usample.j.conv(h)));
//   y = features_to_image(lrelu(hrconv(h))) + r
#include "common/error.h"
#include "converter/families/family_registry.h"

namespace xunit::convert {

namespace {

constexpr float kSlope = 0.1f;

int build_sr(GraphBuilder &b, WeightSource &w, Settings &s, int input,
             std::map<std::string, std::string> &meta, bool with_xunit) {
  std::vector<int64_t> first = w.conv_shape("image_to_features.weight");
  XUNIT_CHECK(first[2] == 5, "image_to_features.weight: expected a 5x5 conv");
  const int channels = int(first[1]), features = int(first[0]);
  const int blocks = w.max_index("features") + 1;
  const int stages = w.max_index("usample") + 1;
  XUNIT_CHECK(stages >= 1 && stages <= 3,
              "usample: expected 1 to 3 upsampling stages (scale 2, 4 or 8)");
  const int scale = 1 << stages;
  XUNIT_CHECK(
      s.get_int("scale", scale) == scale,
      "--set scale does not match the checkpoint, which upsamples by " + std::to_string(scale));
  int kernel = 0;
  if (with_xunit) kernel = b.xunit_kernel("features.0.xunit");

  int skip = b.upsample_bilinear(input, scale, "skip_upsample");
  int h =
      b.unary(OpType::LeakyRelu, b.conv("image_to_features", input, features, 5), "lrelu", kSlope);
  for (int i = 0; i < blocks; ++i) {
    const std::string p = "features." + std::to_string(i);
    int t = b.conv(p + ".conv1", h, features, 3);
    t = with_xunit ? b.xunit(p + ".xunit", t, s.get_float("eps", 1e-5f))
                   : b.unary(OpType::Relu, t, p + ".relu");
    int u = b.conv(p + ".conv2", t, features, 3);
    h = b.binary(OpType::Add, h, u, p + ".residual");
  }
  for (int j = 0; j < stages; ++j) {
    const std::string p = "usample." + std::to_string(j);
    int t = b.conv(p + ".conv", h, 4 * features, 3);
    t = b.pixel_shuffle(t, 2, p + ".shuffle");
    h = b.unary(OpType::LeakyRelu, t, p + ".lrelu", kSlope);
  }
  h = b.unary(OpType::LeakyRelu, b.conv("hrconv", h, features, 3), "hrconv.lrelu", kSlope);
  int y = b.conv("features_to_image", h, channels, 5);
  meta["num_features"] = std::to_string(features);
  meta["gen_blocks"] = std::to_string(blocks);
  if (with_xunit) meta["xunit_kernel"] = std::to_string(kernel);
  return b.binary(OpType::Add, y, skip, "residual");
}

}  // namespace

int build_xsrgan(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                 std::map<std::string, std::string> &meta) {
  return build_sr(b, w, s, input, meta, true);
}

int build_srgan(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                std::map<std::string, std::string> &meta) {
  return build_sr(b, w, s, input, meta, false);
}

}  // namespace xunit::convert
