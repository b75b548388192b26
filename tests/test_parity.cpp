// Every family and checkpoint format against PyTorch's own outputs
// (fixtures: tests/fixtures/make_parity_fixtures.py, run by Debian's python3-torch).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "cli/npy_io.h"
#include "common/error.h"
#include "common/file_io.h"
#include "converter/checkpoint.h"
#include "converter/families/family_registry.h"
#include "engine_harness.h"
#include "fixture_io.h"

using namespace xunit;
using namespace xunit::testing;

namespace {

const std::string kDir = std::string(XUNIT_TEST_DATA_DIR) + "/parity/";

struct ParityCase {
  std::string name, arch;
  int channels = 0, scale = 1;
};

std::vector<ParityCase> read_cases() {
  std::ifstream in(kDir + "cases.txt");
  std::vector<ParityCase> cases;
  ParityCase c;
  while (in >> c.name >> c.arch >> c.channels >> c.scale) cases.push_back(c);
  return cases;
}

LoadedModel convert_checkpoint(const std::string &checkpoint, const std::string &arch) {
  std::vector<uint8_t> bytes = read_file(checkpoint);
  convert::StateDict dict = convert::load_checkpoint(bytes);
  return load_graph(convert::build_graph(dict, arch, {}));
}

}  // namespace

TEST_CASE("every family and checkpoint format matches PyTorch within 1e-4, whole and tiled" *
          doctest::test_suite("engine")) {
  std::vector<ParityCase> cases = read_cases();
  REQUIRE(cases.size() >= 15);
  float worst = 0;
  for (const ParityCase &c : cases) {
    const HwcImage input = load_npy(kDir + c.name + "/input.npy");
    const HwcImage want = load_npy(kDir + c.name + "/output.npy");
    for (const char *file : {"model.pt", "model_legacy.pt", "model.safetensors"}) {
      // --arch omitted: the family must be recognised from the keys.
      LoadedModel m = convert_checkpoint(kDir + c.name + "/" + file, "");
      CAPTURE(c.name);
      CAPTURE(file);
      CHECK(m.model->graph().metadata.at("family") == c.arch);
      CHECK(m.model->graph().output_scale() == c.scale);
      for (int tile : {0, 5}) {
        CAPTURE(tile);
        float err = max_abs_diff(run_engine(*m.model, input, tile, 2), want);
        worst = std::max(worst, err);
        CHECK(err <= 1e-4f);
      }
    }
    // The reference executor on the converted graph: checks the conversion independently of the
    // oneDNN path.
    LoadedModel m = convert_checkpoint(kDir + c.name + "/model.pt", c.arch);
    CHECK(max_abs_diff(run_oracle(m.model->graph(), input), want) <= 1e-4f);
  }
  MESSAGE("worst parity error over all cases: " << worst);
}

TEST_CASE(
    "noise-level-conditioned denoisers (xdncnn, FFDNet) match PyTorch at each sigma, whole and "
    "tiled" *
    doctest::test_suite("engine")) {
  // noise_cases.txt: name arch in_channels sigma... (outputs output_s<sigma>.npy)
  std::ifstream list(kDir + "noise_cases.txt");
  std::string line;
  int cases = 0;
  while (std::getline(list, line)) {
    std::istringstream fields(line);
    ParityCase c;
    REQUIRE(bool(fields >> c.name >> c.arch >> c.channels));
    CAPTURE(c.name);
    ++cases;
    LoadedModel m = convert_checkpoint(kDir + c.name + "/model.pt", "");
    const Graph &g = m.model->graph();
    CHECK(g.metadata.at("family") == c.arch);
    CHECK(g.metadata.at("noise_level_input") == "sigma/255");
    CHECK(g.noise_level_input());
    CHECK(g.in_channels() == c.channels);
    const HwcImage input = load_npy(kDir + c.name + "/input.npy");
    int sigma = 0, sigmas = 0;
    while (fields >> sigma) {
      CAPTURE(sigma);
      ++sigmas;
      const HwcImage want = load_npy(kDir + c.name + "/output_s" + std::to_string(sigma) + ".npy");
      const RunParams params{float(sigma)};
      for (int tile : {0, 5})
        CHECK(max_abs_diff(run_engine(*m.model, input, tile, 2, 0, params), want) <= 1e-4f);
      CHECK(max_abs_diff(run_oracle(g, input, params), want) <= 1e-4f);
    }
    CHECK(sigmas >= 2);
  }
  CHECK(cases >= 2);
}

