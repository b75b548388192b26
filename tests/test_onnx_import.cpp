// ONNX import: PyTorch exports of random xUnit networks against PyTorch's own outputs
// (fixtures: tests/fixtures/make_onnx_fixtures.py), and malformed or unsupported graphs, built
// here with the ONNX protobuf schema, refused with an error naming the node.
#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include <fstream>
#include <map>
#include <sstream>

#include "cli/npy_io.h"
#include "common/error.h"
#include "common/file_io.h"
#include "converter/onnx/onnx_import.h"
#include "engine/plan.h"
#include "engine_harness.h"
#include "fixture_io.h"

using namespace xunit;
using namespace xunit::testing;

namespace {

const std::string kDir = std::string(XUNIT_TEST_DATA_DIR) + "/onnx/";

// A small ONNX model built in code: input "x" [1, C, h, w] (dynamic h, w), output named later.
struct OnnxBuilder {
  onnx::ModelProto m;
  explicit OnnxBuilder(int opset = 17, int channels = 3) {
    m.set_ir_version(8);
    m.set_producer_name("test");
    auto *o = m.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    auto *in = m.mutable_graph()->add_input();
    in->set_name("x");
    auto *tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_value(1);
    tt->mutable_shape()->add_dim()->set_dim_value(channels);
    tt->mutable_shape()->add_dim()->set_dim_param("h");
    tt->mutable_shape()->add_dim()->set_dim_param("w");
  }
  onnx::TensorProto *init(const std::string &name, std::vector<int64_t> dims,
                          std::vector<float> values) {
    auto *t = m.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float v : values) t->add_float_data(v);
    return t;
  }
  onnx::NodeProto *node(const std::string &type, std::vector<std::string> inputs,
                        const std::string &output) {
    auto *n = m.mutable_graph()->add_node();
    n->set_op_type(type);
    n->set_name(output + "_node");
    for (auto &i : inputs) n->add_input(i);
    n->add_output(output);
    return n;
  }
  static void attr_ints(onnx::NodeProto *n, const std::string &name, std::vector<int64_t> v) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void attr_int(onnx::NodeProto *n, const std::string &name, int64_t v) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INT);
    a->set_i(v);
  }
  static void attr_string(onnx::NodeProto *n, const std::string &name, const std::string &v) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_STRING);
    a->set_s(v);
  }
  // A 3x3 'same' conv from `in` (c_in channels) to c_out channels with weights w0 + i * dw.
  onnx::NodeProto *conv(const std::string &in, int c_in, int c_out, const std::string &out,
                        float w0 = 0.01f) {
    std::vector<float> w(static_cast<size_t>(c_out * c_in * 9)), b(static_cast<size_t>(c_out));
    for (size_t i = 0; i < w.size(); ++i) w[i] = w0 + 0.003f * float(i % 17) - 0.02f;
    for (size_t i = 0; i < b.size(); ++i) b[i] = 0.05f * float(i);
    init(out + ".w", {c_out, c_in, 3, 3}, w);
    init(out + ".b", {c_out}, b);
    auto *n = node("Conv", {in, out + ".w", out + ".b"}, out);
    attr_ints(n, "pads", {1, 1, 1, 1});
    return n;
  }
  void output(const std::string &name) { m.mutable_graph()->add_output()->set_name(name); }
  std::vector<uint8_t> bytes() const {
    std::string s = m.SerializeAsString();
    return std::vector<uint8_t>(s.begin(), s.end());
  }
};

