#include "engine/graph.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "engine/resize_taps.h"

namespace xunit {

namespace {
struct OpName {
  OpType type;
  const char *name;
};
constexpr OpName kOpNames[] = {
    {OpType::Conv2d, "conv2d"},
    {OpType::Affine, "affine"},
    {OpType::Relu, "relu"},
    {OpType::LeakyRelu, "leaky_relu"},
    {OpType::PRelu, "prelu"},
    {OpType::Sigmoid, "sigmoid"},
    {OpType::Gate, "gate"},
    {OpType::Add, "add"},
    {OpType::Mul, "mul"},
    {OpType::PixelShuffle, "pixel_shuffle"},
    {OpType::UpsampleBilinear, "upsample_bilinear"},
    {OpType::Concat, "concat"},
    {OpType::Resize, "resize"},
    {OpType::PixelShuffleDcr, "pixel_shuffle_dcr"},
};
}  // namespace

const char *dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return "fp32";
    case DType::F16:
      return "fp16";
    case DType::BF16:
      return "bf16";
  }
  return "?";
}

size_t dtype_size(DType dtype) { return dtype == DType::F32 ? 4 : 2; }

const char *op_type_name(OpType type) {
  for (const auto &entry : kOpNames)
    if (entry.type == type) return entry.name;
  return "?";
}

bool op_type_from_name(const std::string &name, OpType *out) {
  for (const auto &entry : kOpNames)
    if (name == entry.name) {
      *out = entry.type;
      return true;
    }
  return false;
}

size_t Tensor::numel() const {
  size_t n = 1;
  for (int64_t d : shape) n *= size_t(d);
  return n;
}

int Graph::add_input(const std::string &name, int channels) {
  Value v;
  v.name = name;
  v.channels = channels;
  values.push_back(v);
  input = int(values.size()) - 1;
  return input;
}

int Graph::add_tensor(const std::string &name, std::vector<int64_t> shape,
                      std::vector<float> data) {
  XUNIT_CHECK(find_tensor(name) < 0, "duplicate tensor name '" + name + "'");
  Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  XUNIT_CHECK(t.numel() == data.size(),
              "tensor '" + name + "': data size does not match its shape");
  t.set_owned(std::move(data));
  tensors.push_back(std::move(t));
  return int(tensors.size()) - 1;
}

int Graph::add_op(Op op, const std::string &output_name) {
  XUNIT_CHECK(find_value(output_name) < 0, "duplicate value name '" + output_name + "'");
  Value v;
  v.name = output_name;
  values.push_back(v);
  op.output = int(values.size()) - 1;
  if (op.name.empty()) op.name = output_name;
  // Infer the new value's channels now so builders can read them; validate_and_infer() repeats
  // the checks over the whole graph.
  std::vector<bool> defined(values.size(), false);
  for (size_t v = 0; v + 1 < values.size(); ++v) defined[v] = values[v].channels > 0;
  infer(op, defined);
  ops.push_back(std::move(op));
  return ops.back().output;
}

int Graph::find_tensor(const std::string &name) const {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == name) return int(i);
  return -1;
}

int Graph::find_value(const std::string &name) const {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == name) return int(i);
  return -1;
}

namespace {

// Limits that keep every size computed from a (possibly hostile) graph far from overflow.
constexpr int kMaxChannels = 1 << 16;
constexpr int kMaxKernel = 31;
constexpr int kMaxFactor = 8;
constexpr int kMaxScale = 64;

void expect_tensor(const Graph &g, const Op &op, int id, const char *role,
                   const std::vector<int64_t> &shape) {
  std::string where = "op '" + op.name + "' (" + op_type_name(op.type) + "): ";
  XUNIT_CHECK(id >= 0 && size_t(id) < g.tensors.size(), where + "missing " + role + " tensor");
  const Tensor &t = g.tensors[size_t(id)];
  if (t.shape != shape) {
    std::string want, got;
    for (auto d : shape) want += (want.empty() ? "" : "x") + std::to_string(d);
    for (auto d : t.shape) got += (got.empty() ? "" : "x") + std::to_string(d);
    throw Error(where + role + " tensor '" + t.name + "' has shape [" + got + "], expected [" +
                want + "]");
  }
}

}  // namespace

