#include "converter/onnx/onnx_import.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <set>

#include "common/error.h"
#include "common/load_budget.h"
#include "converter/onnx/layout_probe.h"
#include "converter/onnx/onnx_model.h"
#include "converter/settings.h"
#include "engine/resize_taps.h"

namespace xunit::convert {

namespace {

using onnx_import::Attributes;
using onnx_import::Constant;
using onnx_import::node_label;
using onnx_import::OnnxModel;
using onnx_import::ProbeTensor;

constexpr int kMaxFactor = 8;

std::string dims_string(const std::vector<int64_t> &dims) {
  std::string s;
  for (int64_t d : dims) s += (s.empty() ? "" : ",") + std::to_string(d);
  return "[" + s + "]";
}

class Importer {
 public:
  Importer(const OnnxModel &model, LoadBudget &budget, Settings &settings)
      : model_(model), graph_(model.graph()), budget_(budget), settings_(settings) {}

  // What a noise-level map input holds per level of sigma; 0 when the graph has none.
  float noise_level_scale() const { return noise_level_scale_; }
  const std::string &noise_input() const { return noise_input_; }

  Graph run() {
    read_constants();
    add_input();
    count_uses();
    find_gaussian_gates();
    for (int i : model_.topological_order(defined_up_front_)) {
      node_order_[&graph_.node(i)] = int(node_order_.size());
      if (!folded_.count(i)) translate(graph_.node(i));
    }
    XUNIT_CHECK(graph_.output_size() == 1, "the ONNX graph has " +
                                               std::to_string(graph_.output_size()) +
                                               " outputs; an image-to-image network has one");
    const std::string &out = graph_.output(0).name();
    XUNIT_CHECK(!consts_.count(out), "the ONNX graph's output '" + out + "' is a constant");
    g_.output = value(out, "the graph output: ");
    g_.validate_and_infer();
    return std::move(g_);
  }

 private:
  // ------------------------------------------------------------------ graph set-up
  void read_constants() {
    for (const auto &t : graph_.initializer()) {
      XUNIT_CHECK(!t.name().empty(), "an initializer has no name");
      XUNIT_CHECK(consts_
                      .emplace(t.name(), std::make_shared<const Constant>(
                                             onnx_import::read_tensor(t, "", &budget_)))
                      .second,
                  "initializer '" + t.name() + "' is defined twice");
      defined_up_front_.insert(t.name());
    }
    XUNIT_CHECK(graph_.sparse_initializer_size() == 0, "sparse initializers are not supported");
  }

  // The image, and optionally a noise-level map: FFDNet-style conditioned denoisers exported
  // with forward(image, level_map), the map (N, 1, H, W) holding the noise level at every pixel
  // (sigma / 255 unless --set noise_level_scale says otherwise). The map becomes the engine's
  // noise_level_map op, filled per row from the run's level (never an image the caller makes).
  // Which input is the map: --set noise_input=NAME, else the one-channel input beside an image
  // of more channels, else (both one channel) the one whose name says so (noise, sigma, level,
  // map), else the question is put back to the user: guessing would feed the image as the map.
  void add_input() {
    std::vector<const onnx::ValueInfoProto *> inputs;
    for (const auto &in : graph_.input())
      if (!consts_.count(in.name()))
        inputs.push_back(&in);  // (old IRs list initializers as inputs)
    XUNIT_CHECK(inputs.size() == 1 || inputs.size() == 2,
                "the ONNX graph has " + std::to_string(inputs.size()) +
                    " non-constant inputs; an image-to-image network has one (and a denoiser "
                    "conditioned on the noise level a second, its map)");
    const std::string named = settings_.get_string("noise_input", "");
    const float level_scale = settings_.get_float("noise_level_scale", 1.f / 255.f);
    XUNIT_CHECK(std::isfinite(level_scale) && level_scale > 0.f,
                "--set noise_level_scale: must be a positive number (what the map holds per "
                "level of sigma: 1/255 = 0.00392157 for sigma/255, 1 for sigma in levels)");
    size_t map = inputs.size();  // none
    if (!named.empty()) {
      for (size_t i = 0; i < inputs.size(); ++i)
        if (inputs[i]->name() == named) map = i;
      XUNIT_CHECK(map < inputs.size() && inputs.size() == 2,
                  "--set noise_input=" + named + ": the graph has no second input of that name");
    } else if (inputs.size() == 2) {
      const int64_t c0 = fixed_channels(*inputs[0]), c1 = fixed_channels(*inputs[1]);
      if (c0 == 1 && c1 != 1) {
        map = 0;
      } else if (c0 != 1 || c1 != 1) {
        map = 1;  // (a second input of more channels: refused below)
      } else {
        const bool n0 = names_a_level(inputs[0]->name()), n1 = names_a_level(inputs[1]->name());
        XUNIT_CHECK(n0 != n1, "the ONNX graph has two one-channel inputs, '" + inputs[0]->name() +
                                  "' and '" + inputs[1]->name() +
                                  "': say which is the noise-level map (--set noise_input=NAME)");
        map = n0 ? 0 : 1;
      }
    } else {
      XUNIT_CHECK(!settings_.has("noise_level_scale"),
                  "--set noise_level_scale: the graph has no noise-level map input");
    }
    const onnx::ValueInfoProto &in = *inputs[map == 0 ? 1 : 0];
    const int image = add_image_input(in, "graph input '" + in.name() + "': ");
    if (map == inputs.size()) return;
    const onnx::ValueInfoProto &m = *inputs[map];
    const std::string where = "graph input '" + m.name() + "' (the noise-level map): ";
    check_tensor_4d(m, where);
    const auto &md = m.type().tensor_type().shape(), &id = in.type().tensor_type().shape();
    XUNIT_CHECK(fixed_channels(m) == 1, where + "must have one channel, (N, 1, H, W)");
    for (int k : {2, 3}) {
      const auto &a = md.dim(k), &b = id.dim(k);
      XUNIT_CHECK(
          !(a.has_dim_value() && a.dim_value() == 1 && !(b.has_dim_value() && b.dim_value() == 1)),
          where +
              "a level per image, (N, 1, 1, 1), is not supported: export the map "
              "at the image's size, (N, 1, H, W)");
      // A map of a fixed size beside an image of another (or of any) size cannot follow the
      // image; different names of dynamic sizes prove nothing (torch names each input's its own).
      const bool differ =
          a.has_dim_value() && (!b.has_dim_value() || a.dim_value() != b.dim_value());
      XUNIT_CHECK(!differ, where + (k == 2 ? "its height" : "its width") + " (" + dim_text(a) +
                               ") is not the image's (" + dim_text(b) + ")");
    }
    Op op;
    op.type = OpType::NoiseLevelMap;
    op.name = m.name();
    op.level_scale = level_scale;
    op.inputs = {image};
    values_[m.name()] = g_.add_op(op, m.name());
    defined_up_front_.insert(m.name());
    noise_level_scale_ = level_scale;
    noise_input_ = m.name();
  }

