// g_xdense (MODELS.md, "Dense xUnit Networks"), both variants of the official code:
//   denoiser: image_to_features = xModule (conv3x3 -> xUnitD with BN -> BN); dense blocks of
//     layers x -> cat([x, xModule(relu(BN(conv1x1(relu(BN(x))))))]) with transitions
//     relu(BN(x)) -> conv1x1 between them; y = features_to_image(h) + x.
//   super-resolution: PReLU (one shared slope) in place of every BN -> ReLU, no BN in the
//     xModules, then the xSRGAN upsampler, hrconv and bilinear skip.
// The variant, block list, growth rate, bottleneck width and xUnit kernel come from the shapes.
#include "common/error.h"
#include "converter/families/family_registry.h"

namespace xunit::convert {

namespace {

constexpr float kSlope = 0.1f;

class DenseBuilder {
 public:
  DenseBuilder(GraphBuilder &b, WeightSource &w, float eps, bool sr)
      : b_(b), w_(w), eps_(eps), sr_(sr) {}

  // xUnitD: x * sigmoid(BN(dw(relu(BN(conv1x1(x)))))); the BNs fold into the convs after them.
  int xunit_dense(const std::string &p, int x) {
    const int c = b_.channels(x);
    BatchNorm bn1, bn4;
    if (!sr_) {
      bn1 = take_batchnorm(w_, p + ".features.1", c, eps_);
      bn4 = take_batchnorm(w_, p + ".features.4", c, eps_);
    }
    int a = b_.conv(p + ".features.0", x, c, 1, 1, sr_ ? nullptr : &bn1);
    a = b_.unary(OpType::Relu, a, p + ".features.2");
    const std::vector<int64_t> dw = w_.shape_of(p + ".features.3.weight");
    XUNIT_CHECK(dw.size() == 4 && dw[2] == dw[3],
                p + ".features.3.weight: expected a square depthwise kernel");
    kernel_ = int(dw[2]);
    int logits = b_.conv(p + ".features.3", a, c, kernel_, c, sr_ ? nullptr : &bn4);
    return b_.binary(OpType::Gate, x, logits, p + ".gate");
  }

  // xModule: conv3x3 -> xUnitD (-> BN for the denoiser).
  int x_module(const std::string &p, int x) {
    const int out = int(w_.conv_shape(p + ".features.0.weight")[0]);
    int h = xunit_dense(p + ".features.1", b_.conv(p + ".features.0", x, out, 3));
    if (!sr_) h = b_.affine(p + ".features.2", h, take_batchnorm(w_, p + ".features.2", out, eps_));
    return h;
  }

  // BN -> ReLU at slots i, i+1 (denoiser) or a PReLU at slot i (SR); returns the next slot.
  int pre_activation(const std::string &p, int slot, int x, int *next_slot) {
    const std::string key = p + ".features." + std::to_string(slot);
    *next_slot = slot + (sr_ ? 1 : 2);
    if (sr_) return b_.prelu(key, x);
    int a = b_.affine(key, x, take_batchnorm(w_, key, b_.channels(x), eps_));
    return b_.unary(OpType::Relu, a, p + ".features." + std::to_string(slot + 1));
  }

  // A dense layer: cat([x, xModule(pre(conv1x1(pre(x))))]).
  int dense_layer(const std::string &p, int x) {
    int slot = 0;
    int t = pre_activation(p, slot, x, &slot);
    const std::string conv = p + ".features." + std::to_string(slot);
    const int mid = int(w_.conv_shape(conv + ".weight")[0]);
    XUNIT_CHECK(!w_.has(conv + ".bias"),
                conv + ": the bottleneck conv of a dense layer has no bias");
    if (sr_) {
      t = b_.conv(conv, t, mid, 1);
      t = b_.prelu(p + ".features." + std::to_string(slot + 1), t);
      slot += 2;
    } else {
      BatchNorm bn = take_batchnorm(w_, p + ".features." + std::to_string(slot + 1), mid, eps_);
      t = b_.conv(conv, t, mid, 1, 1, &bn);
      t = b_.unary(OpType::Relu, t, p + ".features." + std::to_string(slot + 2));
      slot += 3;
    }
    const int f = x_module(p + ".features." + std::to_string(slot), t);
    growth_ = b_.channels(f);
    bottleneck_ = mid;
    return b_.concat({x, f}, p + ".cat");
  }