void Graph::infer(const Op &op, std::vector<bool> &defined) {
  std::string where = "op '" + op.name + "' (" + op_type_name(op.type) + "): ";
  XUNIT_CHECK(op.output >= 0 && size_t(op.output) < values.size(), where + "bad output value");
  if (defined.size() < values.size()) defined.resize(values.size(), false);
  XUNIT_CHECK(!defined[size_t(op.output)],
              where + "redefines value '" + values[size_t(op.output)].name + "'");
  XUNIT_CHECK(!op.inputs.empty(), where + "has no inputs");
  for (int id : op.inputs) {
    XUNIT_CHECK(id >= 0 && size_t(id) < values.size(), where + "references an unknown value");
    XUNIT_CHECK(defined[size_t(id)], where + "uses value '" + values[size_t(id)].name +
                                         "' before it is defined (graph not in topological order)");
  }
  const Value &a = values[size_t(op.inputs[0])];
  int channels = a.channels, scale = a.scale, radius = a.radius;
  auto expect_arity = [&](size_t n) {
    XUNIT_CHECK(op.inputs.size() == n, where + "expects " + std::to_string(n) + " input(s)");
  };
  auto same_grid = [&]() {
    for (int id : op.inputs) {
      const Value &b = values[size_t(id)];
      XUNIT_CHECK(b.scale == scale, where + "inputs have different resolutions");
      radius = std::max(radius, b.radius);
    }
  };
  switch (op.type) {
    case OpType::Conv2d: {
      expect_arity(1);
      XUNIT_CHECK(op.kernel >= 1 && op.kernel <= kMaxKernel && op.kernel % 2 == 1,
                  where + "kernel must be odd and at most " + std::to_string(kMaxKernel));
      XUNIT_CHECK(op.in_channels == a.channels,
                  where + "in_channels " + std::to_string(op.in_channels) +
                      " does not match its input's " + std::to_string(a.channels));
      XUNIT_CHECK(op.out_channels >= 1 && op.out_channels <= kMaxChannels,
                  where + "bad out_channels");
      XUNIT_CHECK(
          op.groups >= 1 && op.in_channels % op.groups == 0 && op.out_channels % op.groups == 0,
          where + "groups must divide the channel counts");
      expect_tensor(*this, op, op.weight, "weight",
                    {op.out_channels, op.in_channels / op.groups, op.kernel, op.kernel});
      if (op.bias >= 0) expect_tensor(*this, op, op.bias, "bias", {op.out_channels});
      channels = op.out_channels;
      radius += op.kernel / 2;
      break;
    }
    case OpType::Affine:
      expect_arity(1);
      expect_tensor(*this, op, op.scale, "scale", {channels});
      expect_tensor(*this, op, op.shift, "shift", {channels});
      break;
    case OpType::Relu:
    case OpType::Sigmoid:
    case OpType::LeakyRelu:
      expect_arity(1);
      break;
    case OpType::PRelu: {
      expect_arity(1);
      XUNIT_CHECK(op.slope >= 0 && size_t(op.slope) < tensors.size(),
                  where + "missing slope tensor");
      size_t n = tensors[size_t(op.slope)].numel();
      XUNIT_CHECK(tensors[size_t(op.slope)].shape.size() == 1 && (n == 1 || n == size_t(channels)),
                  where + "slope must have 1 or C values");
      break;
    }
    case OpType::Gate:
    case OpType::Add:
    case OpType::Mul:
      expect_arity(2);
      XUNIT_CHECK(values[size_t(op.inputs[1])].channels == channels,
                  where + "inputs have different channel counts");
      same_grid();
      break;
    case OpType::PixelShuffle:
    case OpType::PixelShuffleDcr:
      expect_arity(1);
      XUNIT_CHECK(op.factor >= 2 && op.factor <= kMaxFactor, where + "bad factor");
      XUNIT_CHECK(channels % (op.factor * op.factor) == 0,
                  where + "channels not divisible by factor^2");
      channels /= op.factor * op.factor;
      scale *= op.factor;
      radius = radius * op.factor + op.factor - 1;
      break;
    case OpType::UpsampleBilinear:
      expect_arity(1);
      XUNIT_CHECK(op.factor >= 2 && op.factor <= kMaxFactor, where + "bad factor");
      scale *= op.factor;
      radius = (radius + 1) * op.factor;
      break;
    case OpType::Resize:
      expect_arity(1);
      XUNIT_CHECK(op.factor >= 2 && op.factor <= kMaxFactor, where + "bad factor");
      XUNIT_CHECK(op.resize_mode >= 0 && op.resize_mode <= int(ResizeMode::Cubic),
                  where + "unknown resize mode");
      XUNIT_CHECK(op.coordinates >= 0 && op.coordinates <= int(ResizeCoordinates::Asymmetric),
                  where + "unknown coordinate mode");
      XUNIT_CHECK(op.nearest_rounding >= 0 && op.nearest_rounding <= int(NearestRounding::Ceil),
                  where + "unknown nearest rounding");
      XUNIT_CHECK(std::isfinite(op.cubic_a) && std::fabs(op.cubic_a) <= 4.f,
                  where + "cubic coefficient out of range");
      scale *= op.factor;
      radius = (radius + resize_reach(op)) * op.factor;
      break;
    case OpType::Concat: {
      XUNIT_CHECK(op.inputs.size() >= 2, where + "expects at least 2 inputs");
      same_grid();
      long total = 0;
      for (int id : op.inputs) total += values[size_t(id)].channels;
      XUNIT_CHECK(total <= kMaxChannels, where + "too many channels");
      channels = int(total);
      break;
    }
  }
  XUNIT_CHECK(scale <= kMaxScale, where + "resolution scale too large");
  Value &out = values[size_t(op.output)];
  out.channels = channels;
  out.scale = scale;
  out.radius = radius;
  defined[size_t(op.output)] = true;
}

void Graph::validate_and_infer() {
  XUNIT_CHECK(input >= 0 && size_t(input) < values.size(), "graph has no input");
  XUNIT_CHECK(output >= 0 && size_t(output) < values.size(), "graph has no output");
  std::vector<bool> defined(values.size(), false);
  defined[size_t(input)] = true;
  Value &in = values[size_t(input)];
  XUNIT_CHECK(in.channels >= 1 && in.channels <= kMaxChannels,
              "graph input has an invalid channel count");
  in.scale = 1;
  in.radius = 0;
  for (const Op &op : ops) infer(op, defined);
  XUNIT_CHECK(defined[size_t(output)],
              "graph output '" + values[size_t(output)].name + "' is never computed");
}

int Graph::halo() const {
  const Value &out = values.at(size_t(output));
  return (out.radius + out.scale - 1) / out.scale;
}

size_t Graph::parameter_count() const {
  size_t n = 0;
  for (const auto &t : tensors) n += t.numel();
  return n;
}

}  // namespace xunit