TEST_CASE("wrapped checkpoints ({'state_dict': module.*}, {'g_model': ...}) convert identically" *
          doctest::test_suite("engine")) {
  for (const char *name : {"xdncnn_c3_f16_b2", "xsrgan_c3_f16_b2_x2"}) {
    const HwcImage input = load_npy(kDir + name + "/input.npy");
    const HwcImage want = load_npy(kDir + name + "/output.npy");
    LoadedModel m = convert_checkpoint(kDir + name + "/model_wrapped.pt", "");
    CHECK(max_abs_diff(run_engine(*m.model, input, 0, 1), want) <= 1e-4f);
  }
}

TEST_CASE("fp16 and bf16 weight storage stay close to fp32" * doctest::test_suite("engine")) {
  std::vector<uint8_t> bytes = read_file(kDir + "xdncnn_c3_f16_b2/model.pt");
  Graph g = convert::build_graph(convert::load_checkpoint(bytes), "", {});
  const HwcImage input = load_npy(kDir + "xdncnn_c3_f16_b2/input.npy");
  const HwcImage want = load_npy(kDir + "xdncnn_c3_f16_b2/output.npy");
  LoadedModel half = load_graph(g, DType::F16);
  LoadedModel brain = load_graph(g, DType::BF16);
  float e16 = max_abs_diff(run_engine(*half.model, input, 0, 1), want);
  float eb16 = max_abs_diff(run_engine(*brain.model, input, 0, 1), want);
  MESSAGE("fp16 storage max error " << e16 << ", bf16 storage max error " << eb16);
  CHECK(e16 <= 5e-3f);
  CHECK(eb16 <= 5e-2f);
}

TEST_CASE("converter errors name the problem") {
  std::vector<uint8_t> bytes = read_file(kDir + "xdncnn_c3_f16_b2/model.pt");
  convert::StateDict dict = convert::load_checkpoint(bytes);
  auto error_of = [](const convert::StateDict &d, const std::string &arch,
                     std::map<std::string, std::string> settings = {}) -> std::string {
    try {
      convert::build_graph(d, arch, settings);
    } catch (const Error &e) {
      return e.what();
    }
    return "";
  };
  CHECK(error_of(dict, "dncnn").find("look like family xdncnn") != std::string::npos);
  CHECK(error_of(dict, "nosuch").find("unknown --arch") != std::string::npos);
  CHECK(error_of(dict, "", {{"frobnicate", "1"}}).find("frobnicate") != std::string::npos);
  convert::StateDict missing = dict;
  missing.tensors.erase(missing.tensors.begin() + 5);
  CHECK(error_of(missing, "xdncnn").find("missing key") != std::string::npos);
  convert::StateDict bad_shape = dict;
  for (auto &t : bad_shape.tensors)
    if (t.name == "features.0.conv.weight") t.shape = {16, 16, 3, 1}, t.data.resize(16 * 16 * 3);
  CHECK(error_of(bad_shape, "").find("features.0.conv.weight") != std::string::npos);
  convert::StateDict empty;
  CHECK(!error_of(empty, "").empty());
  // xdncnn's first conv reads the image, or the image and a noise-level map: nothing else.
  convert::StateDict mismatched = dict;
  for (auto &t : mismatched.tensors) {
    if (t.name == "features_to_image.weight") t.shape[0] = 1, t.data.resize(16 * 5 * 5);
    if (t.name == "features_to_image.bias") t.shape[0] = 1, t.data.resize(1);
  }
  CHECK(error_of(mismatched, "").find("one more (a noise-level map)") != std::string::npos);
}