  // Transition: pre(x) -> conv1x1 without bias.
  int transition(const std::string &p, int x) {
    int slot = 0;
    int t = pre_activation(p, slot, x, &slot);
    const std::string conv = p + ".features." + std::to_string(slot);
    XUNIT_CHECK(!w_.has(conv + ".bias"), conv + ": a transition conv has no bias");
    return b_.conv(conv, t, int(w_.conv_shape(conv + ".weight")[0]), 1);
  }

  int kernel_ = 7, growth_ = 0, bottleneck_ = 0;

 private:
  GraphBuilder &b_;
  WeightSource &w_;
  float eps_;
  bool sr_;
};

}  // namespace

bool xdense_is_sr(const WeightSource &w) { return w.has("usample.0.conv.weight"); }

int build_xdense(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                 std::map<std::string, std::string> &meta) {
  const float eps = s.get_float("eps", 1e-5f);
  const bool sr = xdense_is_sr(w);
  const std::vector<int64_t> first = w.conv_shape("image_to_features.features.0.weight");
  XUNIT_CHECK(first[2] == 3, "image_to_features.features.0.weight: expected a 3x3 conv");
  const int channels = int(first[1]);
  DenseBuilder d(b, w, eps, sr);
  int h = d.x_module("image_to_features", input);
  const int features = b.channels(h);
  std::string blocks, growths;
  const int stages = w.max_index("features") + 1;
  XUNIT_CHECK(stages >= 1, "no dense blocks (features.0) in the checkpoint");
  for (int i = 0; i < stages; ++i) {
    const std::string p = "features." + std::to_string(i);
    if (w.has(p + ".features.0.features.0.weight")) {  // a dense block of layers
      const int layers = w.max_index(p + ".features") + 1;
      for (int l = 0; l < layers; ++l) h = d.dense_layer(p + ".features." + std::to_string(l), h);
      blocks += (blocks.empty() ? "" : ",") + std::to_string(layers);
      growths += (growths.empty() ? "" : ",") + std::to_string(d.growth_);
    } else {
      XUNIT_CHECK(w.has(p + ".features.0.weight"),
                  "'" + p + "' is neither a dense block nor a transition");
      h = d.transition(p, h);
    }
  }
  meta["num_features"] = std::to_string(features);
  meta["gen_blocks"] = blocks;
  meta["growth_rate"] =
      growths.find(',') == std::string::npos ? growths : growths.substr(0, growths.find(','));
  meta["bn_size_x_growth"] = std::to_string(d.bottleneck_);
  meta["xunit_kernel"] = std::to_string(d.kernel_);
  meta["task"] = sr ? "sr" : "denoise";
  if (!sr) {
    XUNIT_CHECK(!w.has("hrconv.weight"), "hrconv.weight without an upsampler (usample.0.conv)");
    int y = b.conv("features_to_image", h, channels, 5);
    return b.binary(OpType::Add, y, input, "residual");
  }
  const int f = b.channels(h);
  const int up = w.max_index("usample") + 1;
  XUNIT_CHECK(up >= 1 && up <= 3, "usample: expected 1 to 3 upsampling stages (scale 2, 4 or 8)");
  const int scale = 1 << up;
  XUNIT_CHECK(
      s.get_int("scale", scale) == scale,
      "--set scale does not match the checkpoint, which upsamples by " + std::to_string(scale));
  int skip = b.upsample_bilinear(input, scale, "skip_upsample");
  for (int j = 0; j < up; ++j) {
    const std::string p = "usample." + std::to_string(j);
    int t = b.pixel_shuffle(b.conv(p + ".conv", h, 4 * f, 3), 2, p + ".shuffle");
    h = b.unary(OpType::LeakyRelu, t, p + ".lrelu", kSlope);
  }
  h = b.unary(OpType::LeakyRelu, b.conv("hrconv", h, f, 3), "hrconv.lrelu", kSlope);
  int y = b.conv("features_to_image", h, channels, 5);
  return b.binary(OpType::Add, y, skip, "residual");
}

}  // namespace xunit::convert
