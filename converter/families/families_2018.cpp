// The xUnit authors' 2018 code (the CVPR 2018 paper's; MODELS.md "The paper's original xUnit"):
// module cells x1 = conv_k(x), y = x1 * exp(-(BN(dw(relu(BN(x1)))))^2), keys
// `<p>.features.0` (conv), `<p>.module.0` (BN), `.module.2` (dw conv), `.module.3` (BN).
//   xdncnn2018:    md1.0 cell; md2..mdN: mdI.0 BN, mdI.1 cell; joints conv3x3; clean = x - net(x)
//   xsrcnn2018:    md1.0 cell (k 9), md2.0 cell, joints conv5x5 on the bicubic-upsampled Y
//   xsrresnet2018: conv1 9x9 + prelu1; xresidual_blockI: x + bn1(conv2(md(x))); conv2 + bn2 + skip;
//                  upsampleI: prelu(pixel_shuffle2(conv)); conv3 9x9
#include "common/error.h"
#include "converter/families/family_registry.h"

namespace xunit::convert {

namespace {

// One module cell under `p` from `input` to the conv's output channels; returns the gated value.
// The BN before the ReLU stays an affine op (zero padding comes after it); the one after the dw
// conv folds into it.
int cell(GraphBuilder &b, WeightSource &w, const std::string &p, int input, float eps,
         std::map<std::string, std::string> &meta) {
  const std::vector<int64_t> conv = w.conv_shape(p + ".features.0.weight");
  const int c = int(conv[0]);
  const int x1 = b.conv(p + ".features.0", input, c, int(conv[2]));
  int a = b.affine(p + ".module.0", x1, take_batchnorm(w, p + ".module.0", c, eps));
  a = b.unary(OpType::Relu, a, p + ".module.1");
  const std::vector<int64_t> dw = w.conv_shape(p + ".module.2.weight");
  XUNIT_CHECK(dw[0] == c && dw[1] == 1,
              "key '" + p + ".module.2.weight': expected a depthwise conv");
  const BatchNorm bn = take_batchnorm(w, p + ".module.3", c, eps);
  const int logits = b.conv(p + ".module.2", a, c, int(dw[2]), c, &bn);
  meta["xunit_kernel"] = std::to_string(dw[2]);
  meta["xunit_gate"] = "gaussian";
  return b.binary(OpType::GateGaussian, x1, logits, p + ".gate");
}

}  // namespace

int build_xdncnn2018(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                     std::map<std::string, std::string> &meta) {
  const float eps = s.get_float("eps", 1e-5f);
  int h = cell(b, w, "md1.0", input, eps, meta);
  int cells = 1;
  for (int i = 2; w.has("md" + std::to_string(i) + ".1.features.0.weight"); ++i, ++cells) {
    const std::string p = "md" + std::to_string(i);
    h = b.affine(p + ".0", h, take_batchnorm(w, p + ".0", b.channels(h), eps));
    h = cell(b, w, p + ".1", h, eps, meta);
  }
  const int channels = b.channels(input);
  const int noise = b.conv("joints", h, channels, 3);
  meta["num_features"] = std::to_string(b.channels(h));
  meta["gen_blocks"] = std::to_string(cells);
  meta["residual"] = "the network predicts the noise: clean = x - net(x)";
  return b.binary(OpType::Sub, input, noise, "clean");
}

int build_xsrcnn2018(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                     std::map<std::string, std::string> &meta) {
  const float eps = s.get_float("eps", 1e-5f);
  // The network works at the output size on an image already upsampled: its scale is the
  // user's to state (the checkpoint does not say it).
  const int scale = s.get_int("scale", 0);
  XUNIT_CHECK(scale == 0 || (scale >= 2 && scale <= 8), "--set scale: expected 2 to 8");
  int h = cell(b, w, "md1.0", input, eps, meta);
  h = cell(b, w, "md2.0", h, eps, meta);
  const std::vector<int64_t> joints = w.conv_shape("joints.weight");
  // xunit-run's SRCNN pipeline (cli/ycbcr_sr.h): bicubic x sr_scale, BT.601 YCbCr, Y restored.
  meta["pipeline"] = "ycbcr_bicubic";
  if (scale) meta["sr_scale"] = std::to_string(scale);
  meta["task"] = "sr";
  return b.conv("joints", h, b.channels(input), int(joints[2]));
}

int build_xsrresnet2018(GraphBuilder &b, WeightSource &w, Settings &s, int input,
                        std::map<std::string, std::string> &meta) {
  const float eps = s.get_float("eps", 1e-5f);
  const std::vector<int64_t> first = w.conv_shape("conv1.weight");
  const int features = int(first[0]), channels = b.channels(input);
  const int x = b.prelu("prelu1", b.conv("conv1", input, features, int(first[2])));
  int y = x, blocks = 0;
  for (int i = 1; w.has("xresidual_block" + std::to_string(i) + ".conv2.weight"); ++i, ++blocks) {
    const std::string p = "xresidual_block" + std::to_string(i);
    const int m = cell(b, w, p + ".md", y, eps, meta);
    const BatchNorm bn = take_batchnorm(w, p + ".bn1", features, eps);
    y = b.binary(OpType::Add, b.conv(p + ".conv2", m, features, 3, 1, &bn), y, p + ".residual");
  }
  const BatchNorm bn2 = take_batchnorm(w, "bn2", features, eps);
  int h = b.binary(OpType::Add, b.conv("conv2", y, features, 3, 1, &bn2), x, "skip");
  int stages = 0;
  for (int i = 1; w.has("upsample" + std::to_string(i) + ".conv.weight"); ++i, ++stages) {
    const std::string p = "upsample" + std::to_string(i);
    h = b.pixel_shuffle(b.conv(p + ".conv", h, 4 * features, 3), 2, p + ".shuffle");
    h = b.prelu(p + ".prelu", h);
  }
  XUNIT_CHECK(stages >= 1 && stages <= 3, "upsample1..: expected 1 to 3 upsampling stages");
  XUNIT_CHECK(s.get_int("scale", 1 << stages) == 1 << stages,
              "--set scale does not match the checkpoint, which upsamples by " +
                  std::to_string(1 << stages));
  meta["num_features"] = std::to_string(features);
  meta["gen_blocks"] = std::to_string(blocks);
  return b.conv("conv3", h, channels, int(w.conv_shape("conv3.weight")[2]));
}

}  // namespace xunit::convert
