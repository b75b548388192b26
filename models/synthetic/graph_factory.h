// Networks of the supported families with random weights, built directly in the graph IR (no
// checkpoint, no converter): the same op structure xunit-convert produces, for engine tests and
// benchmarks. Weights are scaled so that activations neither vanish nor explode with depth.
#pragma once
#include <random>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/resize_taps.h"

namespace xunit::synthetic {

class GraphFactory {
 public:
  explicit GraphFactory(unsigned seed) : rng_(seed) {}

  std::vector<float> random(size_t n, float scale, float offset = 0.f) {
    std::normal_distribution<float> d(0.f, 1.f);
    std::vector<float> v(n);
    for (auto &x : v) x = offset + scale * d(rng_);
    return v;
  }
  int conv(Graph &g, int in, int out_c, int k, int groups = 1, bool bias = true) {
    Op op;
    op.type = OpType::Conv2d;
    op.name = "conv" + std::to_string(g.ops.size());
    op.kernel = k;
    op.groups = groups;
    op.in_channels = g.values[size_t(in)].channels;
    op.out_channels = out_c;
    const int icg = op.in_channels / groups;
    const float s = 1.5f / std::sqrt(float(icg * k * k));
    op.weight =
        g.add_tensor(op.name + ".w", {out_c, icg, k, k}, random(size_t(out_c) * icg * k * k, s));
    if (bias) op.bias = g.add_tensor(op.name + ".b", {out_c}, random(size_t(out_c), 0.1f));
    op.inputs = {in};
    return add(g, op);
  }
  int affine(Graph &g, int in) {
    Op op;
    op.type = OpType::Affine;
    op.name = "affine" + std::to_string(g.ops.size());
    int c = g.values[size_t(in)].channels;
    op.scale = g.add_tensor(op.name + ".s", {c}, random(size_t(c), 0.2f, 1.f));
    op.shift = g.add_tensor(op.name + ".t", {c}, random(size_t(c), 0.1f));
    op.inputs = {in};
    return add(g, op);
  }
  int unary(Graph &g, OpType t, int in, float alpha = 0.1f, bool shared_slope = false) {
    Op op;
    op.type = t;
    op.name = std::string(op_type_name(t)) + std::to_string(g.ops.size());
    op.alpha = alpha;
    const int c = shared_slope ? 1 : g.values[size_t(in)].channels;
    if (t == OpType::PRelu)
      op.slope = g.add_tensor(op.name + ".a", {c}, random(size_t(c), 0.1f, 0.2f));
    op.inputs = {in};
    return add(g, op);
  }
  int binary(Graph &g, OpType t, int a, int b) {
    Op op;
    op.type = t;
    op.name = std::string(op_type_name(t)) + std::to_string(g.ops.size());
    op.inputs = {a, b};
    return add(g, op);
  }
  int resize(Graph &g, OpType t, int in, int factor) {
    Op op;
    op.type = t;
    op.name = std::string(op_type_name(t)) + std::to_string(g.ops.size());
    op.factor = factor;
    op.inputs = {in};
    return add(g, op);
  }
  // A resize op (engine/resize_taps.h).
  int resample(Graph &g, int in, int factor, ResizeMode mode, ResizeCoordinates coordinates,
               NearestRounding rounding = NearestRounding::Floor) {
    Op op;
    op.type = OpType::Resize;
    op.name = "resize" + std::to_string(g.ops.size());
    op.factor = factor;
    op.resize_mode = int(mode);
    op.coordinates = int(coordinates);
    op.nearest_rounding = int(rounding);
    op.inputs = {in};
    return add(g, op);
  }
  int concat(Graph &g, std::vector<int> ins) {
    Op op;
    op.type = OpType::Concat;
    op.name = "concat" + std::to_string(g.ops.size());
    op.inputs = std::move(ins);
    return add(g, op);
  }
  int xunit(Graph &g, int x, int k) {
    int logits = conv(g, x, g.values[size_t(x)].channels, k, g.values[size_t(x)].channels);
    return binary(g, OpType::Gate, x, logits);
  }

  // xUnitD: x * sigmoid(dw(relu(conv1x1(x)))) (the BatchNorms folded into the convs).
  int xunit_dense(Graph &g, int x, int k) {
    const int c = g.values[size_t(x)].channels;
    int a = unary(g, OpType::Relu, conv(g, x, c, 1));
    return binary(g, OpType::Gate, x, conv(g, a, c, k, c));
  }

