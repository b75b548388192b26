// Torch zip and legacy checkpoints written by real torch (tests/fixtures/make_reader_fixtures.py),
// compared bit-for-bit with the values torch itself loads; plus hostile and damaged files.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_io.h"
#include "converter/checkpoint.h"
#include "converter/json.h"
#include "converter/torch_checkpoint.h"

using xunit::Error;
using xunit::convert::CheckpointFormat;
using xunit::convert::load_checkpoint;
using xunit::convert::StateDict;

namespace {

std::string fixture(const std::string &name) {
  return std::string(XUNIT_TEST_DATA_DIR) + "/readers/" + name;
}

std::string format_name(CheckpointFormat f) {
  switch (f) {
    case CheckpointFormat::TorchZip:
      return "TorchZip";
    case CheckpointFormat::TorchLegacy:
      return "TorchLegacy";
    case CheckpointFormat::Safetensors:
      return "Safetensors";
  }
  return "?";
}

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Loads `<stem>.pt` and compares it with `<stem>.expect.json` (torch's values as float32 bits).
void check_against_expectation(const std::string &file, const std::string &stem) {
  CAPTURE(file);
  const auto expect_text = xunit::read_file(fixture(stem + ".expect.json"));
  const auto expect = xunit::convert::json::parse(
      reinterpret_cast<const char *>(expect_text.data()), expect_text.size());
  CheckpointFormat format;
  const StateDict sd = load_checkpoint(xunit::read_file(fixture(file)), &format);
  CHECK(format_name(format) == expect.get("format")->string);
  const auto &tensors = expect.get("tensors")->array;
  REQUIRE(sd.tensors.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto &want = tensors[i];
    const auto &got = sd.tensors[i];
    CAPTURE(got.name);
    CHECK(got.name == want.get("name")->string);
    CHECK(got.source_dtype == want.get("dtype")->string);
    std::vector<int64_t> shape;
    for (const auto &d : want.get("shape")->array) shape.push_back(d.integer);
    CHECK(got.shape == shape);
    const auto &bits = want.get("bits")->array;
    REQUIRE(got.data.size() == bits.size());
    size_t mismatches = 0;
    for (size_t k = 0; k < bits.size(); ++k)
      mismatches += bits_of(got.data[k]) != uint32_t(bits[k].integer);
    CHECK(mismatches == 0);
  }
}

std::string load_error(const std::vector<uint8_t> &bytes) {
  try {
    load_checkpoint(bytes);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

std::string load_error(const std::string &file) {
  return load_error(xunit::read_file(fixture(file)));
}

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("torch zip: every dtype, transposed and shared-storage tensors match torch") {
  check_against_expectation("zip_basic.pt", "zip_basic");
}

TEST_CASE("torch legacy: the same state dict saved without the zip format matches torch") {
  check_against_expectation("legacy_basic.pt", "legacy_basic");
}

TEST_CASE("torch zip: deflate-compressed entries") {
  check_against_expectation("zip_deflated.pt", "zip_deflated");
}

TEST_CASE("torch legacy: storage views (torch 1.0-era view metadata)") {
  check_against_expectation("legacy_view.pt", "legacy_view");
}

TEST_CASE(
    "unwrapping: {'state_dict': ...}, {'g_model': {'module.' ...}} and a bare 'module.' prefix") {
  check_against_expectation("zip_wrapped_state_dict.pt", "zip_wrapped_state_dict");
  check_against_expectation("legacy_wrapped_g_model.pt", "legacy_wrapped_g_model");
  check_against_expectation("zip_module_prefix.pt", "zip_module_prefix");
}

TEST_CASE("details of the basic checkpoint") {
  const StateDict sd = load_checkpoint(xunit::read_file(fixture("zip_basic.pt")));
  const auto *t = sd.find("transposed");
  REQUIRE(t != nullptr);
  CHECK(t->shape == std::vector<int64_t>{5, 3});
  const auto *a = sd.find("shared_a");
  const auto *b = sd.find("shared_b");
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK(a->data.front() == 1.0f);  // base[2] = 2 * 0.5
  CHECK(b->data.front() == 5.0f);  // base[10]
  CHECK(b->shape == std::vector<int64_t>{2, 5});
  const auto *steps = sd.find("bn.num_batches_tracked");
  REQUIRE(steps != nullptr);
  CHECK(steps->shape.empty());
  CHECK(steps->data == std::vector<float>{17.0f});
  CHECK(steps->source_dtype == "int64");
}

TEST_CASE("a pickle that calls os.system is refused, naming the global, and nothing runs") {
  std::remove("/tmp/xunit_reader_pwned");
  const std::string err = load_error("hostile_os_system.pt");
  CHECK(contains(err, "refusing to load: checkpoint references global 'posix.system'"));
  CHECK(contains(err, "not on the allow-list"));
  CHECK(!xunit::file_exists("/tmp/xunit_reader_pwned"));
}

TEST_CASE("hostile tensor geometry is refused") {
  CHECK(contains(load_error("hostile_offset_past_data.pt"), "tensor 'w': view reaches element 6"));
  CHECK(contains(load_error("hostile_shape_overflow.pt"), "tensor 'w': shape x stride overflows"));
  CHECK(contains(load_error("hostile_storage_short.pt"),
                 "storage '0' holds 24 bytes, expected 2400"));
  CHECK(
      contains(load_error("hostile_legacy_count.pt"), "storage '0' holds 1099511627776 elements"));
}

TEST_CASE("a non-tensor value inside the state dict is named") {
  CHECK(load_error("zip_non_tensor_value.pt") ==
        "state dict entry 'conv.note' is not a tensor (it is a string)");
}

TEST_CASE("unrecognised input gets one clear line") {
  const std::string expected =
      "unrecognised checkpoint format (expected a PyTorch .pt/.pth or .safetensors file)";
  CHECK(load_error(std::vector<uint8_t>{}) == expected);
  CHECK(load_error(std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'}) == expected);
  // A plain pickle (no legacy magic) is not a torch checkpoint.
  CHECK(load_error(std::vector<uint8_t>{0x80, 0x02, '}', '.'}) == expected);
}

TEST_CASE("every truncation of a real checkpoint throws xunit::Error") {
  for (const char *file :
       {"zip_basic.pt", "legacy_basic.pt", "zip_deflated.pt", "legacy_view.pt"}) {
    CAPTURE(file);
    const auto bytes = xunit::read_file(fixture(file));
    size_t refused = 0;
    for (size_t n = 0; n < bytes.size(); ++n) {
      try {
        load_checkpoint(std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(n)));
      } catch (const Error &) {
        ++refused;
      }
    }
    CHECK(refused == bytes.size());
  }
}

TEST_CASE("byte corruption anywhere in a real checkpoint never crashes") {
  // Errors are fine, and so is loading different numbers (legacy data has no checksum); any
  // exception other than xunit::Error, or a sanitizer report, fails the test.
  for (const char *file : {"zip_basic.pt", "legacy_basic.pt", "legacy_view.pt"}) {
    CAPTURE(file);
    const auto bytes = xunit::read_file(fixture(file));
    size_t refused = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
      for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80)}) {
        auto bad = bytes;
        bad[i] ^= mask;
        try {
          load_checkpoint(bad);
        } catch (const Error &) {
          ++refused;
        }
      }
    }
    CHECK(refused > 0);
  }
}

TEST_CASE("a big-endian legacy checkpoint is refused") {
  auto bytes = xunit::read_file(fixture("legacy_basic.pt"));
  // sys_info's "little_endian" True (NEWTRUE, 0x88) follows its key.
  const std::string key = "little_endian";
  auto it = std::search(bytes.begin(), bytes.end(), key.begin(), key.end());
  REQUIRE(it != bytes.end());
  auto value = std::find(it, bytes.end(), uint8_t(0x88));
  REQUIRE(value != bytes.end());
  *value = 0x89;  // NEWFALSE
  CHECK(load_error(bytes) == "big-endian PyTorch checkpoints are not supported");
}
