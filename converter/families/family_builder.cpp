#include "converter/families/family_builder.h"

#include <cmath>

#include "common/error.h"

namespace xunit::convert {

namespace {
std::string shape_string(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
bool ends_with(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

WeightSource::WeightSource(const StateDict &dict) : dict_(dict) {}

bool WeightSource::has(const std::string &key) const { return dict_.find(key) != nullptr; }

const NamedTensor &WeightSource::take(const std::string &key, const std::vector<int64_t> &shape) {
  const NamedTensor *t = dict_.find(key);
  XUNIT_CHECK(t != nullptr, "missing key '" + key + "'");
  bool ok = t->shape.size() == shape.size();
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = shape[i] < 0 || shape[i] == t->shape[i];
  XUNIT_CHECK(ok, "key '" + key + "' has shape " + shape_string(t->shape) + ", expected " +
                      shape_string(shape));
  for (float v : t->data)
    XUNIT_CHECK(std::isfinite(v), "key '" + key + "' holds a non-finite value");
  used_.insert(key);
  return *t;
}

std::vector<int64_t> WeightSource::shape_of(const std::string &key) const {
  const NamedTensor *t = dict_.find(key);
  XUNIT_CHECK(t != nullptr, "missing key '" + key + "'");
  return t->shape;
}

std::vector<int64_t> WeightSource::conv_shape(const std::string &key) const {
  std::vector<int64_t> shape = shape_of(key);
  XUNIT_CHECK(shape.size() == 4 && shape[2] == shape[3] && shape[0] >= 1 && shape[1] >= 1,
              "key '" + key + "' has shape " + shape_string(shape) +
                  ", expected a square conv weight [out, in, k, k]");
  return shape;
}

void WeightSource::expect_all_used(const std::string &family) const {
  for (const auto &t : dict_.tensors) {
    if (used_.count(t.name) || ends_with(t.name, "num_batches_tracked")) continue;
    throw Error("unexpected key '" + t.name + "' for family " + family +
                " (wrong --arch, or a configuration this converter does not know)");
  }
}

int WeightSource::max_index(const std::string &prefix) const {
  int best = -1;
  const std::string p = prefix + ".";
  for (const auto &t : dict_.tensors) {
    if (t.name.compare(0, p.size(), p) != 0) continue;
    size_t end = t.name.find('.', p.size());
    std::string digits =
        t.name.substr(p.size(), end == std::string::npos ? std::string::npos : end - p.size());
    if (digits.empty() || digits.size() > 6 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    best = std::max(best, std::stoi(digits));
  }
  return best;
}

BatchNorm take_batchnorm(WeightSource &w, const std::string &prefix, int channels, float eps) {
  const auto &gamma = w.take(prefix + ".weight", {channels}).data;
  const auto &beta = w.take(prefix + ".bias", {channels}).data;
  const auto &mean = w.take(prefix + ".running_mean", {channels}).data;
  const auto &var = w.take(prefix + ".running_var", {channels}).data;
  BatchNorm bn;
  for (int c = 0; c < channels; ++c) {
    XUNIT_CHECK(var[size_t(c)] >= 0.f,
                "key '" + prefix + ".running_var' holds a negative variance");
    // Double precision keeps the folded parameters within an ulp of PyTorch's own arithmetic.
    double s = double(gamma[size_t(c)]) / std::sqrt(double(var[size_t(c)]) + double(eps));
    bn.scale.push_back(float(s));
    bn.shift.push_back(float(double(beta[size_t(c)]) - double(mean[size_t(c)]) * s));
  }
  return bn;
}

std::string GraphBuilder::unique(const std::string &name) {
  int n = name_count_[name]++;
  return n == 0 ? name : name + "#" + std::to_string(n);
}

int GraphBuilder::conv(const std::string &prefix, int input, int out_channels, int kernel,
                       int groups, const BatchNorm *fold_after) {
  const int in_channels = channels(input);
  const NamedTensor &wt =
      w_.take(prefix + ".weight", {out_channels, in_channels / groups, kernel, kernel});
  std::vector<float> weight = wt.data;
  std::vector<float> bias(size_t(out_channels), 0.f);
  const bool has_bias = w_.has(prefix + ".bias");
  if (has_bias) bias = w_.take(prefix + ".bias", {out_channels}).data;
  if (fold_after) {
    const size_t per_out = weight.size() / size_t(out_channels);
    for (int o = 0; o < out_channels; ++o) {
      for (size_t i = 0; i < per_out; ++i)
        weight[size_t(o) * per_out + i] *= fold_after->scale[size_t(o)];
      bias[size_t(o)] =
          bias[size_t(o)] * fold_after->scale[size_t(o)] + fold_after->shift[size_t(o)];
    }
  }
  Op op;
  op.type = OpType::Conv2d;
  op.name = unique(prefix);
  op.kernel = kernel;
  op.groups = groups;
  op.in_channels = in_channels;
  op.out_channels = out_channels;
  op.weight = g_.add_tensor(
      op.name + ".weight", {out_channels, in_channels / groups, kernel, kernel}, std::move(weight));
  if (has_bias || fold_after)
    op.bias = g_.add_tensor(op.name + ".bias", {out_channels}, std::move(bias));
  op.inputs = {input};
  return g_.add_op(op, op.name);
}

int GraphBuilder::affine(const std::string &name, int input, const BatchNorm &bn) {
  Op op;
  op.type = OpType::Affine;
  op.name = unique(name);
  const int64_t c = channels(input);
  op.scale = g_.add_tensor(op.name + ".scale", {c}, bn.scale);
  op.shift = g_.add_tensor(op.name + ".shift", {c}, bn.shift);
  op.inputs = {input};
  return g_.add_op(op, op.name);
}

int GraphBuilder::unary(OpType type, int input, const std::string &name, float alpha) {
  Op op;
  op.type = type;
  op.name = unique(name);
  op.alpha = alpha;
  op.inputs = {input};
  return g_.add_op(op, op.name);
}

int GraphBuilder::binary(OpType type, int a, int b, const std::string &name) {
  Op op;
  op.type = type;
  op.name = unique(name);
  op.inputs = {a, b};
  return g_.add_op(op, op.name);
}

int GraphBuilder::prelu(const std::string &prefix, int input) {
  const int c = channels(input);
  const NamedTensor &t = w_.take(prefix + ".weight", {-1});
  XUNIT_CHECK(t.shape[0] == 1 || t.shape[0] == c,
              "key '" + prefix + ".weight' has " + std::to_string(t.shape[0]) +
                  " PReLU slopes, expected 1 or " + std::to_string(c));
  Op op;
  op.type = OpType::PRelu;
  op.name = unique(prefix);
  op.slope = g_.add_tensor(op.name + ".slope", {t.shape[0]}, t.data);
  op.inputs = {input};
  return g_.add_op(op, op.name);
}

int GraphBuilder::concat(const std::vector<int> &inputs, const std::string &name) {
  Op op;
  op.type = OpType::Concat;
  op.name = unique(name);
  op.inputs = inputs;
  return g_.add_op(op, op.name);
}

int GraphBuilder::noise_level_map(int input, const std::string &name) {
  Op op;
  op.type = OpType::NoiseLevelMap;
  op.name = unique(name);
  op.level_scale = 1.f / 255.f;
  op.inputs = {input};
  return g_.add_op(op, op.name);
}

int GraphBuilder::rescale(OpType type, int input, int factor, const std::string &name) {
  Op op;
  op.type = type;
  op.name = unique(name);
  op.factor = factor;
  op.inputs = {input};
  return g_.add_op(op, op.name);
}

int GraphBuilder::pixel_shuffle(int input, int factor, const std::string &name) {
  return rescale(OpType::PixelShuffle, input, factor, name);
}

int GraphBuilder::unshuffle_input(OpType type, int input, int factor, const std::string &name) {
  XUNIT_CHECK(op_traits(type).op_class == OpClass::Unshuffle, "internal error: not an unshuffle");
  return rescale(type, input, factor, name);
}

int GraphBuilder::upsample_bilinear(int input, int factor, const std::string &name) {
  return rescale(OpType::UpsampleBilinear, input, factor, name);
}

namespace {
bool is_vanilla_xunit(const WeightSource &w, const std::string &prefix) {
  return w.has(prefix + ".features.2.weight");  // vanilla's dw conv; xUnitS has its Sigmoid there
}
}  // namespace

int GraphBuilder::xunit_kernel(const std::string &prefix) const {
  const std::string dw =
      prefix + (is_vanilla_xunit(w_, prefix) ? ".features.2" : ".features.0") + ".weight";
  const std::vector<int64_t> shape = w_.shape_of(dw);
  XUNIT_CHECK(shape.size() == 4 && shape[2] == shape[3],
              "key '" + dw + "': expected a square depthwise kernel");
  return int(shape[2]);
}

int GraphBuilder::xunit(const std::string &prefix, int input, float eps) {
  const int c = channels(input), kernel = xunit_kernel(prefix);
  const std::string p = prefix + ".features.";
  if (!is_vanilla_xunit(w_, prefix)) {
    const bool batch_norm = w_.has(p + "1.weight");
    BatchNorm bn;
    if (batch_norm) bn = take_batchnorm(w_, p + "1", c, eps);
    int logits = conv(p + "0", input, c, kernel, c, batch_norm ? &bn : nullptr);
    return binary(OpType::Gate, input, logits, prefix + ".gate");
  }
  // The BN before the ReLU cannot fold into the dw conv (its zero padding comes after the BN).
  int a = input;
  if (w_.has(p + "0.weight")) a = affine(p + "0", a, take_batchnorm(w_, p + "0", c, eps));
  a = unary(OpType::Relu, a, p + "1");
  const bool bn_after = w_.has(p + "3.weight");
  BatchNorm bn;
  if (bn_after) bn = take_batchnorm(w_, p + "3", c, eps);
  int logits = conv(p + "2", a, c, kernel, c, bn_after ? &bn : nullptr);
  return binary(OpType::Gate, input, logits, prefix + ".gate");
}

}  // namespace xunit::convert
