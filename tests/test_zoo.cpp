// Public restoration architectures as their usual code exports them to ONNX (fixtures:
// tests/fixtures/make_zoo_fixtures.py): what converts matches PyTorch, whole and in stripes;
// what does not is refused with one line naming the node and the reason.
#include <doctest/doctest.h>

#include <fstream>
#include <map>

#include "cli/npy_io.h"
#include "common/error.h"
#include "common/file_io.h"
#include "converter/onnx/onnx_import.h"
#include "engine/image_runner.h"
#include "engine_harness.h"
#include "fixture_io.h"

using namespace xunit;
using namespace xunit::testing;

namespace {

const std::string kDir = std::string(XUNIT_TEST_DATA_DIR) + "/zoo/";

// Architectures the importer does not take (none today), and the words of its refusal.
const std::map<std::string, std::string> kRefused = {};

}  // namespace

TEST_CASE("public architectures: exports that convert match PyTorch; the rest name the node" *
          doctest::test_suite("engine")) {
  std::ifstream list(kDir + "cases.txt");
  std::string name;
  int channels = 0, scale = 0, converted = 0, refused = 0;
  float worst = 0;
  while (list >> name >> channels >> scale) {
    CAPTURE(name);
    const std::vector<uint8_t> bytes = read_file(kDir + name + "/model.onnx");
    auto refusal = kRefused.find(name);
    if (refusal != kRefused.end()) {
      std::string error;
      try {
        convert::import_onnx(bytes, {});
      } catch (const Error &e) {
        error = e.what();
      }
      CHECK(error.find(refusal->second) != std::string::npos);
      CHECK(error.find("node '") == 0);
      CHECK(error.find('\n') == std::string::npos);
      ++refused;
      continue;
    }
    LoadedModel m = load_graph(convert::import_onnx(bytes, {}));
    CHECK(m.model->graph().output_scale() == scale);
    const HwcImage input = load_npy(kDir + name + "/input.npy");
    const HwcImage want = load_npy(kDir + name + "/output.npy");
    for (int tile : {0, 5}) {
      const float err = max_abs_diff(run_engine(*m.model, input, tile, 2, tile ? 3 : 0), want);
      worst = std::max(worst, err);
      CHECK(err <= 1e-4f);
    }
    CHECK(max_abs_diff(run_oracle(m.model->graph(), input), want) <= 1e-4f);
    // A network that unshuffles its input, on an image of odd sides: as the network's own
    // inference code runs it (reflect-padded to even, the output cropped).
    if (std::ifstream(kDir + name + "/input_odd.npy").good()) {
      const HwcImage odd = load_npy(kDir + name + "/input_odd.npy");
      const HwcImage odd_want = load_npy(kDir + name + "/output_odd.npy");
      // The run and its memory figure work on the unshuffled (stream) size.
      const StreamSize stream = stream_size(m.model->graph(), odd.width, odd.height, {});
      CHECK(stream.width == (odd.width + 1) / 2);
      CHECK(stream.height == (odd.height + 1) / 2);
      for (int tile : {0, 3})
        CHECK(max_abs_diff(run_engine(*m.model, odd, tile, 2), odd_want) <= 1e-4f);
      CHECK(max_abs_diff(run_oracle(m.model->graph(), odd), odd_want) <= 1e-4f);
    }
    ++converted;
  }
  CHECK(converted == 12);
  CHECK(refused == 0);
  MESSAGE("public architectures: " << converted << " convert (worst error " << worst << "), "
                                   << refused << " refused");
}
