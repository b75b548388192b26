// The xUnit authors' 2018 networks (Gaussian gates, module cells) against the project's PyTorch
// reference of that code (models/xunit2018.py; fixtures: tests/fixtures/make_2018_fixtures.py),
// and the authors' released checkpoints themselves where ../shared/external is present.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "cli/npy_io.h"
#include "common/error.h"
#include "common/file_io.h"
#include "converter/checkpoint.h"
#include "converter/families/family_registry.h"
#include "converter/onnx/onnx_import.h"
#include "engine_harness.h"
#include "fixture_io.h"

using namespace xunit;
using namespace xunit::testing;

namespace {

const std::string kDir = std::string(XUNIT_TEST_DATA_DIR) + "/parity2018/";
// The released checkpoints (test data, never copied into the project).
const std::string kExternal =
    std::string(XUNIT_TEST_DATA_DIR) + "/../../../shared/external/xunit-2018/";

LoadedModel convert_checkpoint(const std::string &checkpoint, const std::string &arch) {
  std::vector<uint8_t> bytes = read_file(checkpoint);
  return load_graph(convert::build_graph(convert::load_checkpoint(bytes), arch, {}));
}

}  // namespace

TEST_SUITE_BEGIN("engine");

TEST_CASE("2018 families: the keys name the family, and the engine matches PyTorch within 1e-4") {
  std::ifstream list(kDir + "cases.txt");
  std::string name, arch;
  int channels = 0, scale = 0, cases = 0;
  float worst = 0;
  while (list >> name >> arch >> channels >> scale) {
    ++cases;
    CAPTURE(name);
    const HwcImage input = load_npy(kDir + name + "/input.npy");
    const HwcImage want = load_npy(kDir + name + "/output.npy");
    for (const char *file : {"model_legacy.pt", "model.pt"}) {
      CAPTURE(file);
      LoadedModel m = convert_checkpoint(kDir + name + "/" + file, "");
      CHECK(m.model->graph().metadata.at("family") == arch);
      CHECK(m.model->graph().output_scale() == scale);
      for (int tile : {0, 6}) {
        for (int chunk : {0, 3}) {
          const float err = max_abs_diff(run_engine(*m.model, input, tile, 2, chunk), want);
          worst = std::max(worst, err);
          CHECK(err <= 1e-4f);
        }
      }
    }
    LoadedModel m = convert_checkpoint(kDir + name + "/model_legacy.pt", arch);
    CHECK(max_abs_diff(run_oracle(m.model->graph(), input), want) <= 1e-4f);
    // Their ONNX exports: the Gaussian gate as exported (Mul(z, z), Neg, Exp, Mul) is
    // recognised and fused with its dw conv like the checkpoint's; x - net(x) is a Sub.
    LoadedModel onnx = load_graph(convert::import_onnx(read_file(kDir + name + "/model.onnx"), {}));
    int gates = 0, onnx_gates = 0;
    for (const Step &s : m.model->plan().steps) gates += s.kind == StepKind::DwGate;
    for (const Step &s : onnx.model->plan().steps)
      onnx_gates += s.kind == StepKind::DwGate && s.gate->type == OpType::GateGaussian;
    CHECK(onnx_gates == gates);
    const float err = max_abs_diff(run_engine(*onnx.model, input, 5, 2, 4), want);
    worst = std::max(worst, err);
    CHECK(err <= 1e-4f);
  }
  CHECK(cases == 5);
  MESSAGE("worst 2018 parity error: " << worst);
}

TEST_CASE("the authors' released 2018 checkpoints convert from their .pkl files and denoise") {
  if (!file_exists(kExternal + "xdncnn_res_f64k3k9_s25.pkl")) {
    MESSAGE("skipped: " << kExternal << " is absent (the authors' checkpoints are test data)");
    return;
  }
  for (const char *file : {"xsrcnnf_s3_k9k3k5.pkl", "xsrcnnf_s4_k9k3k5.pkl",
                           "xsrcnnc_s3_c42c32.pkl", "xsrcnnc_s4_c42c32.pkl"}) {
    CAPTURE(file);
    LoadedModel m = convert_checkpoint(kExternal + file, "");
    CHECK(m.model->graph().metadata.at("family") == "xsrcnn2018");
  }
  // A smooth gray scene with sigma-25 noise: each denoiser must remove most of it.
  const int w = 96, h = 80;
  HwcImage clean{w, h, 1, std::vector<float>(size_t(w) * h)};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      clean.data[size_t(y) * w + x] =
          0.5f + 0.3f * std::sin(x * 0.11f) * std::cos(y * 0.07f) + (x > 50 ? 0.15f : 0.f);
  for (const char *file : {"xdncnn_res_f64k3k9_s25.pkl", "xdncnn_res_f64k3k9_s50.pkl"}) {
    CAPTURE(file);
    LoadedModel m = convert_checkpoint(kExternal + file, "");
    CHECK(m.model->graph().metadata.at("family") == "xdncnn2018");
    CHECK(m.model->graph().metadata.at("xunit_kernel") == "9");
    const float sigma = std::string(file).find("s25") != std::string::npos ? 25.f : 50.f;
    HwcImage noisy = clean;
    std::mt19937 rng(5);
    std::normal_distribution<float> n(0.f, sigma / 255.f);
    for (float &v : noisy.data) v += n(rng);
    auto psnr = [&](const HwcImage &a) {
      double se = 0;
      for (size_t i = 0; i < a.data.size(); ++i) {
        const double d = std::min(std::max(double(a.data[i]), 0.0), 1.0) - clean.data[i];
        se += d * d;
      }
      return 10 * std::log10(double(a.data.size()) / se);
    };
    const HwcImage out = run_engine(*m.model, noisy, 0, 2);
    MESSAGE(std::string(file) << ": PSNR " << psnr(noisy) << " -> " << psnr(out) << " dB");
    CHECK(psnr(out) > psnr(noisy) + 8);
    // Stripes and the reference executor agree with the whole-image run.
    CHECK(max_abs_diff(run_engine(*m.model, noisy, 24, 2, 5), out) <= 1e-5f);
    CHECK(max_abs_diff(run_oracle(m.model->graph(), noisy), out) <= 1e-4f);
  }
}

TEST_SUITE_END();
