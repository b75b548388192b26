// safetensors reading (and its strict JSON parser), against values written from torch.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_io.h"
#include "converter/checkpoint.h"
#include "converter/json.h"
#include "converter/safetensors.h"

using xunit::Error;
using xunit::convert::CheckpointFormat;
using xunit::convert::load_checkpoint;
namespace json = xunit::convert::json;

namespace {

std::string fixture(const std::string &name) {
  return std::string(XUNIT_TEST_DATA_DIR) + "/readers/" + name;
}

// 8-byte length + header + data, as the reference writer lays files out.
std::vector<uint8_t> make_file(const std::string &header, const std::vector<uint8_t> &data,
                               uint64_t declared_length = UINT64_MAX) {
  const uint64_t n = declared_length == UINT64_MAX ? header.size() : declared_length;
  std::vector<uint8_t> out;
  for (int i = 0; i < 8; ++i) out.push_back(uint8_t(n >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<uint8_t> floats(std::initializer_list<float> values) {
  std::vector<uint8_t> out(values.size() * 4);
  std::memcpy(out.data(), values.begin(), out.size());
  return out;
}

std::string load_error(const std::vector<uint8_t> &bytes) {
  try {
    load_checkpoint(bytes);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

std::string json_error(const std::string &text) {
  try {
    json::parse(text);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace

TEST_CASE("safetensors: F32/F16/BF16/F64/I64/I32 written from torch match torch's values") {
  const auto expect_text = xunit::read_file(fixture("basic_safetensors.expect.json"));
  const json::Value expect =
      json::parse(reinterpret_cast<const char *>(expect_text.data()), expect_text.size());
  CheckpointFormat format;
  const auto sd = load_checkpoint(xunit::read_file(fixture("basic.safetensors")), &format);
  CHECK(format == CheckpointFormat::Safetensors);
  const auto &tensors = expect.get("tensors")->array;
  REQUIRE(sd.tensors.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto &got = sd.tensors[i];
    CAPTURE(got.name);
    CHECK(got.name == tensors[i].get("name")->string);
    CHECK(got.source_dtype == tensors[i].get("dtype")->string);
    std::vector<int64_t> shape;
    for (const auto &d : tensors[i].get("shape")->array) shape.push_back(d.integer);
    CHECK(got.shape == shape);
    const auto &bits = tensors[i].get("bits")->array;
    REQUIRE(got.data.size() == bits.size());
    for (size_t k = 0; k < bits.size(); ++k)
      CHECK(bits_of(got.data[k]) == uint32_t(bits[k].integer));
  }
}

TEST_CASE("safetensors: a minimal hand-made file, with module. prefixes stripped") {
  const auto file = make_file(
      R"({"__metadata__":{"x":"y"},"module.a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("module.b":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]}})",
      floats({1.5f, -2.0f}));
  const auto sd = load_checkpoint(file);
  REQUIRE(sd.tensors.size() == 2);
  CHECK(sd.tensors[0].name == "a");
  CHECK(sd.tensors[0].data == std::vector<float>{1.5f, -2.0f});
  CHECK(sd.tensors[1].name == "b");
  CHECK(sd.tensors[1].data.empty());
  CHECK(sd.tensors[1].shape == std::vector<int64_t>{0, 3});
}

TEST_CASE("safetensors: a header length larger than the file is refused") {
  const std::string h = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  // Recognised by its JSON brace, refused for its length.
  CHECK(contains(load_error(make_file(h, floats({1}), 1u << 20)),
                 "header length 1048576 exceeds the file"));
  // Called directly, the reader says why.
  const auto file = make_file(h, floats({1}), uint64_t(1) << 40);
  try {
    xunit::convert::read_safetensors(file.data(), file.size());
    FAIL("accepted");
  } catch (const Error &e) {
    CHECK(contains(e.what(), "header length 1099511627776 exceeds the file"));
  }
}

TEST_CASE("safetensors: overlapping offsets, gaps, trailing bytes and size mismatches") {
  const auto data = floats({1, 2, 3, 4});
  CHECK(contains(load_error(make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                                      R"("b":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}})",
                                      data)),
                 "tensor 'b' overlaps another tensor"));
  CHECK(contains(load_error(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                      data)),
                 "gap in the data section before tensor 'b'"));
  CHECK(contains(
      load_error(make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})", data)),
      "bytes no tensor uses"));
  CHECK(contains(
      load_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", data)),
      "byte size does not match"));
  CHECK(contains(
      load_error(make_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[4,20]}})", data)),
      "outside the data section"));
  CHECK(contains(
      load_error(make_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[8,4]}})", data)),
      "outside the data section"));
}