  static void check_tensor_4d(const onnx::ValueInfoProto &in, const std::string &where) {
    XUNIT_CHECK(in.type().has_tensor_type(), where + "not a tensor");
    const auto &tt = in.type().tensor_type();
    XUNIT_CHECK(tt.elem_type() == onnx::TensorProto_DataType_FLOAT, where + "must be float32");
    XUNIT_CHECK(tt.has_shape() && tt.shape().dim_size() == 4,
                where + "must have 4 dimensions (N, C, H, W)");
    const auto &n = tt.shape().dim(0);
    XUNIT_CHECK(!n.has_dim_value() || n.dim_value() == 1,
                where + "batch dimension must be 1 or dynamic");
  }
  // The channel count of a 4-d input, or -1 when not a fixed number.
  static int64_t fixed_channels(const onnx::ValueInfoProto &in) {
    if (!in.type().has_tensor_type() || !in.type().tensor_type().has_shape()) return -1;
    const auto &shape = in.type().tensor_type().shape();
    if (shape.dim_size() != 4 || !shape.dim(1).has_dim_value()) return -1;
    return shape.dim(1).dim_value();
  }
  // An input name that says it holds the noise level (what FFDNet-style code calls it).
  static bool names_a_level(std::string name) {
    for (char &ch : name) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    for (const char *word : {"noise", "sigma", "level", "map"})
      if (name.find(word) != std::string::npos) return true;
    return false;
  }
  static std::string dim_text(const onnx::TensorShapeProto::Dimension &d) {
    return d.has_dim_value()   ? std::to_string(d.dim_value())
           : d.has_dim_param() ? "'" + d.dim_param() + "'"
                               : "dynamic";
  }

  int add_image_input(const onnx::ValueInfoProto &in, const std::string &where) {
    check_tensor_4d(in, where);
    const auto &c = in.type().tensor_type().shape().dim(1);
    XUNIT_CHECK(c.has_dim_value() && c.dim_value() >= 1 && c.dim_value() <= 4096,
                where + "its channel dimension must be a fixed number");
    const int v = g_.add_input(in.name(), int(c.dim_value()));
    values_[in.name()] = v;
    defined_up_front_.insert(in.name());
    return v;
  }

  // The xUnit paper's Gaussian gate as PyTorch exports x * exp(-(z * z)) (or -z ** 2):
  // Mul(z, z) or Pow(z, 2) -> Neg -> Exp -> Mul(x, .), each read only by the next. The three
  // nodes before the last Mul are folded away and that Mul becomes gate_gaussian(x, z).
  void find_gaussian_gates() {
    std::map<std::string, int> producer;
    for (int i = 0; i < graph_.node_size(); ++i)
      for (const std::string &out : graph_.node(i).output()) producer[out] = i;
    auto sole_reader = [&](const std::string &value) -> const onnx::NodeProto * {
      auto it = consumers_.find(value);
      if (it == consumers_.end() || it->second.size() != 1 || it->second[0] < 0) return nullptr;
      return &graph_.node(it->second[0]);
    };
    for (int i = 0; i < graph_.node_size(); ++i) {
      const onnx::NodeProto &exp = graph_.node(i);
      if (exp.op_type() != "Exp" || exp.input_size() != 1 || !producer.count(exp.input(0)))
        continue;
      const int neg_index = producer.at(exp.input(0));
      const onnx::NodeProto &neg = graph_.node(neg_index);
      if (neg.op_type() != "Neg" || sole_reader(neg.output(0)) != &exp ||
          !producer.count(neg.input(0)))
        continue;
      const int square_index = producer.at(neg.input(0));
      const onnx::NodeProto &square = graph_.node(square_index);
      if (sole_reader(square.output(0)) != &neg || square.input_size() != 2) continue;
      const bool mul = square.op_type() == "Mul" && square.input(0) == square.input(1);
      const bool pow = square.op_type() == "Pow" && consts_.count(square.input(1)) &&
                       consts_.at(square.input(1))->values == std::vector<float>{2.f};
      const onnx::NodeProto *gate = sole_reader(exp.output(0));
      if (!(mul || pow) || !gate || gate->op_type() != "Mul" || gate->input_size() != 2 ||
          gate->input(0) == gate->input(1) || consts_.count(gate->input(0)) ||
          consts_.count(gate->input(1)))
        continue;
      folded_.insert(neg_index);
      folded_.insert(square_index);
      folded_.insert(i);
      deferred_gaussian_[exp.output(0)] = square.input(0);
    }
  }

  void count_uses() {
    for (int i = 0; i < graph_.node_size(); ++i)
      for (const std::string &in : graph_.node(i).input())
        if (!in.empty()) consumers_[in].push_back(i);
    for (const auto &out : graph_.output()) consumers_[out.name()].push_back(-1);
  }

  // ------------------------------------------------------------------ value access
  bool is_const(const std::string &name) const { return consts_.count(name) > 0; }
  int value(const std::string &name, const std::string &where) {
    auto it = values_.find(name);
    if (it != values_.end()) return it->second;
    auto s = deferred_sigmoid_.find(name);
    if (s != deferred_sigmoid_.end()) return materialize_sigmoid(name);
    if (layout_nodes_.count(name)) return resolve_layout(name);
    throw Error(where + "'" + name + "' is a constant where an image tensor is expected");
  }
  const Constant &constant(const std::string &name, const std::string &where) {
    auto it = consts_.find(name);
    XUNIT_CHECK(it != consts_.end(), where + "input '" + name +
                                         "' must be a constant (an initializer or Constant node)");
    return *it->second;
  }
  int uses(const std::string &name) const {
    auto it = consumers_.find(name);
    return it == consumers_.end() ? 0 : int(it->second.size());
  }
  int channels(int v) const { return g_.values[size_t(v)].channels; }

  // Every weight the graph gets is float32 memory made from the file: charged to the load's
  // budget first (one constant read by many nodes is copied once per node).
  int add_tensor(const std::string &name, std::vector<int64_t> shape, std::vector<float> data) {
    budget_.charge(data.size(), sizeof(float), "tensor '" + name + "'");
    return g_.add_tensor(name, std::move(shape), std::move(data));
  }

  std::string tensor_name(const std::string &base) {
    std::string name = base;
    while (g_.find_tensor(name) >= 0) name = base + "#" + std::to_string(++tensor_serial_);
    return name;
  }

  // A per-channel vector from a constant that broadcasts along C of an [N, C, H, W] tensor:
  // one value, or C values shaped [C], [C,1,1] or [1,C,1,1].
  std::vector<float> per_channel(const Constant &c, int C, const std::string &where) {
    if (c.values.size() == 1) return std::vector<float>(size_t(C), c.values[0]);
    const std::vector<int64_t> &d = c.dims;
    bool ok = c.values.size() == size_t(C);
    if (d.size() == 4)
      ok = ok && d[0] == 1 && d[1] == C && d[2] == 1 && d[3] == 1;
    else if (d.size() == 3)
      ok = ok && d[0] == C && d[1] == 1 && d[2] == 1;
    else
      ok = ok && d.size() == 1;
    XUNIT_CHECK(ok, where + "constant of shape " + dims_string(d) +
                        " does not broadcast per channel over " + std::to_string(C) + " channels");
    return c.values;
  }

  // ------------------------------------------------------------------ IR building
  int emit(Op op, const std::string &output) {
    const int v = g_.add_op(std::move(op), output);
    values_[output] = v;
    return v;
  }
  Op make_op(OpType type, const onnx::NodeProto &node, std::vector<int> inputs) {
    Op op;
    op.type = type;
    op.name = node.name().empty() ? node.output(0) : node.name();
    op.inputs = std::move(inputs);
    return op;
  }
  int affine(const onnx::NodeProto &node, int x, std::vector<float> scale,
             std::vector<float> shift) {
    Op op = make_op(OpType::Affine, node, {x});
    const int64_t C = channels(x);
    op.scale = add_tensor(tensor_name(op.name + ".scale"), {C}, std::move(scale));
    op.shift = add_tensor(tensor_name(op.name + ".shift"), {C}, std::move(shift));
    return emit(op, node.output(0));
  }
  int materialize_sigmoid(const std::string &name) {
    const auto &[input, node] = deferred_sigmoid_.at(name);
    deferred_sigmoid_.erase(name);
    return emit(make_op(OpType::Sigmoid, *node, {value(input, node_label(*node))}), name);
  }