  // A Dense-xUnit-shaped network (MODELS.md g_xdense). Denoiser: BN -> ReLU pre-activations (an
  // affine then a relu), xModule = conv3 -> xUnitD -> BN, tail conv5 + x. SR variant: PReLU
  // with one shared slope instead, xModule without BN, a pixel-shuffle upsampler and hrconv,
  // tail + bilinear skip.
  Graph xdense(int channels, int features, std::vector<int> blocks, int growth, int bn_size,
               int scale = 1, int k = 7) {
    const bool sr = scale > 1;
    Graph g;
    int x = g.add_input("x", channels);
    auto pre = [&](int v) {
      return sr ? unary(g, OpType::PRelu, v, 0.f, true) : unary(g, OpType::Relu, affine(g, v));
    };
    auto x_module = [&](int v, int out) {
      int h = xunit_dense(g, conv(g, v, out, 3), k);
      return sr ? h : affine(g, h);
    };
    int h = x_module(x, features);
    int c = features;
    for (size_t b = 0; b < blocks.size(); ++b) {
      for (int layer = 0; layer < blocks[b]; ++layer) {
        int t = conv(g, pre(h), bn_size * growth, 1, 1, false);
        t = sr ? unary(g, OpType::PRelu, t, 0.f, true) : unary(g, OpType::Relu, t);
        h = concat(g, {h, x_module(t, growth)});
        c += growth;
      }
      if (b + 1 < blocks.size()) {
        c /= 2;
        h = conv(g, pre(h), c, 1, 1, false);
      }
    }
    if (!sr) {
      g.output = binary(g, OpType::Add, conv(g, h, channels, 5), x);
    } else {
      int skip = resize(g, OpType::UpsampleBilinear, x, scale);
      for (int s = scale; s > 1; s /= 2)
        h = unary(g, OpType::LeakyRelu, resize(g, OpType::PixelShuffle, conv(g, h, 4 * c, 3), 2));
      h = unary(g, OpType::LeakyRelu, conv(g, h, c, 3));
      g.output = binary(g, OpType::Add, conv(g, h, channels, 5), skip);
    }
    g.validate_and_infer();
    return g;
  }

  // Feature-space resampling: conv -> resize -> conv, plus a resized skip of the input, and a
  // DCR-ordered depth-to-space branch.
  Graph resampler(int channels, int features, int factor, ResizeMode mode,
                  ResizeCoordinates coordinates,
                  NearestRounding rounding = NearestRounding::Floor) {
    Graph g;
    int x = g.add_input("x", channels);
    int h = unary(g, OpType::LeakyRelu, conv(g, x, features, 3));
    h = conv(g, resample(g, h, factor, mode, coordinates, rounding), features, 3);
    Op dcr;
    dcr.type = OpType::PixelShuffleDcr;
    dcr.name = "dcr" + std::to_string(g.ops.size());
    dcr.factor = factor;
    dcr.inputs = {conv(g, x, features * factor * factor, 3)};
    int d = add(g, dcr);
    h = binary(g, OpType::Add, h, d);
    g.output = binary(g, OpType::Add, conv(g, h, channels, 3),
                      resample(g, x, factor, mode, coordinates, rounding));
    g.validate_and_infer();
    return g;
  }

  // One channel of scale * sigma (the run's noise level) at `in`'s resolution.
  int noise_level_map(Graph &g, int in, float scale = 1.f / 255.f) {
    Op op;
    op.type = OpType::NoiseLevelMap;
    op.name = "noise_level_map" + std::to_string(g.ops.size());
    op.level_scale = scale;
    op.inputs = {in};
    return add(g, op);
  }

  // An xDnCNN-shaped denoiser: [affine -> conv3 -> xunit] x (blocks+1) -> conv5 + x. With
  // noise_map, conditioned on the noise level: the first block reads cat(x, sigma/255 map).
  Graph xdncnn(int channels, int features, int blocks, int k = 7, bool noise_map = false) {
    Graph g;
    int x = g.add_input("x", channels);
    int h = noise_map ? concat(g, {x, noise_level_map(g, x)}) : x;
    for (int i = 0; i <= blocks; ++i) h = xunit(g, conv(g, affine(g, h), features, 3), k);
    g.output = binary(g, OpType::Add, conv(g, h, channels, 5), x);
    g.validate_and_infer();
    return g;
  }
  // The xUnit paper's own xDnCNN (2018 code, MODELS.md): cells x1 = conv_k(h),
  // x1 * exp(-(dw(relu(BN(x1))))^2) (the BN after the dw conv folded), a BN between cells, a
  // 3x3 conv to the channels, and the noise it predicts subtracted: x - net(x).
  Graph xdncnn2018(int channels, int features, int cells, int skernel = 9) {
    Graph g;
    int x = g.add_input("x", channels);
    int h = x;
    for (int i = 0; i < cells; ++i) {
      if (i > 0) h = affine(g, h);
      const int x1 = conv(g, h, features, 3);
      const int logits =
          conv(g, unary(g, OpType::Relu, affine(g, x1)), features, skernel, features);
      h = binary(g, OpType::GateGaussian, x1, logits);
    }
    g.output = binary(g, OpType::Sub, x, conv(g, h, channels, 3));
    g.validate_and_infer();
    return g;
  }
  // A DnCNN-shaped baseline: conv3 (BatchNorm folded) -> relu, (blocks+1) times, conv5 + x.
  Graph dncnn(int channels, int features, int blocks) {
    Graph g;
    int x = g.add_input("x", channels);
    int h = x;
    for (int i = 0; i <= blocks; ++i) h = unary(g, OpType::Relu, conv(g, h, features, 3));
    g.output = binary(g, OpType::Add, conv(g, h, channels, 5), x);
    g.validate_and_infer();
    return g;
  }
  // An xSRGAN-shaped network with every SR op.
  Graph xsrgan(int channels, int features, int blocks, int scale, int k = 7) {
    Graph g;
    int x = g.add_input("x", channels);
    int skip = resize(g, OpType::UpsampleBilinear, x, scale);
    int h = unary(g, OpType::LeakyRelu, conv(g, x, features, 5));
    for (int i = 0; i < blocks; ++i) {
      int t = xunit(g, conv(g, h, features, 3, 1, false), k);
      h = binary(g, OpType::Add, h, conv(g, t, features, 3, 1, false));
    }
    for (int s = scale; s > 1; s /= 2)
      h = unary(g, OpType::LeakyRelu,
                resize(g, OpType::PixelShuffle, conv(g, h, 4 * features, 3), 2));
    h = unary(g, OpType::LeakyRelu, conv(g, h, features, 3));
    g.output = binary(g, OpType::Add, conv(g, h, channels, 5), skip);
    g.validate_and_infer();
    return g;
  }
  // Odd ops and channel counts: concat, prelu, sigmoid, mul, relu, grouped conv, C=20 padding.
  Graph mixed(int channels) {
    Graph g;
    int x = g.add_input("x", channels);
    int a = unary(g, OpType::Relu, conv(g, x, 20, 3));
    int b = unary(g, OpType::PRelu, conv(g, a, 20, 1));
    int c = concat(g, {a, b, x});
    int d = conv(g, c, 24, 3, 1);
    int e = conv(g, d, 24, 3, 4);  // grouped
    int f = unary(g, OpType::Sigmoid, e);
    int m = binary(g, OpType::Mul, d, f);
    int gt = binary(g, OpType::Gate, m, d);  // gate without a dw conv
    int s = unary(g, OpType::Sigmoid, conv(g, gt, 16, 3));
    int y = xunit(g, s, 5);
    g.output = binary(g, OpType::Add, x, conv(g, y, channels, 3));
    g.validate_and_infer();
    return g;
  }