TEST_CASE("safetensors: bad dtypes, shapes and structure") {
  const auto data = floats({1});
  auto err = [&](const std::string &h) { return load_error(make_file(h, data)); };
  CHECK(contains(err(R"({"a":{"dtype":"C64","shape":[1],"data_offsets":[0,4]}})"),
                 "unsupported dtype 'C64'"));
  CHECK(contains(err(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})"), "bad shape"));
  CHECK(contains(err(R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})"), "bad shape"));
  CHECK(contains(err(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],)"
                     R"("data_offsets":[0,4]}})"),
                 "too large"));
  CHECK(
      contains(err(R"({"a":{"dtype":"F32","shape":[1]}})"), "lacks dtype, shape or data_offsets"));
  CHECK(contains(err(R"({"a":[1,2]})"), "is not an object"));
  CHECK(contains(err(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} x)"),
                 "invalid JSON: trailing characters"));
  CHECK(contains(err(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                     R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})"),
                 "duplicate key"));
}

TEST_CASE("safetensors: every truncation and byte corruption of a real file is handled") {
  const auto bytes = xunit::read_file(fixture("basic.safetensors"));
  for (size_t n = 0; n < bytes.size(); ++n)
    CHECK_THROWS_AS(load_checkpoint(std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(n))),
                    Error);
  size_t refused = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {uint8_t(0x01), uint8_t(0x20), uint8_t(0x80)}) {
      auto bad = bytes;
      bad[i] ^= mask;
      try {
        load_checkpoint(bad);
      } catch (const Error &) {
        ++refused;
      }
    }
  }
  // Damage to the header length or the JSON structure is refused, not only survived.
  CHECK(refused > 0);
}

TEST_CASE("json: values, escapes and exact integers") {
  const json::Value v = json::parse(
      R"( {"s":"a\"b\\c\/\n\u00e9\ud83d\ude00","n":[0,-12,3.5e2,1E-2,9223372036854775807,)"
      R"(18446744073709551616],"t":true,"f":false,"z":null,"o":{}} )");
  REQUIRE(v.type == json::Type::Object);
  CHECK(v.get("s")->string == "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80");
  const auto &n = v.get("n")->array;
  REQUIRE(n.size() == 6);
  CHECK(n[0].is_integer);
  CHECK(n[1].integer == -12);
  CHECK(!n[2].is_integer);
  CHECK(n[2].number == 350.0);
  CHECK(n[3].number == 0.01);
  CHECK(n[4].integer == INT64_MAX);
  CHECK(!n[5].is_integer);  // does not fit: kept only as a double
  CHECK(v.get("t")->boolean);
  CHECK(!v.get("f")->boolean);
  CHECK(v.get("z")->type == json::Type::Null);
  CHECK(v.get("o")->object.empty());
  CHECK(v.get("missing") == nullptr);
}

TEST_CASE("json: strictness") {
  for (const char *bad :
       {"",          "{",     "[1,]",    "{\"a\":1,}",  "01",           "1.",       ".5",  "-",
        "+1",        "1e",    "\"\\x\"", "\"\\ud800\"", "\"\\udc00x\"", "\"a\nb\"", "tru", "nul",
        "{\"a\" 1}", "[1 2]", "{1:2}",   "\"abc",       "1 2",          "[] []",    "'a'"}) {
    CAPTURE(bad);
    CHECK(contains(json_error(bad), "invalid JSON"));
  }
  CHECK(contains(
      json_error(std::string(json::kMaxDepth + 2, '[') + std::string(json::kMaxDepth + 2, ']')),
      "nesting too deep"));
  CHECK(json_error(std::string(json::kMaxDepth, '[') + std::string(json::kMaxDepth, ']')).empty());
  CHECK(contains(json_error(std::string(100000, '[')), "nesting too deep"));
}