  // ------------------------------------------------------------------ ops
  void translate(const onnx::NodeProto &node) {
    const std::string where = node_label(node);
    XUNIT_CHECK(node.domain().empty() || node.domain() == "ai.onnx",
                where + "custom domain '" + node.domain() + "' is not supported");
    XUNIT_CHECK(node.output_size() >= 1 && !node.output(0).empty(), where + "has no output");
    for (int k = 1; k < node.output_size(); ++k)  // BatchNorm's training outputs, Dropout's mask
      XUNIT_CHECK(node.output(k).empty() || uses(node.output(k)) == 0,
                  where + "its output '" + node.output(k) + "' is used, which is not supported");
    const std::string &type = node.op_type();
    if (fold_constant(node)) return;
    if (is_layout_change(node)) {  // run on a probe when an op reads it (resolve_layout)
      layout_nodes_[node.output(0)] = &node;
      return;
    }
    Attributes attrs(node, where);
    if (type == "Conv")
      conv(node, attrs, where);
    else if (type == "ConvTranspose")
      conv_transpose(node, attrs, where);
    else if (type == "BatchNormalization")
      batch_norm(node, attrs, where);
    else if (type == "Relu" || type == "Sigmoid" || type == "LeakyRelu" || type == "Tanh" ||
             type == "Exp" || type == "Softplus")
      activation(node, attrs, where);
    else if (type == "Clip")
      clip(node, attrs, where);
    else if (type == "Neg")
      negate(node, where);
    else if (type == "Pow")
      square(node, where);
    else if (type == "PRelu")
      prelu(node, where);
    else if (type == "Mul" || type == "Add" || type == "Sub" || type == "Div")
      arithmetic(node, where);
    else if (type == "Concat")
      concat(node, attrs, where);
    else if (type == "DepthToSpace")
      depth_to_space(node, attrs, where);
    else if (type == "SpaceToDepth")
      space_to_depth(node, attrs, where);
    else if (type == "Resize")
      resize(node, attrs, where);
    else if (type == "Pad")
      pad_node(node, attrs, where);
    else if (type == "Constant")
      constant_node(node, attrs, where);
    else if (type == "Identity")
      identity(node, where);
    else
      throw Error(where + "op type '" + type +
                  "' is not supported (supported: " + onnx_supported_ops() + ")");
    attrs.expect_all_read();
  }

