#include "engine/graph.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "engine/ops/footprint.h"
#include "engine/resize_taps.h"

namespace xunit {

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

size_t Tensor::numel() const {
  size_t n = 1;
  for (int64_t d : shape) n *= size_t(d);
  return n;
}

void Graph::index_value(int id) {
  if (values_indexed_ == size_t(id)) {
    value_index_.emplace(values[size_t(id)].name, id);
    values_indexed_ = size_t(id) + 1;
  }
}

int Graph::add_input(const std::string &name, int channels) {
  Value v;
  v.name = name;
  v.channels = channels;
  values.push_back(v);
  input = int(values.size()) - 1;
  index_value(input);
  return input;
}

int Graph::append_tensor(Tensor t) {
  XUNIT_CHECK(find_tensor(t.name) < 0, "duplicate tensor name '" + t.name + "'");
  tensors.push_back(std::move(t));
  int id = int(tensors.size()) - 1;
  if (tensors_indexed_ == size_t(id)) {
    tensor_index_.emplace(tensors.back().name, id);
    tensors_indexed_ = size_t(id) + 1;
  }
  return id;
}

int Graph::add_tensor(const std::string &name, std::vector<int64_t> shape,
                      std::vector<float> data) {
  Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  XUNIT_CHECK(t.numel() == data.size(),
              "tensor '" + name + "': data size does not match its shape");
  t.set_owned(std::move(data));
  return append_tensor(std::move(t));
}

int Graph::add_op(Op op, const std::string &output_name) {
  XUNIT_CHECK(find_value(output_name) < 0, "duplicate value name '" + output_name + "'");
  Value v;
  v.name = output_name;
  values.push_back(v);
  op.output = int(values.size()) - 1;
  index_value(op.output);
  if (op.name.empty()) op.name = output_name;
  // Infer the new value's channels now so builders can read them; validate_and_infer() repeats
  // the checks over the whole graph.
  infer(op, nullptr);
  ops.push_back(std::move(op));
  return ops.back().output;
}

namespace {

// Looks `name` up in `index` when it covers the whole vector (and the entry still carries the
// name); otherwise scans.
template <typename T>
int find_named(const std::vector<T> &items, const std::unordered_map<std::string, int> &index,
               size_t indexed, const std::string &name) {
  if (indexed == items.size()) {
    auto it = index.find(name);
    if (it == index.end()) return -1;
    if (size_t(it->second) < items.size() && items[size_t(it->second)].name == name)
      return it->second;
  }
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].name == name) return int(i);
  return -1;
}

}  // namespace

int Graph::find_tensor(const std::string &name) const {
  return find_named(tensors, tensor_index_, tensors_indexed_, name);
}

int Graph::find_value(const std::string &name) const {
  return find_named(values, value_index_, values_indexed_, name);
}