  // Noise level maps wherever the planner may put them: read by a conv through a concat with the
  // image, by a conv alone (its input window, zero padded past the image), at 2x resolution
  // after a pixel shuffle, by a binary op; scales other than 1/255.
  Graph noise_map_net(int channels) {
    Graph g;
    int x = g.add_input("x", channels);
    int h = unary(g, OpType::Relu, conv(g, concat(g, {x, noise_level_map(g, x)}), 16, 3));
    h = binary(g, OpType::Add, h, conv(g, noise_level_map(g, h, 2.f / 255.f), 16, 5));
    int up = resize(g, OpType::PixelShuffle, conv(g, h, 16, 3), 2);  // 4 channels at 2x
    int m = noise_level_map(g, up, 3.f / 255.f);
    h = conv(g, concat(g, {up, m}), 8, 3);
    h = binary(g, OpType::Add, h, conv(g, binary(g, OpType::Mul, m, m), 8, 1));
    g.output = conv(g, h, channels, 3);
    g.validate_and_infer();
    return g;
  }

  // conv -> transposed conv upsampling by `stride` (kernel k, padding p) -> conv.
  Graph conv_transpose_net(int channels, int k, int stride, int p) {
    Graph g;
    int x = g.add_input("x", channels);
    int h = conv(g, x, 12, 3);
    Op op;
    op.type = OpType::ConvTranspose2d;
    op.name = "deconv";
    op.factor = stride;
    op.kernel = k;
    op.padding = p;
    op.in_channels = 12;
    op.out_channels = 10;
    op.weight = g.add_tensor("deconv.w", {12, 10, k, k},
                             random(size_t(12) * 10 * k * k, 1.5f / std::sqrt(12.f * k * k)));
    op.bias = g.add_tensor("deconv.b", {10}, random(10, 0.1f));
    op.inputs = {h};
    g.output = conv(g, add(g, op), channels, 3);
    g.validate_and_infer();
    return g;
  }

  // Tanh wherever the planner can put it: fused into a conv, into the output conv to few
  // channels, after a pixel shuffle, and alone after an add.
  Graph tanh_net(int channels) {
    Graph g;
    int x = g.add_input("x", channels);
    int a = unary(g, OpType::Tanh, conv(g, x, 16, 3));
    int b = unary(g, OpType::Tanh, binary(g, OpType::Add, a, conv(g, a, 16, 3)));
    Op shuffle;
    shuffle.type = OpType::PixelShuffle;
    shuffle.name = "shuffle";
    shuffle.factor = 2;
    shuffle.inputs = {conv(g, b, 16, 3)};
    int s = unary(g, OpType::Tanh, add(g, shuffle));
    g.output = unary(g, OpType::Tanh, conv(g, s, channels, 3));
    g.validate_and_infer();
    return g;
  }

 private:
  int add(Graph &g, Op op) {
    std::string name = op.name;
    return g.add_op(std::move(op), name);
  }
  std::mt19937 rng_;
};

}  // namespace xunit::synthetic