std::string import_error(const std::vector<uint8_t> &bytes) {
  try {
    convert::import_onnx(bytes, {});
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("ONNX exports of random xUnit networks match PyTorch within 1e-4, whole and tiled" *
          doctest::test_suite("engine")) {
  std::ifstream list(kDir + "cases.txt");
  std::string name;
  int scale = 0, cases = 0;
  float worst = 0;
  while (list >> name >> scale) {
    CAPTURE(name);
    ++cases;
    const HwcImage input = load_npy(kDir + name + "/input.npy");
    const HwcImage want = load_npy(kDir + name + "/output.npy");
    Graph g = convert::import_onnx(read_file(kDir + name + "/model.onnx"), {});
    CHECK(g.output_scale() == scale);
    CHECK(g.metadata.at("family") == "onnx");
    CHECK(g.metadata.at("onnx_opset") == name.substr(name.rfind("opset") + 5));
    // (the test input has another size than the export's example: dynamic H/W)
    CHECK(max_abs_diff(run_oracle(g, input), want) <= 1e-4f);
    LoadedModel m = load_graph(g);
    for (auto [tile, chunk] : {std::pair{0, 0}, {5, 3}, {1, 1}}) {
      CAPTURE(tile);
      const float err = max_abs_diff(run_engine(*m.model, input, tile, 2, chunk), want);
      worst = std::max(worst, err);
      CHECK(err <= 1e-4f);
    }
  }
  CHECK(cases >= 28);
  MESSAGE("worst ONNX parity error: " << worst);
}

TEST_CASE("ONNX: exported xUnit gates, dense concatenations and BatchNorms are fused" *
          doctest::test_suite("engine")) {
  Graph dense = convert::import_onnx(read_file(kDir + "xdense_opset17/model.onnx"), {});
  Plan plan = make_plan(dense, 16);
  int gates = 0, virtuals = 0;
  for (const Step &s : plan.steps) gates += s.kind == StepKind::DwGate;
  for (const ValuePlan &v : plan.values) virtuals += v.is_virtual();
  CHECK(gates == 5);     // head + 4 dense layers: Mul(x, Sigmoid(dw(...))) became one step each
  CHECK(virtuals >= 3);  // dense concatenations read in place

  // Conv -> BatchNormalization folds into the conv (one op); the same BN after a concat cannot.
  OnnxBuilder b;
  b.conv("x", 3, 4, "c");
  b.init("s", {4}, {1.5f, 0.5f, 2.f, 1.f});
  b.init("t", {4}, {0.1f, -0.2f, 0.f, 0.3f});
  b.init("mean", {4}, {0.2f, 0.1f, -0.1f, 0.f});
  b.init("var", {4}, {1.f, 0.5f, 2.f, 4.f});
  b.node("BatchNormalization", {"c", "s", "t", "mean", "var"}, "y");
  b.output("y");
  Graph folded = convert::import_onnx(b.bytes(), {});
  CHECK(folded.ops.size() == 1);
  OnnxBuilder u = b;
  u.m.mutable_graph()->mutable_output(0)->set_name("y2");
  u.node("Add", {"y", "c"}, "y2");  // c has a second reader: no folding
  Graph unfolded = convert::import_onnx(u.bytes(), {});
  CHECK(unfolded.ops.size() == 3);
  HwcImage in = random_image(9, 7, 3, 3);
  HwcImage a = run_oracle(folded, in), both = run_oracle(unfolded, in);
  // y2 = bn(c) + c, so bn(c) = y2 - c: the folded conv must give the same bn(c).
  float worst = 0;
  OnnxBuilder plain;
  plain.conv("x", 3, 4, "c");
  plain.output("c");
  HwcImage c = run_oracle(convert::import_onnx(plain.bytes(), {}), in);
  for (size_t i = 0; i < a.data.size(); ++i)
    worst = std::max(worst, std::abs(a.data[i] - (both.data[i] - c.data[i])));
  CHECK(worst <= 1e-5f);
}

TEST_CASE("ONNX: a noise-level map input (forward(image, map)) becomes the engine's noise level" *
          doctest::test_suite("engine")) {
  // Fixtures: make_onnx_fixtures.py --noise-map-only. The map is never an image the caller
  // makes: the engine fills it from the run's level, so the output at sigma must be PyTorch's
  // with the map holding sigma * scale, whole and tiled, whichever input the map is.
  const std::string dir = std::string(XUNIT_TEST_DATA_DIR) + "/onnx_noise_map/";
  std::ifstream list(dir + "cases.txt");
  std::string line;
  int cases = 0;
  while (std::getline(list, line)) {
    std::istringstream fields(line);
    std::string name, setting;
    float sigma = 0;
    fields >> name >> sigma;
    std::map<std::string, std::string> settings;
    if (fields >> setting) {
      const size_t eq = setting.find('=');
      REQUIRE(eq != std::string::npos);
      settings[setting.substr(0, eq)] = setting.substr(eq + 1);
    }
    CAPTURE(name);
    ++cases;
    const HwcImage input = load_npy(dir + name + "/input.npy");
    const HwcImage want = load_npy(dir + name + "/output.npy");
    const std::vector<uint8_t> bytes = read_file(dir + name + "/model.onnx");
    Graph g = convert::import_onnx(bytes, settings);
    CHECK(g.noise_level_input());
    CHECK(g.in_channels() == input.channels);
    CHECK(g.metadata.at("noise_level_input") == (settings.empty() ? "sigma/255" : "sigma*1"));
    RunParams params;
    params.noise_level = sigma;
    CHECK(max_abs_diff(run_oracle(g, input, params), want) <= 1e-4f);
    LoadedModel m = load_graph(g);
    for (auto [tile, chunk] : {std::pair{0, 0}, {5, 3}}) {
      CAPTURE(tile);
      CHECK(max_abs_diff(run_engine(*m.model, input, tile, 2, chunk, params), want) <= 1e-4f);
    }
    // Another level gives another output (the map is read), and the scale matters.
    params.noise_level = sigma + 20.f;
    CHECK(max_abs_diff(run_engine(*m.model, input, 0, 2, 0, params), want) > 1e-3f);
    if (!settings.empty()) {
      const Graph as_default = convert::import_onnx(bytes, {});
      CHECK(as_default.metadata.at("noise_level_input") == "sigma/255");
    }
  }
  CHECK(cases == 4);
  {
    // Built here: the map's own names for dynamic sizes (torch's list-form dynamic_axes) are no
    // mismatch; two one-channel inputs whose names do not say which is the map are asked about.
    auto two_inputs = [](int channels, const std::string &second, const std::string &h) {
      OnnxBuilder b(17, channels);
      auto *in = b.m.mutable_graph()->add_input();
      in->set_name(second);
      auto *tt = in->mutable_type()->mutable_tensor_type();
      tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
      tt->mutable_shape()->add_dim()->set_dim_value(1);
      tt->mutable_shape()->add_dim()->set_dim_value(1);
      tt->mutable_shape()->add_dim()->set_dim_param(h);
      tt->mutable_shape()->add_dim()->set_dim_param(h + "_w");
      auto *cat = b.node("Concat", {"x", second}, "c");
      OnnxBuilder::attr_int(cat, "axis", 1);
      b.conv("c", channels + 1, channels, "y");
      b.output("y");
      return b.bytes();
    };
    const Graph g = convert::import_onnx(two_inputs(3, "noise_level", "other_h"), {});
    CHECK(g.noise_level_input());
    CHECK(g.metadata.at("onnx_noise_input") == "noise_level");
    CHECK(import_error(two_inputs(1, "y2", "h")).find("say which is the noise-level map") !=
          std::string::npos);
    CHECK(convert::import_onnx(two_inputs(1, "y2", "h"), {{"noise_input", "y2"}})
              .noise_level_input());
    CHECK(
        convert::import_onnx(two_inputs(1, "sigma_map", "h"), {}).metadata.at("onnx_noise_input") ==
        "sigma_map");
  }
  // Naming the map: a wrong name, a scale without a map, a bad scale, an unknown key.
  const std::vector<uint8_t> c3 = read_file(dir + "xdncnn_map_c3_opset17/model.onnx");
  auto refused = [](const std::vector<uint8_t> &bytes, std::map<std::string, std::string> set) {
    try {
      convert::import_onnx(bytes, set);
    } catch (const Error &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(refused(c3, {{"noise_input", "sigma"}}).find("no second input of that name") !=
        std::string::npos);
  CHECK(convert::import_onnx(c3, {{"noise_input", "noise_level"}}).noise_level_input());
  // Naming the image as the map: the map must then have one channel.
  CHECK(refused(c3, {{"noise_input", "image"}}).find("must have one channel") != std::string::npos);
  for (const char *bad : {"0", "-1", "nan", "x"})
    CHECK(refused(c3, {{"noise_level_scale", bad}}).find("noise_level_scale") != std::string::npos);
  CHECK(refused(c3, {{"eps", "1e-5"}}).find("--set eps: not a setting of ONNX models") !=
        std::string::npos);
  CHECK(refused(read_file(kDir + "xdncnn_opset17/model.onnx"), {{"noise_level_scale", "1"}})
            .find("has no noise-level map input") != std::string::npos);
  std::ifstream errors(dir + "errors/cases.txt");
  std::string file, text;
  int n = 0;
  while (errors >> file && std::getline(errors, text)) {
    CAPTURE(file);
    CHECK(import_error(read_file(dir + "errors/" + file)).find(text.substr(1)) !=
          std::string::npos);
    ++n;
  }
  CHECK(n == 2);
}

TEST_CASE("ONNX: unsupported exports are refused with the node and the reason") {
  std::ifstream list(kDir + "errors/cases.txt");
  std::string file, text;
  int n = 0;
  while (list >> file && std::getline(list, text)) {
    text = text.substr(1);
    CAPTURE(file);
    const std::string e = import_error(read_file(kDir + "errors/" + file));
    CHECK(e.find(text) != std::string::npos);
    CHECK(e.find("node '") != std::string::npos);
    ++n;
  }
  CHECK(n >= 6);
}

TEST_CASE("ONNX: malformed and unsupported graphs fail with one clear error") {
  auto base = [] {
    OnnxBuilder b;
    b.conv("x", 3, 3, "y");
    b.output("y");
    return b;
  };
  CHECK(import_error(base().bytes()).empty());

  std::vector<uint8_t> garbage = {0x08, 0x07, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  CHECK(import_error(garbage).find("not an ONNX model") != std::string::npos);
  CHECK(import_error({}).find("empty") != std::string::npos);
  {
    OnnxBuilder b(9);
    b.conv("x", 3, 3, "y");
    b.output("y");
    CHECK(import_error(b.bytes()).find("opset 9 is not supported") != std::string::npos);
  }
  {
    OnnxBuilder b = base();
    b.m.mutable_graph()->mutable_initializer(0)->set_data_location(
        onnx::TensorProto_DataLocation_EXTERNAL);
    CHECK(import_error(b.bytes()).find("external file") != std::string::npos);
  }
  {
    OnnxBuilder b = base();
    b.m.mutable_graph()->mutable_initializer(0)->mutable_float_data()->RemoveLast();
    CHECK(import_error(b.bytes()).find("needs 81") != std::string::npos);
  }
  {
    OnnxBuilder b = base();
    b.m.mutable_graph()->mutable_initializer(1)->set_float_data(0, std::nanf(""));
    CHECK(import_error(b.bytes()).find("non-finite") != std::string::npos);
  }
  {
    OnnxBuilder b = base();
    OnnxBuilder::attr_int(b.m.mutable_graph()->mutable_node(0), "frobnicate", 1);
    CHECK(import_error(b.bytes()).find("attribute 'frobnicate' is not supported") !=
          std::string::npos);
  }
  {
    OnnxBuilder b = base();
    b.m.mutable_graph()->mutable_node(0)->set_input(0, "nowhere");
    CHECK(import_error(b.bytes()).find("input 'nowhere' is never defined") != std::string::npos);
  }
  {
    OnnxBuilder b;  // a -> b -> a
    b.node("Relu", {"b"}, "a");
    b.node("Relu", {"a"}, "b");
    b.output("a");
    CHECK(import_error(b.bytes()).find("cycle") != std::string::npos);
  }
  {
    OnnxBuilder b;
    b.node("Relu", {"x"}, "a");
    b.node("Sigmoid", {"x"}, "a");
    b.output("a");
    CHECK(import_error(b.bytes()).find("defined twice") != std::string::npos);
  }
  {
    OnnxBuilder b = base();
    *b.m.mutable_graph()->add_input() = b.m.graph().input(0);
    b.m.mutable_graph()->mutable_input(1)->set_name("x2");
    // (a second input is a noise-level map, of one channel)
    CHECK(import_error(b.bytes()).find("'x2' (the noise-level map): must have one channel") !=
          std::string::npos);
  }
  {
    OnnxBuilder b = base();
    b.m.mutable_graph()
        ->mutable_input(0)
        ->mutable_type()
        ->mutable_tensor_type()
        ->mutable_shape()
        ->mutable_dim(1)
        ->set_dim_param("c");
    CHECK(import_error(b.bytes()).find("channel dimension must be a fixed number") !=
          std::string::npos);
  }
  {
    OnnxBuilder b;  // x * constant that varies over space: not per-channel
    b.init("k", {1, 1, 2, 2}, {1, 2, 3, 4});
    b.node("Mul", {"x", "k"}, "y");
    b.output("y");
    CHECK(import_error(b.bytes()).find("does not broadcast per channel") != std::string::npos);
  }
  {
    OnnxBuilder b;
    OnnxBuilder::attr_int(b.node("Concat", {"x", "x"}, "y"), "axis", 2);
    b.output("y");
    CHECK(import_error(b.bytes()).find("only channel concatenation") != std::string::npos);
  }
  for (std::vector<float> scales :
       {std::vector<float>{1, 1, 2, 3}, {1, 1, 1.5f, 1.5f}, {1, 2, 2, 2}, {1, 1, 16, 16}}) {
    OnnxBuilder b;
    b.init("roi", {0}, {});
    b.init("scales", {4}, scales);
    b.node("Resize", {"x", "roi", "scales"}, "y");
    b.output("y");
    CHECK(import_error(b.bytes()).find("integer factor f from 2 to 8") != std::string::npos);
  }
  {
    OnnxBuilder b;
    b.init("roi", {0}, {});
    b.init("scales", {4}, {1, 1, 2, 2});
    OnnxBuilder::attr_string(b.node("Resize", {"x", "roi", "scales"}, "y"),
                             "coordinate_transformation_mode", "tf_crop_and_resize");
    b.output("y");
    CHECK(import_error(b.bytes()).find("'tf_crop_and_resize' is not supported") !=
          std::string::npos);
  }
  {
    OnnxBuilder b;
    OnnxBuilder::attr_int(b.node("DepthToSpace", {"x"}, "y"), "blocksize",
                          2);  // 3 channels: not C*4
    b.output("y");
    CHECK(import_error(b.bytes()).find("channels not divisible by factor^2") != std::string::npos);
  }
  {
    OnnxBuilder b = base();
    b.m.mutable_graph()->mutable_node(0)->set_domain("com.example");
    CHECK(import_error(b.bytes()).find("custom domain") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(convert::import_onnx(base().bytes(), {{"eps", "1e-3"}}),
                       doctest::Contains("--set eps: not a setting of ONNX models"), Error);
}

TEST_CASE("ONNX: layout chains and constant subgraphs that are not shuffles fail in one line") {
  auto error_of = [](auto build) {
    OnnxBuilder b;
    build(b);
    return import_error(b.bytes());
  };
  // ConstantOfShape asked for 2^40 elements: refused before anything that size is made.
  CHECK(error_of([](OnnxBuilder &b) {
          b.init("shape", {1}, {1099511627776.f});
          b.node("ConstantOfShape", {"shape"}, "big");
          b.node("Reshape", {"x", "big"}, "r");
          b.output("r");
        }).find("beyond what a layout change can hold") != std::string::npos);
  // Size arithmetic that overflows int64.
  CHECK(error_of([](OnnxBuilder &b) {
          b.node("Shape", {"x"}, "s");
          b.init("huge", {1}, {4.0e18f});
          b.node("Mul", {"s", "huge"}, "m");
          b.node("Reshape", {"x", "m"}, "r");
          b.output("r");
        }).find("integer overflow") != std::string::npos);
  // A Transpose that swaps height and width: not a shuffle.
  CHECK(error_of([](OnnxBuilder &b) {
          auto *t = b.node("Transpose", {"x"}, "t");
          OnnxBuilder::attr_ints(t, "perm", {0, 1, 3, 2});
          b.output("t");
        }).find("not a pixel shuffle or unshuffle") != std::string::npos);
  // A perm that is not a permutation.
  CHECK(error_of([](OnnxBuilder &b) {
          auto *t = b.node("Transpose", {"x"}, "t");
          OnnxBuilder::attr_ints(t, "perm", {0, 1, 1, 2});
          b.output("t");
        }).find("not a permutation") != std::string::npos);
  // A reshape that keeps the layout is no op at all; the graph is the conv alone.
  {
    OnnxBuilder b;
    b.node("Shape", {"x"}, "s");
    b.node("Reshape", {"x", "s"}, "same");
    b.conv("same", 3, 3, "y");
    b.output("y");
    const Graph g = convert::import_onnx(b.bytes(), {});
    CHECK(g.ops.size() == 1);
  }
  // Float constants are folded as floats: conv(x) * (3 / 2) scales by 1.5, not by 1.
  {
    OnnxBuilder b;
    b.init("three", {1}, {3.f});
    b.init("two", {1}, {2.f});
    b.node("Div", {"three", "two"}, "k");
    b.conv("x", 3, 3, "y");
    b.node("Mul", {"y", "k"}, "z");
    b.output("z");
    const Graph g = convert::import_onnx(b.bytes(), {});
    REQUIRE(g.ops.size() == 2);
    CHECK(g.tensor(g.ops[1].scale).data[0] == 1.5f);
  }
  // A Concat of sizes is bounded before it copies: 2^20 sizes repeated are refused at once.
  CHECK(error_of([](OnnxBuilder &b) {
          b.init("n", {1}, {1048576.f});
          b.node("ConstantOfShape", {"n"}, "z");
          b.node("Shape", {"x"}, "s");
          b.node("Concat", {"s", "z", "z", "z", "z"}, "c");
          OnnxBuilder::attr_int(b.m.mutable_graph()->mutable_node(2), "axis", 0);
          b.node("Reshape", {"x", "c"}, "r");
          b.output("r");
        }).find("too many sizes") != std::string::npos);
  // An element-wise op reading an image that went through a layout change is that op.
  {
    OnnxBuilder b;
    b.node("Shape", {"x"}, "s");
    b.node("Reshape", {"x", "s"}, "same");
    b.node("Add", {"same", "x"}, "sum");
    b.conv("sum", 3, 3, "y");
    b.output("y");
    const Graph g = convert::import_onnx(b.bytes(), {});
    CHECK(g.ops.size() == 2);  // add, conv
  }
  // Wrap-around padding is refused by name.
  CHECK(error_of([](OnnxBuilder &b) {
          b.init("pads", {8}, {0, 0, 1, 1, 0, 0, 1, 1});
          auto *p = b.node("Pad", {"x", "pads"}, "p");
          OnnxBuilder::attr_string(p, "mode", "wrap");
          b.conv("p", 3, 3, "y");
          b.output("y");
        }).find("padding mode 'wrap' is not supported") != std::string::npos);
}