TEST_CASE("FFDNet checkpoints: shape checks, and format 1.5 for the edge-extending unshuffle" *
          doctest::test_suite("engine")) {
  std::vector<uint8_t> bytes = read_file(kDir + "ffdnet_c3_f16_n4/model.pt");
  convert::StateDict dict = convert::load_checkpoint(bytes);
  auto error_of = [](const convert::StateDict &d, const std::string &arch) -> std::string {
    try {
      convert::build_graph(d, arch, {});
    } catch (const Error &e) {
      return e.what();
    }
    return "";
  };
  Graph g = convert::build_graph(dict, "", {});
  CHECK(g.metadata.at("family") == "ffdnet");
  CHECK(g.metadata.at("task") == "denoise");
  CHECK(g.metadata.at("num_convs") == "4");
  CHECK(g.metadata.at("num_features") == "16");
  CHECK(g.metadata.at("scale") == "1");
  CHECK(g.input_factor() == 2);
  // Written as 1.5 (older readers would refuse pixel_unshuffle_edge by name) and read back so.
  std::vector<uint8_t> file = serialize_model(g, DType::F32);
  CHECK((file[10] | (file[11] << 8)) == 5);
  Graph back = parse_model(file.data(), file.size());
  REQUIRE(!back.ops.empty());
  CHECK(back.ops.front().type == OpType::PixelUnshuffleEdge);
  // The map reads the unshuffled image (the stream); one at the input's size is refused.
  Graph full_size_map = g;
  for (Op &op : full_size_map.ops)
    if (op.type == OpType::NoiseLevelMap) op.inputs[0] = full_size_map.input;
  try {
    full_size_map.validate_and_infer();
    FAIL("expected an error");
  } catch (const Error &e) {
    CHECK(std::string(e.what()).find("noise-level map at the input's size") != std::string::npos);
  }

  // A last conv that does not write the image's four sub-images is not an FFDNet.
  convert::StateDict short_tail = dict;
  for (auto &t : short_tail.tensors) {
    if (t.name == "model.6.weight") t.shape[0] = 3, t.data.resize(3 * 16 * 9);
    if (t.name == "model.6.bias") t.shape[0] = 3, t.data.resize(3);
  }
  CHECK(error_of(short_tail, "").find("cannot tell the model family") != std::string::npos);
  CHECK(error_of(short_tail, "ffdnet").find("model.6.weight writes 3 channels") !=
        std::string::npos);
  // A conv where a ReLU belongs, a gap where a conv belongs: refused by slot.
  convert::StateDict odd_slot = dict;
  for (auto &t : odd_slot.tensors)
    if (t.name.rfind("model.6.", 0) == 0) t.name = "model.7." + t.name.substr(8);
  CHECK(error_of(odd_slot, "ffdnet").find("expected a conv at model.6") != std::string::npos);
  convert::StateDict relu_weights = dict;
  for (auto &t : relu_weights.tensors)
    if (t.name.rfind("model.4.", 0) == 0) t.name = "model.3." + t.name.substr(8);
  CHECK(error_of(relu_weights, "ffdnet").find("model.3 holds weights where a ReLU") !=
        std::string::npos);
  // A first conv that cannot read 2x2 sub-images and a map, under a forced --arch.
  convert::StateDict kair =
      convert::load_checkpoint(read_file(kDir + "kair_dncnn_c3_f16_n5/model.pt"));
  CHECK(error_of(kair, "ffdnet").find("4 C + 1") != std::string::npos);

  // Sides of 1 to 5 pixels (the edge extension reaching the whole image): the engine, whole and
  // in stripes, as the reference executor.
  LoadedModel m = load_graph(g);
  for (auto [w, h] : {std::pair{1, 1}, {1, 5}, {3, 1}, {5, 3}, {2, 3}}) {
    CAPTURE(w);
    CAPTURE(h);
    const HwcImage in = random_image(w, h, 3, unsigned(7 * w + h));
    const RunParams params{25.f};
    const HwcImage want = run_oracle(m.model->graph(), in, params);
    for (int tile : {0, 1, 2})
      CHECK(max_abs_diff(run_engine(*m.model, in, tile, 2, 0, params), want) <= 1e-5f);
  }
  // An xdncnn checkpoint is not one.
  convert::StateDict xdncnn =
      convert::load_checkpoint(read_file(kDir + "xdncnn_c3_f16_b2/model.pt"));
  CHECK(error_of(xdncnn, "ffdnet").find("look like family xdncnn") != std::string::npos);
}

TEST_CASE("xdense checkpoints: variant, blocks, growth and kernel come from the shapes") {
  struct Want {
    const char *name, *task, *blocks, *growth, *kernel;
    int scale;
  };
  for (const Want &w : {Want{"xdense_c3_f16_g8_b2-3", "denoise", "2,3", "8", "7", 1},
                        Want{"xdense_c1_f12_g4_b3_k5", "denoise", "3", "4", "5", 1},
                        Want{"xdense_sr_c3_f8_g4_x4", "sr", "1,2,1", "4", "7", 4}}) {
    CAPTURE(w.name);
    std::vector<uint8_t> bytes = read_file(kDir + w.name + "/model.pt");
    convert::StateDict dict = convert::load_checkpoint(bytes);
    Graph g = convert::build_graph(dict, "xdense", {});
    CHECK(g.metadata.at("task") == w.task);
    CHECK(g.metadata.at("gen_blocks") == w.blocks);
    CHECK(g.metadata.at("growth_rate") == w.growth);
    CHECK(g.metadata.at("xunit_kernel") == w.kernel);
    CHECK(g.output_scale() == w.scale);
    // A dense layer's bottleneck conv without its BatchNorm is a missing key, named.
    if (std::string(w.task) == "denoise") {
      convert::StateDict broken = dict;
      for (size_t i = 0; i < broken.tensors.size(); ++i)
        if (broken.tensors[i].name == "features.0.features.0.features.3.running_var")
          broken.tensors.erase(broken.tensors.begin() + long(i));
      try {
        convert::build_graph(broken, "", {});
        FAIL("a missing BatchNorm statistic was accepted");
      } catch (const Error &e) {
        CHECK(std::string(e.what()).find("features.0.features.0.features.3.running_var") !=
              std::string::npos);
      }
    }
  }
}