namespace {

// Limits that keep every size computed from a (possibly hostile) graph far from overflow.
constexpr int kMaxChannels = 1 << 16;
constexpr int kMaxKernel = 31;
constexpr int kMaxFactor = 8;
constexpr int kMaxDilation = 16;
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

void Graph::infer(const Op &op, std::vector<bool> *defined_or_null) {
  std::string where = "op '" + op.name + "' (" + op_type_name(op.type) + "): ";
  XUNIT_CHECK(op.output >= 0 && size_t(op.output) < values.size(), where + "bad output value");
  if (defined_or_null && defined_or_null->size() < values.size())
    defined_or_null->resize(values.size(), false);
  auto is_defined = [&](int id) {
    if (defined_or_null) return bool((*defined_or_null)[size_t(id)]);
    return id != op.output && values[size_t(id)].channels > 0;
  };
  XUNIT_CHECK(!is_defined(op.output),
              where + "redefines value '" + values[size_t(op.output)].name + "'");
  XUNIT_CHECK(!op.inputs.empty(), where + "has no inputs");
  for (int id : op.inputs) {
    XUNIT_CHECK(id >= 0 && size_t(id) < values.size(), where + "references an unknown value");
    XUNIT_CHECK(is_defined(id), where + "uses value '" + values[size_t(id)].name +
                                    "' before it is defined (graph not in topological order)");
  }
  const OpTraits &traits = op_traits(op.type);
  const int n_inputs = int(op.inputs.size());
  XUNIT_CHECK(
      n_inputs >= traits.min_inputs && (traits.max_inputs < 0 || n_inputs <= traits.max_inputs),
      where + "expects " +
          (traits.min_inputs == traits.max_inputs
               ? std::to_string(traits.min_inputs)
               : "at least " + std::to_string(traits.min_inputs)) +
          " input(s)");
  const Value &a = values[size_t(op.inputs[0])];
  int channels = a.channels, scale = a.scale;
  for (int id : op.inputs)
    XUNIT_CHECK(values[size_t(id)].scale == scale, where + "inputs have different resolutions");
  switch (traits.op_class) {
    case OpClass::Conv: {
      XUNIT_CHECK(op.kernel >= 1 && op.kernel <= kMaxKernel && op.kernel % 2 == 1,
                  where + "kernel must be odd and at most " + std::to_string(kMaxKernel));
      XUNIT_CHECK(
          op.type != OpType::Conv2d ? op.dilation >= 1 && op.dilation <= kMaxDilation
                                    : op.dilation == 1,
          where + "dilation must be 1 to " + std::to_string(kMaxDilation) + " (and 1 for conv2d)");
      XUNIT_CHECK(op.type == OpType::BorderConv2d
                      ? op.border == int(BorderMode::Reflect) || op.border == int(BorderMode::Edge)
                      : op.border == int(BorderMode::Zero),
                  where + "bad border mode");
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
      break;
    }
    case OpClass::Unary:
      if (op.type == OpType::Affine) {
        expect_tensor(*this, op, op.scale, "scale", {channels});
        expect_tensor(*this, op, op.shift, "shift", {channels});
      }
      if (op.type == OpType::PRelu) {
        XUNIT_CHECK(op.slope >= 0 && size_t(op.slope) < tensors.size(),
                    where + "missing slope tensor");
        size_t n = tensors[size_t(op.slope)].numel();
        XUNIT_CHECK(
            tensors[size_t(op.slope)].shape.size() == 1 && (n == 1 || n == size_t(channels)),
            where + "slope must have 1 or C values");
      }
      break;
    case OpClass::Binary:
      XUNIT_CHECK(values[size_t(op.inputs[1])].channels == channels,
                  where + "inputs have different channel counts");
      break;
    case OpClass::Resample:
      XUNIT_CHECK(op.factor >= 2 && op.factor <= kMaxFactor, where + "bad factor");
      if (op.type == OpType::PixelShuffle || op.type == OpType::PixelShuffleDcr) {
        XUNIT_CHECK(channels % (op.factor * op.factor) == 0,
                    where + "channels not divisible by factor^2");
        channels /= op.factor * op.factor;
      }
      if (op.type == OpType::ConvTranspose2d) {
        // Only upsampling by exactly the stride: output_padding = s - k + 2p in [0, s).
        const int output_padding = op.factor - op.kernel + 2 * op.padding;
        XUNIT_CHECK(op.kernel >= op.factor + op.padding && op.kernel <= kMaxKernel &&
                        op.padding >= 0 && output_padding >= 0 && output_padding < op.factor,
                    where + "kernel " + std::to_string(op.kernel) + ", stride " +
                        std::to_string(op.factor) + " and padding " + std::to_string(op.padding) +
                        " do not upsample by the stride");
        XUNIT_CHECK(
            op.in_channels == a.channels && op.out_channels >= 1 && op.out_channels <= kMaxChannels,
            where + "bad channel counts");
        expect_tensor(*this, op, op.weight, "weight",
                      {op.in_channels, op.out_channels, op.kernel, op.kernel});
        if (op.bias >= 0) expect_tensor(*this, op, op.bias, "bias", {op.out_channels});
        channels = op.out_channels;
      }
      if (op.type == OpType::Resize) {
        XUNIT_CHECK(op.resize_mode >= 0 && op.resize_mode <= int(ResizeMode::Cubic),
                    where + "unknown resize mode");
        XUNIT_CHECK(op.coordinates >= 0 && op.coordinates <= int(ResizeCoordinates::Asymmetric),
                    where + "unknown coordinate mode");
        XUNIT_CHECK(op.nearest_rounding >= 0 && op.nearest_rounding <= int(NearestRounding::Ceil),
                    where + "unknown nearest rounding");
        XUNIT_CHECK(std::isfinite(op.cubic_a) && std::fabs(op.cubic_a) <= 4.f,
                    where + "cubic coefficient out of range");
      }
      scale *= op.factor;
      break;
    case OpClass::Unshuffle:
      // The engine streams the unshuffled image (input_factor): only the input is unshuffled,
      // once, and nothing else reads the full-resolution input.
      XUNIT_CHECK(op.inputs[0] == input && input_factor_ == 1,
                  where +
                      "a pixel unshuffle (space-to-depth) is supported only as the first "
                      "op on the network's input");
      XUNIT_CHECK(op.factor >= 2 && op.factor <= kMaxFactor, where + "bad factor");
      XUNIT_CHECK(int64_t(channels) * op.factor * op.factor <= kMaxChannels,
                  where + "too many channels");
      channels *= op.factor * op.factor;
      input_factor_ = op.factor;
      stream_input_ = op.output;
      break;
    case OpClass::RunInput:  // only the noise level map: one channel, its input's resolution
      XUNIT_CHECK(std::isfinite(op.level_scale), where + "scale must be finite");
      channels = 1;
      break;
    case OpClass::Concat: {
      long total = 0;
      for (int id : op.inputs) total += values[size_t(id)].channels;
      XUNIT_CHECK(total <= kMaxChannels, where + "too many channels");
      channels = int(total);
      break;
    }
  }
  // The attributes are valid now (so its arithmetic stays small): the receptive field grows by
  // the op's footprint over its first input; other inputs are read pixel for pixel.
  int radius = op_radius(op, a.radius);
  for (int id : op.inputs) radius = std::max(radius, values[size_t(id)].radius);
  XUNIT_CHECK(scale <= kMaxScale, where + "resolution scale too large");
  Value &out = values[size_t(op.output)];
  out.channels = channels;
  out.scale = scale;
  out.radius = radius;
  if (defined_or_null) (*defined_or_null)[size_t(op.output)] = true;
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
  input_factor_ = 1;
  stream_input_ = input;
  for (const Op &op : ops) infer(op, &defined);
  XUNIT_CHECK(defined[size_t(output)],
              "graph output '" + values[size_t(output)].name + "' is never computed");
  if (input_factor_ > 1) {
    int readers = 0;
    for (const Op &op : ops) {
      for (int id : op.inputs) readers += id == input;
      // FFDNet's map has the unshuffled image's size: it reads the unshuffle's output.
      XUNIT_CHECK(op.type != OpType::NoiseLevelMap || op.inputs[0] != input,
                  "a noise-level map at the input's size beside its pixel unshuffle is not "
                  "supported (FFDNet's map has the unshuffled image's size: convert KAIR's .pth "
                  "file, family ffdnet, rather than an ONNX export)");
    }
    XUNIT_CHECK(readers == 1 && output != input,
                "the network's input is read besides its pixel unshuffle, which is not supported");
    XUNIT_CHECK(values[size_t(output)].scale % input_factor_ == 0,
                "the network's output is smaller than its input (a pixel unshuffle by " +
                    std::to_string(input_factor_) + " and upsampling by " +
                    std::to_string(values[size_t(output)].scale) +
                    "), which is not supported: the scale must be a whole number");
  }
}

int Graph::halo() const {
  const Value &out = values.at(size_t(output));
  return (out.radius + out.scale - 1) / out.scale;
}

int Graph::receptive_radius() const { return (halo() + 1) * input_factor_ - 1; }

bool Graph::noise_level_input() const {
  for (const Op &op : ops)
    if (op.type == OpType::NoiseLevelMap) return true;
  return false;
}

size_t Graph::parameter_count() const {
  size_t n = 0;
  for (const auto &t : tensors) n += t.numel();
  return n;
}

}  // namespace xunit