  void expect_inputs(const onnx::NodeProto &node, int lo, int hi, const std::string &where) {
    XUNIT_CHECK(
        node.input_size() >= lo && node.input_size() <= hi,
        where + "expects " +
            (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
            " inputs, has " + std::to_string(node.input_size()));
    for (int k = 0; k < lo; ++k)
      XUNIT_CHECK(!node.input(k).empty(), where + "input " + std::to_string(k) + " is missing");
  }

  void conv(const onnx::NodeProto &node, Attributes &a, const std::string &where) {
    expect_inputs(node, 2, 3, where);
    // A zero Pad read only by this conv adds to its padding (ZeroPad2d + Conv2d(padding=0)).
    auto pad = zero_pads_.find(node.input(0));
    const std::vector<int64_t> extra =
        pad == zero_pads_.end() ? std::vector<int64_t>{0, 0, 0, 0} : pad->second.pads;
    const int x =
        pad == zero_pads_.end() ? value(node.input(0), where) : value(pad->second.input, where);
    const Constant &w = constant(node.input(1), where);
    XUNIT_CHECK(w.dims.size() == 4, where + "weight of shape " + dims_string(w.dims) +
                                        ": only 2-D convolutions are supported");
    const int64_t out_c = w.dims[0], k = w.dims[2];
    XUNIT_CHECK(w.dims[2] == w.dims[3],
                where + "kernel " + dims_string({w.dims[2], w.dims[3]}) + " is not square");
    XUNIT_CHECK(k % 2 == 1 && k <= 31,
                where + "kernel size " + std::to_string(k) + " must be odd and at most 31");
    const int64_t groups = a.get_int("group", 1);
    const int in_c = channels(x);
    XUNIT_CHECK(
        groups >= 1 && in_c % groups == 0 && out_c % groups == 0 && w.dims[1] * groups == in_c,
        where + "weight " + dims_string(w.dims) + " with group " + std::to_string(groups) +
            " does not fit " + std::to_string(in_c) + " input channels");
    const std::vector<int64_t> kernel_shape = a.get_ints("kernel_shape", {k, k});
    XUNIT_CHECK(kernel_shape == std::vector<int64_t>({k, k}),
                where + "kernel_shape disagrees with the weight");
    for (int64_t s : a.get_ints("strides", {1, 1}))
      XUNIT_CHECK(s == 1, where + "strides other than 1 are not supported");
    const std::vector<int64_t> dilations = a.get_ints("dilations", {1, 1});
    XUNIT_CHECK(dilations.size() == 2 && dilations[0] == dilations[1] && dilations[0] >= 1 &&
                    dilations[0] <= 16,
                where + "dilations " + dims_string(dilations) +
                    " are not supported (equal dilations of 1 to 16 are)");
    const int64_t dilation = dilations[0];
    const std::string auto_pad = a.get_string("auto_pad", "NOTSET");
    const int64_t r = dilation * (k / 2);
    if (auto_pad == "NOTSET") {
      std::vector<int64_t> pads = a.get_ints("pads", {0, 0, 0, 0});
      XUNIT_CHECK(pads.size() == 4, where + "pads " + dims_string(pads) + " are not 2-D");
      for (size_t i = 0; i < 4; ++i) pads[i] += extra[i];
      XUNIT_CHECK(pads == std::vector<int64_t>({r, r, r, r}),
                  where + "pads " + dims_string(pads) + " are not 'same' padding " +
                      dims_string({r, r, r, r}) +
                      " (only convolutions that keep the image size are supported)");
    } else {
      XUNIT_CHECK(
          auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER" || (auto_pad == "VALID" && k == 1),
          where + "auto_pad " + auto_pad + " changes the image size, which is not supported");
      XUNIT_CHECK(!a.has("pads"), where + "pads given together with auto_pad");
      XUNIT_CHECK(pad == zero_pads_.end(), where + "auto_pad after a Pad is not supported");
    }
    const int border = pad == zero_pads_.end() ? int(BorderMode::Zero) : pad->second.border;
    XUNIT_CHECK(border == int(BorderMode::Zero) ||
                    (a_pads_were_zero(node) && extra == std::vector<int64_t>({r, r, r, r})),
                where + border_mode_name(border) +
                    " padding must be the conv's whole padding (a Pad of its radius before a "
                    "conv that pads nothing)");
    Op op = make_op(border != int(BorderMode::Zero) ? OpType::BorderConv2d
                    : dilation > 1                  ? OpType::DilatedConv2d
                                                    : OpType::Conv2d,
                    node, {x});
    op.border = border;
    op.dilation = int(dilation);
    op.kernel = int(k);
    op.groups = int(groups);
    op.in_channels = in_c;
    op.out_channels = int(out_c);
    op.weight = add_tensor(tensor_name(op.name + ".weight"), w.dims, w.values);
    if (node.input_size() == 3 && !node.input(2).empty()) {
      const Constant &b = constant(node.input(2), where);
      XUNIT_CHECK(b.values.size() == size_t(out_c),
                  where + "bias has " + std::to_string(b.values.size()) + " values for " +
                      std::to_string(out_c) + " output channels");
      op.bias = add_tensor(tensor_name(op.name + ".bias"), {out_c}, b.values);
    }
    const int v = emit(op, node.output(0));
    conv_op_of_value_[v] = int(g_.ops.size()) - 1;
  }

  // A transposed conv that upsamples by exactly its stride (FSRCNN: kernel 9, stride 2, padding
  // 4, output_padding 1): output = stride * input.
  void conv_transpose(const onnx::NodeProto &node, Attributes &a, const std::string &where) {
    expect_inputs(node, 2, 3, where);
    const int x = value(node.input(0), where);
    const Constant &w = constant(node.input(1), where);
    XUNIT_CHECK(w.dims.size() == 4 && w.dims[2] == w.dims[3] && w.dims[0] == channels(x),
                where + "weight " + dims_string(w.dims) + " is not [in, out, k, k] for " +
                    std::to_string(channels(x)) + " input channels");
    const int64_t k = w.dims[2], out_c = w.dims[1];
    XUNIT_CHECK(a.get_int("group", 1) == 1, where + "grouped transposed convs are not supported");
    XUNIT_CHECK(a.get_ints("kernel_shape", {k, k}) == std::vector<int64_t>({k, k}),
                where + "kernel_shape disagrees with the weight");
    XUNIT_CHECK(a.get_ints("dilations", {1, 1}) == std::vector<int64_t>({1, 1}),
                where + "dilated transposed convs are not supported");
    XUNIT_CHECK(!a.has("output_shape"), where + "output_shape is not supported");
    XUNIT_CHECK(a.get_string("auto_pad", "NOTSET") == "NOTSET",
                where + "auto_pad is not supported");
    const std::vector<int64_t> strides = a.get_ints("strides", {1, 1});
    const std::vector<int64_t> pads = a.get_ints("pads", {0, 0, 0, 0});
    const std::vector<int64_t> out_pad = a.get_ints("output_padding", {0, 0});
    XUNIT_CHECK(strides.size() == 2 && strides[0] == strides[1] && pads.size() == 4 &&
                    pads[0] == pads[1] && pads[0] == pads[2] && pads[0] == pads[3] &&
                    out_pad.size() == 2 && out_pad[0] == out_pad[1],
                where + "strides, pads and output_padding must be the same along both axes");
    const int64_t s = strides[0], p = pads[0];
    XUNIT_CHECK(s >= 2 && s <= kMaxFactor && k - 2 * p + out_pad[0] == s && k >= s + p,
                where + "kernel " + std::to_string(k) + ", stride " + std::to_string(s) +
                    ", padding " + std::to_string(p) + " and output_padding " +
                    std::to_string(out_pad[0]) +
                    ": only transposed convs that upsample by their stride are supported");
    Op op = make_op(OpType::ConvTranspose2d, node, {x});
    op.factor = int(s);
    op.kernel = int(k);
    op.padding = int(p);
    op.in_channels = channels(x);
    op.out_channels = int(out_c);
    op.weight = add_tensor(tensor_name(op.name + ".weight"), w.dims, w.values);
    if (node.input_size() == 3 && !node.input(2).empty()) {
      const Constant &b = constant(node.input(2), where);
      XUNIT_CHECK(b.values.size() == size_t(out_c), where + "bias does not match the channels");
      op.bias = add_tensor(tensor_name(op.name + ".bias"), {out_c}, b.values);
    }
    emit(op, node.output(0));
  }

  void batch_norm(const onnx::NodeProto &node, Attributes &a, const std::string &where) {
    expect_inputs(node, 5, 5, where);
    const int x = value(node.input(0), where);
    const int C = channels(x);
    const float eps = a.get_float("epsilon", 1e-5f);
    a.get_float("momentum", 0.9f);  // training only
    XUNIT_CHECK(a.get_int("training_mode", 0) == 0, where + "training_mode is not supported");
    std::vector<std::vector<float>> p;
    for (int k = 1; k <= 4; ++k) {
      const Constant &c = constant(node.input(k), where);
      XUNIT_CHECK(c.values.size() == size_t(C), where + "parameter '" + node.input(k) + "' has " +
                                                    std::to_string(c.values.size()) +
                                                    " values for " + std::to_string(C) +
                                                    " channels");
      p.push_back(c.values);
    }
    std::vector<float> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
    for (size_t c = 0; c < size_t(C); ++c) {
      XUNIT_CHECK(p[3][c] >= 0.f, where + "negative variance");
      const double s = double(p[0][c]) / std::sqrt(double(p[3][c]) + double(eps));
      scale[c] = float(s);
      shift[c] = float(double(p[1][c]) - double(p[2][c]) * s);
    }
    // After a conv that feeds nothing else, the BatchNorm folds into its weights (exact).
    auto conv = conv_op_of_value_.find(x);
    if (conv != conv_op_of_value_.end() && uses(node.input(0)) == 1) {
      Op &op = g_.ops[size_t(conv->second)];
      Tensor &w = g_.tensors[size_t(op.weight)];
      std::vector<float> weights(w.data, w.data + w.numel());
      const size_t per_out = weights.size() / size_t(C);
      for (size_t o = 0; o < size_t(C); ++o)
        for (size_t i = 0; i < per_out; ++i) weights[o * per_out + i] *= scale[o];
      w.set_owned(std::move(weights));
      std::vector<float> bias(size_t(C), 0.f);
      if (op.bias >= 0)
        bias.assign(g_.tensors[size_t(op.bias)].data, g_.tensors[size_t(op.bias)].data + C);
      for (size_t o = 0; o < size_t(C); ++o) bias[o] = bias[o] * scale[o] + shift[o];
      if (op.bias >= 0)
        g_.tensors[size_t(op.bias)].set_owned(std::move(bias));
      else
        op.bias = add_tensor(tensor_name(op.name + ".bias"), {int64_t(C)}, std::move(bias));
      values_[node.output(0)] = x;
      conv_op_of_value_.erase(conv);
      return;
    }
    affine(node, x, std::move(scale), std::move(shift));
  }

  void activation(const onnx::NodeProto &node, Attributes &a, const std::string &where) {
    expect_inputs(node, 1, 1, where);
    const std::string &type = node.op_type();
    if (type == "Sigmoid") {
      // Sigmoid feeding one Mul (not squared): that Mul becomes the xUnit gate.
      auto it = consumers_.find(node.output(0));
      if (it != consumers_.end() && it->second.size() == 1 && it->second[0] >= 0) {
        const onnx::NodeProto &user = graph_.node(it->second[0]);
        if (user.op_type() == "Mul" && user.input_size() == 2 && user.input(0) != user.input(1) &&
            !is_const(user.input(0)) && !is_const(user.input(1))) {
          value(node.input(0), where);  // (checks it is an image tensor)
          deferred_sigmoid_[node.output(0)] = {node.input(0), &node};
          return;
        }
      }
    }
    const int x = value(node.input(0), where);
    Op op = make_op(type == "Relu"       ? OpType::Relu
                    : type == "Sigmoid"  ? OpType::Sigmoid
                    : type == "Tanh"     ? OpType::Tanh
                    : type == "Exp"      ? OpType::Exp
                    : type == "Softplus" ? OpType::Softplus
                                         : OpType::LeakyRelu,
                    node, {x});
    if (type == "LeakyRelu") op.alpha = a.get_float("alpha", 0.01f);
    emit(op, node.output(0));
  }

  // Clip (ReLU6, hardtanh): bounds from inputs 1 and 2 (opset 11+) or attributes (older).
  void clip(const onnx::NodeProto &node, Attributes &a, const std::string &where) {
    expect_inputs(node, 1, 3, where);
    const int x = value(node.input(0), where);
    float lo = a.get_float("min", -std::numeric_limits<float>::max());
    float hi = a.get_float("max", std::numeric_limits<float>::max());
    for (int k = 1; k <= 2 && k < node.input_size(); ++k) {
      if (node.input(k).empty()) continue;
      const Constant &c = constant(node.input(k), where);
      XUNIT_CHECK(c.values.size() == 1, where + "bound '" + node.input(k) + "' is not a scalar");
      (k == 1 ? lo : hi) = c.values[0];
    }
    XUNIT_CHECK(lo <= hi, where + "lower bound above the upper bound (or not a number)");
    Op op = make_op(OpType::Clip, node, {x});
    op.alpha = std::max(lo, -std::numeric_limits<float>::max());
    op.beta = std::min(hi, std::numeric_limits<float>::max());
    emit(op, node.output(0));
  }

  // Neg: an affine op with scale -1.
  void negate(const onnx::NodeProto &node, const std::string &where) {
    expect_inputs(node, 1, 1, where);
    const int x = value(node.input(0), where);
    const size_t C = size_t(channels(x));
    affine(node, x, std::vector<float>(C, -1.f), std::vector<float>(C, 0.f));
  }

  // Pow(x, 2): x * x. Other exponents are refused.
  void square(const onnx::NodeProto &node, const std::string &where) {
    expect_inputs(node, 2, 2, where);
    const int x = value(node.input(0), where);
    const Constant &e = constant(node.input(1), where);
    XUNIT_CHECK(e.values == std::vector<float>{2.f},
                where + "only the exponent 2 is supported (as x * x)");
    emit(make_op(OpType::Mul, node, {x, x}), node.output(0));
  }

  void prelu(const onnx::NodeProto &node, const std::string &where) {
    expect_inputs(node, 2, 2, where);
    const int x = value(node.input(0), where);
    const Constant &slope = constant(node.input(1), where);
    std::vector<float> s =
        slope.values.size() == 1 ? slope.values : per_channel(slope, channels(x), where);
    Op op = make_op(OpType::PRelu, node, {x});
    const int64_t n = int64_t(s.size());
    op.slope = add_tensor(tensor_name(op.name + ".slope"), {n}, std::move(s));
    emit(op, node.output(0));
  }

  void arithmetic(const onnx::NodeProto &node, const std::string &where) {
    expect_inputs(node, 2, 2, where);
    const std::string &type = node.op_type();
    const std::string &a = node.input(0), &b = node.input(1);
    XUNIT_CHECK(!(is_const(a) && is_const(b)),
                where + "both operands are constants (fold them before export)");
    if (!is_const(a) && !is_const(b)) {
      if (type == "Mul") {
        for (int k = 0; k < 2; ++k) {  // x * exp(-z^2) -> gate_gaussian(x, z)
          auto e = deferred_gaussian_.find(node.input(k));
          if (e == deferred_gaussian_.end()) continue;
          const int x = value(node.input(1 - k), where), z = value(e->second, where);
          emit(make_op(OpType::GateGaussian, node, {x, z}), node.output(0));
          return;
        }
        for (int k = 0; k < 2; ++k) {  // x * sigmoid(y) -> gate(x, y)
          auto s = deferred_sigmoid_.find(node.input(k));
          if (s == deferred_sigmoid_.end()) continue;
          const int x = value(node.input(1 - k), where);
          const int logits = value(s->second.first, where);
          deferred_sigmoid_.erase(s);
          emit(make_op(OpType::Gate, node, {x, logits}), node.output(0));
          return;
        }
      }
      const int x = value(a, where), y = value(b, where);
      emit(make_op(type == "Mul"   ? OpType::Mul
                   : type == "Add" ? OpType::Add
                   : type == "Sub" ? OpType::Sub
                                   : OpType::Div,
                   node, {x, y}),
           node.output(0));
      return;
    }
    // One image tensor and one constant broadcast per channel: an affine op.
    const bool const_first = is_const(a);
    const int x = value(const_first ? b : a, where);
    const int C = channels(x);
    std::vector<float> c = per_channel(constant(const_first ? a : b, where), C, where);
    std::vector<float> scale(static_cast<size_t>(C), 1.f), shift(static_cast<size_t>(C), 0.f);
    for (size_t i = 0; i < size_t(C); ++i) {
      if (type == "Mul")
        scale[i] = c[i];
      else if (type == "Add")
        shift[i] = c[i];
      else if (type == "Sub")
        const_first ? (scale[i] = -1.f, shift[i] = c[i]) : (shift[i] = -c[i]);
      else {
        XUNIT_CHECK(!const_first,
                    where + "dividing a constant by an image tensor is not supported");
        XUNIT_CHECK(c[i] != 0.f, where + "division by zero");
        scale[i] = 1.f / c[i];
      }
    }
    affine(node, x, std::move(scale), std::move(shift));
  }

  void concat(const onnx::NodeProto &node, Attributes &a, const std::string &where) {
    XUNIT_CHECK(node.input_size() >= 1, where + "has no inputs");
    const int64_t axis = a.get_int("axis", 1);
    XUNIT_CHECK(axis == 1 || axis == -3, where + "axis " + std::to_string(axis) +
                                             ": only channel concatenation is supported");
    std::vector<int> inputs;
    for (const std::string &in : node.input()) inputs.push_back(value(in, where));
    if (inputs.size() == 1) {
      alias(node.output(0), inputs[0]);
      return;
    }
    emit(make_op(OpType::Concat, node, inputs), node.output(0));
  }

  // DepthToSpace's and SpaceToDepth's factor.
  static int blocksize(Attributes &a, const std::string &where) {
    const int64_t f = a.get_int("blocksize", 0);
    XUNIT_CHECK(f >= 2 && f <= kMaxFactor,
                where + "blocksize " + std::to_string(f) + " is not between 2 and 8");
    return int(f);
  }

  void depth_to_space(const onnx::NodeProto &node, Attributes &a, const std::string &where) {
    expect_inputs(node, 1, 1, where);
    const int x = value(node.input(0), where);
    const int f = blocksize(a, where);
    const std::string mode = a.get_string("mode", "DCR");
    XUNIT_CHECK(mode == "DCR" || mode == "CRD", where + "unknown mode '" + mode + "'");
    Op op = make_op(mode == "CRD" ? OpType::PixelShuffle : OpType::PixelShuffleDcr, node, {x});
    op.factor = f;
    emit(op, node.output(0));
  }

  void space_to_depth(const onnx::NodeProto &node, Attributes &a, const std::string &where) {
    expect_inputs(node, 1, 1, where);
    const int x = value(node.input(0), where);
    unshuffle_input(OpType::SpaceToDepth, blocksize(a, where), x, node);
  }

  // A pixel unshuffle: the engine runs it only as the first op on the network's input.
  void unshuffle_input(OpType type, int factor, int x, const onnx::NodeProto &node) {
    XUNIT_CHECK(x == g_.input, node_label(node) +
                                   "a pixel unshuffle (space-to-depth) is supported only on the "
                                   "network's input (strided downsampling inside it is not)");
    Op op = make_op(type, node, {x});
    op.factor = factor;
    emit(op, node.output(0));
  }

  // ------------------------------------------------------------------ layout changes
  // Reshape/Transpose/... of an image tensor, and Shape and the arithmetic on its sizes: not
  // translated one by one (an IR value is an image, not a 6-D tensor) but collected, and run on
  // a probe when an op reads the result (converter/onnx/layout_probe.h).
  // Sizes (Shape's output and arithmetic on it) are deferred with the layout changes they
  // feed; an element-wise op or a Concat that reads an image stays an op even when that image
  // came out of a layout change (a skip connection after a Reshape/Transpose shuffle).
  bool is_layout_change(const onnx::NodeProto &node) {
    const std::string &type = node.op_type();
    if (node.input_size() == 0) return false;
    if (type == "Shape") {
      size_values_.insert(node.output(0));
      return true;
    }
    const std::string &first = node.input(0);
    if (onnx_import::is_layout_node(type)) {
      if (size_values_.count(first)) size_values_.insert(node.output(0));
      return layout_nodes_.count(first) || (!first.empty() && values_.count(first));
    }
    if (!onnx_import::is_shape_node(type)) return false;
    bool reads_size = false;
    for (const std::string &in : node.input()) {
      if (in.empty() || is_const(in)) continue;
      if (!size_values_.count(in)) return false;  // an image: the op itself
      reads_size = true;
    }
    if (reads_size) size_values_.insert(node.output(0));
    return reads_size;
  }

  // A shape or layout node of constants only (PyTorch computes F.pad's pads so, and some
  // exporters reshape weights): evaluated now. Layout moves of float constants run on their
  // indices, then pick the values. False: not such a node (it is translated as usual).
  bool fold_constant(const onnx::NodeProto &node) {
    const std::string &type = node.op_type();
    if (!(onnx_import::is_layout_node(type) || onnx_import::is_shape_node(type)) ||
        type == "Identity" || node.input_size() == 0 || node.output_size() != 1)
      return false;
    for (const std::string &in : node.input())
      if (!in.empty() && !is_const(in)) return false;
    if (type == "Add" || type == "Sub" || type == "Mul" || type == "Div")
      return fold_arithmetic(node);  // constants carry no integer type: folded as floats
    std::vector<ProbeTensor> probes(size_t(node.input_size()));
    std::vector<const ProbeTensor *> inputs;
    const std::vector<float> *data = nullptr;  // a float constant moved by index
    for (int k = 0; k < node.input_size(); ++k) {
      if (node.input(k).empty()) {
        inputs.push_back(nullptr);
        continue;
      }
      const Constant &c = *consts_.at(node.input(k));
      // Its probe (int64 values, or the indices of a float constant) is made from the file.
      budget_.charge(c.values.size(), sizeof(int64_t), node_label(node) + "folding a constant");
      if (!onnx_import::probe_from_constant(c, &probes[size_t(k)])) {
        const bool movable =
            k == 0 && (onnx_import::is_layout_node(type) || type == "Slice" || type == "Gather");
        if (!movable) return false;
        ProbeTensor &index = probes[0];
        index.dims = c.dims;
        index.values.resize(c.values.size());
        for (size_t i = 0; i < index.values.size(); ++i) index.values[i] = int64_t(i);
        data = &c.values;
      }
      inputs.push_back(&probes[size_t(k)]);
    }
    ProbeTensor out = onnx_import::run_probe_node(node, inputs, model_.opset());
    // Each folded node is a new constant (not a second name for one): charged.
    budget_.charge(out.values.size(), sizeof(int64_t) + sizeof(float),
                   node_label(node) + "folding a constant");
    Constant folded;
    folded.dims = out.dims;
    for (int64_t v : out.values) folded.values.push_back(data ? (*data)[size_t(v)] : float(v));
    consts_[node.output(0)] = std::make_shared<const Constant>(std::move(folded));
    return true;
  }

  // Add/Sub/Mul/Div of two constants, one of them a single value or both of one size, in
  // float: exact for the whole numbers of size arithmetic, and right for weights (a Div of
  // 3.0 by 2.0 is 1.5, which integer folding would make 1).
  bool fold_arithmetic(const onnx::NodeProto &node) {
    if (node.input_size() != 2) return false;
    const Constant &a = *consts_.at(node.input(0)), &b = *consts_.at(node.input(1));
    const size_t na = a.values.size(), nb = b.values.size();
    if (!(na == nb || na == 1 || nb == 1) || na == 0 || nb == 0) return false;
    const std::string &type = node.op_type();
    Constant folded;
    folded.dims = na >= nb ? a.dims : b.dims;
    budget_.charge(std::max(na, nb), sizeof(float), node_label(node) + "folding a constant");
    for (size_t i = 0; i < std::max(na, nb); ++i) {
      const float u = a.values[na == 1 ? 0 : i], v = b.values[nb == 1 ? 0 : i];
      folded.values.push_back(type == "Add"   ? u + v
                              : type == "Sub" ? u - v
                              : type == "Mul" ? u * v
                                              : u / v);
    }
    consts_[node.output(0)] = std::make_shared<const Constant>(std::move(folded));
    return true;
  }

  int resolve_layout(const std::string &name) {
    const onnx::NodeProto &last = *layout_nodes_.at(name);
    const std::string where = node_label(last);
    // The nodes the result depends on, in the order they were met (a topological order).
    std::map<const onnx::NodeProto *, int> needed;  // node -> readers among the needed nodes
    std::vector<const onnx::NodeProto *> stack = {&last};
    int source = -1;
    while (!stack.empty()) {
      const onnx::NodeProto *n = stack.back();
      stack.pop_back();
      if (needed.count(n)) continue;
      needed[n] = 0;
      XUNIT_CHECK(needed.size() <= 256, where + "a layout change of more than 256 nodes");
      for (const std::string &in : n->input()) {
        auto producer = layout_nodes_.find(in);
        if (producer != layout_nodes_.end()) {
          stack.push_back(producer->second);
        } else if (values_.count(in)) {
          XUNIT_CHECK(source < 0 || source == values_.at(in),
                      where + "a layout change that mixes two image tensors is not supported");
          source = values_.at(in);
        }
      }
    }
    XUNIT_CHECK(source >= 0, where + "computes an image tensor from no image tensor");
    std::vector<const onnx::NodeProto *> order;
    for (const auto &entry : needed) order.push_back(entry.first);
    std::sort(order.begin(), order.end(), [&](const onnx::NodeProto *a, const onnx::NodeProto *b) {
      return node_order_.at(a) < node_order_.at(b);
    });
    // Two probe sizes (H != W, swapped): every factor up to 8 but 5 and 7 divides both sides.
    onnx_import::LayoutMove move;
    const int C = channels(source);
    for (const std::pair<int, int> &size : {std::pair<int, int>{24, 48}, {48, 24}}) {
      const int H = size.first, W = size.second;  // (clang: lambdas cannot capture bindings)
      std::map<std::string, ProbeTensor> probe;
      auto input_of = [&](const std::string &in) -> const ProbeTensor * {
        if (in.empty()) return nullptr;
        auto p = probe.find(in);
        if (p != probe.end()) return &p->second;
        if (values_.count(in)) return &(probe[in] = onnx_import::probe_image(C, H, W));
        ProbeTensor &t = probe[in];
        XUNIT_CHECK(onnx_import::probe_from_constant(constant(in, where), &t),
                    where + "a size or axis that is not an integer");
        return &t;
      };
      size_t held = 0;  // probe elements alive: bounded whatever the chain builds
      for (const onnx::NodeProto *n : order) {
        std::vector<const ProbeTensor *> inputs;
        for (const std::string &in : n->input()) inputs.push_back(input_of(in));
        ProbeTensor &out = probe[n->output(0)] =
            onnx_import::run_probe_node(*n, inputs, model_.opset());
        held += out.values.size();
        XUNIT_CHECK(held <= size_t(1) << 24, where + "a layout change too large to follow");
      }
      const onnx_import::LayoutMove m = onnx_import::classify_layout(probe.at(name), C, H, W);
      XUNIT_CHECK(m.kind != onnx_import::LayoutMove::NotAShuffle &&
                      (move.kind == onnx_import::LayoutMove::NotAShuffle ||
                       (m.kind == move.kind && m.factor == move.factor)),
                  where +
                      "this Reshape/Transpose sequence is not a pixel shuffle or unshuffle "
                      "(the only layout changes of an image tensor that are supported)");
      move = m;
    }
    switch (move.kind) {
      case onnx_import::LayoutMove::Identity:
        alias(name, source);
        return source;
      case onnx_import::LayoutMove::PixelShuffle:
      case onnx_import::LayoutMove::PixelShuffleDcr: {
        Op op =
            make_op(move.kind == onnx_import::LayoutMove::PixelShuffle ? OpType::PixelShuffle
                                                                       : OpType::PixelShuffleDcr,
                    last, {source});
        op.factor = move.factor;
        return emit(op, name);
      }
      case onnx_import::LayoutMove::PixelUnshuffle:
      case onnx_import::LayoutMove::SpaceToDepth:
        unshuffle_input(move.kind == onnx_import::LayoutMove::PixelUnshuffle
                            ? OpType::PixelUnshuffle
                            : OpType::SpaceToDepth,
                        move.factor, source, last);
        return values_.at(name);
      case onnx_import::LayoutMove::NotAShuffle:
        break;
    }
    throw Error(where + "internal error: unclassified layout change");
  }

  void resize(const onnx::NodeProto &node, Attributes &a, const std::string &where) {
    expect_inputs(node, 1, 4, where);
    const int x = value(node.input(0), where);
    const bool has_scales = node.input_size() >= 3 && !node.input(2).empty() &&
                            !constant(node.input(2), where).values.empty();
    const bool has_sizes = node.input_size() >= 4 && !node.input(3).empty();
    XUNIT_CHECK(
        !has_sizes,
        where + "resizing to computed output sizes is not supported (export with a scale_factor)");
    XUNIT_CHECK(has_scales, where + "has no scales");
    const std::vector<float> &s = constant(node.input(2), where).values;
    XUNIT_CHECK(s.size() == 4 && s[0] == 1.f && s[1] == 1.f && s[2] == s[3] && s[2] >= 2.f &&
                    s[2] <= float(kMaxFactor) && s[2] == std::floor(s[2]),
                where + "scales must be [1, 1, f, f] with an integer factor f from 2 to 8");
    const std::string coords = a.get_string("coordinate_transformation_mode", "half_pixel");
    const std::string mode = a.get_string("mode", "nearest");
    const float cubic_a = a.get_float("cubic_coeff_a", -0.75f);
    XUNIT_CHECK(a.get_int("exclude_outside", 0) == 0, where + "exclude_outside=1 is not supported");
    a.get_float("extrapolation_value", 0.f);  // tf_crop_and_resize only, refused below
    a.get_int("antialias", 0);                // changes only downscaling
    const std::vector<int64_t> axes = a.get_ints("axes", {});
    XUNIT_CHECK(axes.empty() || axes == std::vector<int64_t>({0, 1, 2, 3}),
                where + "axes " + dims_string(axes) + " are not supported");
    a.get_string("keep_aspect_ratio_policy", "stretch");  // sizes only, refused above
    const std::string nearest = a.get_string("nearest_mode", "round_prefer_floor");
    Op op = make_op(OpType::Resize, node, {x});
    op.factor = int(s[2]);
    op.cubic_a = cubic_a;
    XUNIT_CHECK(resize_mode_from_name(mode, &op.resize_mode),
                where + "unknown mode '" + mode + "'");
    if (coords == "half_pixel" ||
        coords == "pytorch_half_pixel") {  // equal for outputs of >= 2 pixels
      op.coordinates = int(ResizeCoordinates::HalfPixel);
    } else if (coords == "asymmetric") {
      op.coordinates = int(ResizeCoordinates::Asymmetric);
    } else if (coords == "align_corners") {
      throw Error(
          where +
          "coordinate mode align_corners samples a grid that depends on the whole image's size, "
          "which tiled execution cannot reproduce (export with align_corners=False)");
    } else {
      throw Error(where + "coordinate mode '" + coords +
                  "' is not supported (half_pixel, pytorch_half_pixel and "
                  "asymmetric are)");
    }
    if (op.resize_mode == int(ResizeMode::Nearest))
      XUNIT_CHECK(nearest_rounding_from_name(nearest, &op.nearest_rounding),
                  where + "unknown nearest_mode '" + nearest + "'");
    if (op.resize_mode == int(ResizeMode::Linear) &&
        op.coordinates == int(ResizeCoordinates::HalfPixel)) {
      op.type = OpType::UpsampleBilinear;  // the same sampling, readable by format 1.0 readers
    }
    emit(op, node.output(0));
  }

  // Whether a Conv node pads nothing itself (its pads attribute absent or zeros).
  static bool a_pads_were_zero(const onnx::NodeProto &node) {
    for (const auto &attr : node.attribute())
      if (attr.name() == "pads")
        for (int64_t p : attr.ints())
          if (p != 0) return false;
    return true;
  }

  // Pad at the image border, read only by convs: zero padding becomes part of their padding
  // (conv() checks that the sum is 'same'); reflect and edge padding of a conv's whole radius
  // make it a conv2d_border (PyTorch's padding_mode='reflect' / 'replicate' exports so).
  void pad_node(const onnx::NodeProto &node, Attributes &a, const std::string &where) {
    const std::string mode = a.get_string("mode", "constant");
    XUNIT_CHECK(mode == "constant" || mode == "reflect" || mode == "edge",
                where + "padding mode '" + mode +
                    "' is not supported (constant zeros, reflect and edge are)");
    std::vector<int64_t> pads;
    float fill = 0.f;
    if (model_.opset() < 11) {
      pads = a.get_ints("pads", {});
      fill = a.get_float("value", 0.f);
    } else {
      expect_inputs(node, 2, 4, where);
      for (float v : constant(node.input(1), where).values) {
        XUNIT_CHECK(v >= 0.f && v <= 64.f && v == std::floor(v),
                    where + "pads must be whole numbers from 0 to 64");
        pads.push_back(int64_t(v));
      }
      if (node.input_size() >= 3 && !node.input(2).empty()) {
        const Constant &c = constant(node.input(2), where);
        XUNIT_CHECK(c.values.size() == 1, where + "constant_value is not one value");
        fill = c.values[0];
      }
      XUNIT_CHECK(node.input_size() < 4 || node.input(3).empty(),
                  where + "the axes input is not supported");
    }
    XUNIT_CHECK(fill == 0.f || mode != "constant", where + "padding with " + std::to_string(fill) +
                                                       " is not supported (only zero padding is)");
    // [N_begin, C_begin, H_begin, W_begin, N_end, C_end, H_end, W_end]
    XUNIT_CHECK(pads.size() == 8 && pads[0] == 0 && pads[1] == 0 && pads[4] == 0 && pads[5] == 0,
                where + "pads " + dims_string(pads) + " do not pad only the image's sides");
    for (int64_t p : pads)
      XUNIT_CHECK(p >= 0 && p <= 64, where + "pads " + dims_string(pads) + " are not supported");
    value(node.input(0), where);  // an image tensor
    for (int reader : consumers_[node.output(0)])
      XUNIT_CHECK(reader >= 0 && graph_.node(reader).op_type() == "Conv",
                  where + "zero padding is supported only where convolutions read it");
    int border = int(BorderMode::Zero);
    if (mode != "constant") border_mode_from_name(mode, &border);
    zero_pads_[node.output(0)] = {node.input(0), {pads[2], pads[3], pads[6], pads[7]}, border};
  }

  void constant_node(const onnx::NodeProto &node, Attributes &a, const std::string &where) {
    expect_inputs(node, 0, 0, where);
    Constant c;
    if (const onnx::TensorProto *t = a.get_tensor("value")) {
      c = onnx_import::read_tensor(*t, where, &budget_);
    } else if (a.has("value_float")) {
      c.values = {a.get_float("value_float", 0.f)};
    } else if (a.has("value_floats")) {
      throw Error(where + "value_floats is not supported (use value)");
    } else if (a.has("value_int")) {
      c.values = {float(a.get_int("value_int", 0))};
    } else if (a.has("value_ints")) {
      for (int64_t v : a.get_ints("value_ints", {})) c.values.push_back(float(v));
      c.dims = {int64_t(c.values.size())};
    } else {
      throw Error(where + "has no supported value attribute");
    }
    consts_[node.output(0)] = std::make_shared<const Constant>(std::move(c));
  }

  void identity(const onnx::NodeProto &node, const std::string &where) {
    expect_inputs(node, 1, 1, where);
    const std::string &in = node.input(0);
    if (is_const(in)) {  // a second name for the same constant, shared, not copied
      consts_[node.output(0)] = consts_.at(in);
      return;
    }
    alias(node.output(0), value(in, where));
  }

  // A second name for an IR value: its uses can no longer be counted by name, so a BatchNorm
  // after it is not folded into its conv.
  void alias(const std::string &name, int v) {
    values_[name] = v;
    conv_op_of_value_.erase(v);
  }

  const OnnxModel &model_;
  const onnx::GraphProto &graph_;
  Graph g_;
  LoadBudget &budget_;
  Settings &settings_;
  float noise_level_scale_ = 0.f;  // of the noise-level map input; 0: none
  std::string noise_input_;        // its name
  std::map<std::string, std::shared_ptr<const Constant>> consts_;
  std::map<std::string, int> values_;                  // ONNX value name -> IR value
  std::map<std::string, std::vector<int>> consumers_;  // node indices (-1: the graph output)
  std::map<std::string, std::pair<std::string, const onnx::NodeProto *>> deferred_sigmoid_;
  std::map<std::string, std::string> deferred_gaussian_;  // Exp output -> the gate's logits z
  std::set<int> folded_;  // node indices folded into a Gaussian gate (find_gaussian_gates)
  std::map<int, int> conv_op_of_value_;  // IR value -> index of the conv op that defines it
  std::set<std::string> defined_up_front_;
  std::map<std::string, const onnx::NodeProto *> layout_nodes_;  // output -> layout/shape node
  std::set<std::string> size_values_;  // outputs that are sizes (Shape and arithmetic on it)
  struct BorderPad {
    std::string input;
    std::vector<int64_t> pads;  // top, left, bottom, right (the order of Conv's pads)
    int border;                 // BorderMode
  };
  std::map<std::string, BorderPad> zero_pads_;  // Pad output -> what it pads, folded into convs
  std::map<const onnx::NodeProto *, int> node_order_;  // position in translation order
  int tensor_serial_ = 0;
};

}  // namespace

const char *onnx_supported_ops() {
  return "Conv, BatchNormalization, Relu, LeakyRelu, PRelu, Sigmoid, Tanh, Exp, Softplus, Clip, "
         "Neg, Pow (exponent 2), ConvTranspose (upsampling by its stride), Mul, Add, Sub, Div "
         "(of two tensors or by a constant), the Gaussian gate x * exp(-z^2) (Mul or Pow, Neg, "
         "Exp), Concat, DepthToSpace, SpaceToDepth (on the input), Pad (zeros, before convs), "
         "pixel "
         "shuffles and unshuffles "
         "written as Reshape/Transpose (with Shape, Gather, Unsqueeze, Squeeze, Cast and integer "
         "arithmetic on sizes), Resize, Constant, Identity";
}

bool looks_like_onnx(const std::string &path, const std::vector<uint8_t> &bytes) {
  const std::string ext = ".onnx";
  if (path.size() >= ext.size()) {
    std::string tail = path.substr(path.size() - ext.size());
    std::transform(tail.begin(), tail.end(), tail.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    if (tail == ext) return true;
  }
  // A serialized ModelProto starts with field 1 (ir_version, a varint): byte 0x08. No
  // checkpoint format starts so ("PK", a pickle's 0x80, a safetensors length's low byte can,
  // but then byte 8 is '{').
  return bytes.size() > 8 && bytes[0] == 0x08 && bytes[8] != '{';
}

Graph import_onnx(const std::vector<uint8_t> &bytes,
                  const std::map<std::string, std::string> &settings) {
  Settings options(settings);
  LoadBudget budget(bytes.size(), "ONNX model");
  OnnxModel model(bytes.data(), bytes.size(), &budget);
  Importer importer(model, budget, options);
  Graph g = importer.run();
  options.expect_all_used(
      "ONNX models (they carry their own hyper-parameters; a noise-level map input takes "
      "noise_input and noise_level_scale)");
  g.metadata["family"] = "onnx";
  g.metadata["task"] = g.output_scale() > 1 ? "sr" : "denoise";
  g.metadata["scale"] = std::to_string(g.output_scale());
  g.metadata["in_channels"] = std::to_string(g.in_channels());
  g.metadata["out_channels"] = std::to_string(g.out_channels());
  g.metadata["receptive_field"] = std::to_string(g.receptive_radius());
  g.metadata["onnx_opset"] = std::to_string(model.opset());
  if (!model.producer().empty()) g.metadata["onnx_producer"] = model.producer();
  if (importer.noise_level_scale() > 0.f) {
    const float k = importer.noise_level_scale();
    char text[48];
    std::snprintf(text, sizeof text, "sigma*%.9g", double(k));
    g.metadata["noise_level_input"] = std::abs(k * 255.f - 1.f) < 1e-6f ? "sigma/255" : text;
    g.metadata["onnx_noise_input"] = importer.noise_input();
  }
  return g;
}

}  // namespace xunit::convert
