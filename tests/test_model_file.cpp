// .xunit serialization: round trips, storage types, and refusal of damaged files.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>

#include "common/error.h"
#include "common/sha256.h"
#include "engine/model_file.h"
#include "engine/model_format.h"
#include "models/synthetic/graph_factory.h"

using namespace xunit;
using xunit::synthetic::GraphFactory;

namespace {
// Recomputes the trailer so a deliberate edit reaches the checks behind the checksum.
void reseal(std::vector<uint8_t> &bytes) {
  auto d = Sha256::digest(bytes.data(), bytes.size() - 32);
  std::memcpy(bytes.data() + bytes.size() - 32, d.data(), 32);
}
std::string parse_error(const std::vector<uint8_t> &bytes) {
  try {
    parse_model(bytes.data(), bytes.size());
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("sha256 matches the FIPS test vectors") {
  CHECK(Sha256::hex(Sha256::digest("abc", 3)) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256::hex(Sha256::digest("", 0)) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::string m(1000000, 'a');
  CHECK(Sha256::hex(Sha256::digest(m.data(), m.size())) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("a model survives a round trip exactly in fp32 and closely in fp16/bf16") {
  GraphFactory f(1);
  Graph g = f.xsrgan(3, 16, 1, 2);
  g.metadata["family"] = "test";
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    std::vector<uint8_t> bytes = serialize_model(g, dt);
    Graph back = parse_model(bytes.data(), bytes.size());
    REQUIRE(back.tensors.size() == g.tensors.size());
    REQUIRE(back.ops.size() == g.ops.size());
    CHECK(back.metadata.at("family") == "test");
    CHECK(back.halo() == g.halo());
    float tol = dt == DType::F32 ? 0.f : dt == DType::F16 ? 1e-3f : 8e-3f;
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      CHECK(back.tensors[t].name == g.tensors[t].name);
      CHECK(back.tensors[t].shape == g.tensors[t].shape);
      CHECK(reinterpret_cast<uintptr_t>(back.tensors[t].data) % 4 == 0);
      for (size_t i = 0; i < g.tensors[t].numel(); ++i)
        REQUIRE(std::abs(back.tensors[t].data[i] - g.tensors[t].data[i]) <=
                tol * std::max(1.f, std::abs(g.tensors[t].data[i])));
    }
    if (dt != DType::F32) CHECK(bytes.size() < serialize_model(g, DType::F32).size());
  }
}

TEST_CASE("weight blobs are 64-byte aligned in the file") {
  GraphFactory f(2);
  Graph g = f.xdncnn(3, 16, 1);
  std::vector<uint8_t> bytes = serialize_model(g, DType::F32);
  Graph back = parse_model(bytes.data(), bytes.size());
  for (const Tensor &t : back.tensors)
    CHECK((reinterpret_cast<const uint8_t *>(t.data) - bytes.data()) % 64 == 0);
}

TEST_CASE("damaged models are refused with a clear message") {
  GraphFactory f(3);
  Graph g = f.xdncnn(1, 16, 1);
  const std::vector<uint8_t> good = serialize_model(g, DType::F32);

  SUBCASE("every truncation") {
    for (size_t n = 0; n < good.size(); n += std::max<size_t>(1, good.size() / 97)) {
      std::vector<uint8_t> cut(good.begin(), good.begin() + long(n));
      CHECK(!parse_error(cut).empty());
    }
  }
  SUBCASE("bit flips anywhere are caught by the checksum") {
    for (size_t at = 0; at < good.size(); at += 37) {
      std::vector<uint8_t> bad = good;
      bad[at] ^= 0x10;
      CHECK(!parse_error(bad).empty());
    }
  }
  SUBCASE("bad magic") {
    std::vector<uint8_t> bad = good;
    bad[1] = 'Y';
    CHECK(parse_error(bad).find("bad magic") != std::string::npos);
  }
  SUBCASE("newer major version") {
    std::vector<uint8_t> bad = good;
    bad[8] = 2;
    reseal(bad);
    CHECK(parse_error(bad).find("format version 2") != std::string::npos);
  }
  SUBCASE("a section pointing past the end, with a valid checksum") {
    std::vector<uint8_t> bad = good;
    uint64_t huge = ~0ull - 5;
    std::memcpy(bad.data() + format::kHeaderSize + 8, &huge, 8);
    reseal(bad);
    CHECK(parse_error(bad).find("outside the file") != std::string::npos);
  }
  SUBCASE("checksum mismatch") {
    std::vector<uint8_t> bad = good;
    bad[bad.size() - 1] ^= 1;
    CHECK(parse_error(bad).find("checksum") != std::string::npos);
  }
}

TEST_CASE("graph validation names the inconsistent op") {
  GraphFactory f(4);
  Graph g = f.xdncnn(3, 16, 1);
  g.ops[1].in_channels = 5;  // the first conv
  try {
    g.validate_and_infer();
    FAIL("expected an error");
  } catch (const Error &e) {
    CHECK(std::string(e.what()).find(g.ops[1].name) != std::string::npos);
  }
}

TEST_CASE("resize and DCR shuffles need format 1.1; other models stay 1.0") {
  GraphFactory f(31);
  auto minor_of = [](const std::vector<uint8_t> &bytes) { return bytes[10] | (bytes[11] << 8); };
  CHECK(minor_of(serialize_model(f.xdncnn(3, 8, 1), DType::F32)) == 0);
  Graph g = f.resampler(3, 8, 3, ResizeMode::Cubic, ResizeCoordinates::Asymmetric);
  std::vector<uint8_t> bytes = serialize_model(g, DType::F32);
  CHECK(minor_of(bytes) == 1);
  Graph back = parse_model(bytes.data(), bytes.size());
  int resizes = 0;
  for (const Op &op : back.ops)
    if (op.type == OpType::Resize) {
      ++resizes;
      CHECK(op.factor == 3);
      CHECK(op.resize_mode == int(ResizeMode::Cubic));
      CHECK(op.coordinates == int(ResizeCoordinates::Asymmetric));
      CHECK(op.cubic_a == -0.75f);
    }
  CHECK(resizes == 2);
  CHECK(back.ops.size() == g.ops.size());
  CHECK(minor_of(serialize_model(f.tanh_net(3), DType::F32)) == 2);  // tanh: 1.2

  // A mode this reader does not know is refused by name, not guessed.
  const std::string cubic = "cubic";
  auto at = std::search(bytes.begin(), bytes.end(), cubic.begin(), cubic.end());
  REQUIRE(at != bytes.end());
  std::memcpy(&*at, "cubix", 5);
  reseal(bytes);
  CHECK(parse_error(bytes).find("unknown resize mode 'cubix'") != std::string::npos);
}

TEST_CASE("noise level maps need format 1.4 and keep their scale; a non-finite scale is refused") {
  GraphFactory f(32);
  auto minor_of = [](const std::vector<uint8_t> &bytes) { return bytes[10] | (bytes[11] << 8); };
  Graph g = f.noise_map_net(3);
  std::vector<uint8_t> bytes = serialize_model(g, DType::F32);
  CHECK(minor_of(bytes) == 4);
  Graph back = parse_model(bytes.data(), bytes.size());
  CHECK(back.noise_level_input());
  REQUIRE(back.ops.size() == g.ops.size());
  int maps = 0;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    CHECK(back.ops[i].type == g.ops[i].type);
    if (g.ops[i].type != OpType::NoiseLevelMap) continue;
    ++maps;
    CHECK(back.ops[i].level_scale == g.ops[i].level_scale);  // bit for bit
    CHECK(back.values[size_t(back.ops[i].output)].channels == 1);
  }
  CHECK(maps == 3);
  CHECK(back.halo() == g.halo());
  CHECK_FALSE(f.xdncnn(1, 8, 1).noise_level_input());

  g.ops[0].level_scale = INFINITY;  // (the first op: the image's map)
  REQUIRE(g.ops[0].type == OpType::NoiseLevelMap);
  CHECK_THROWS_WITH_AS(g.validate_and_infer(), doctest::Contains("scale must be finite"), Error);
}

namespace {
// A chain of n ReLUs: the many-ops model of issue 17 (row 4).
Graph relu_chain(int n) {
  Graph g;
  int v = g.add_input("x", 1);
  for (int i = 0; i < n; ++i) {
    Op op;
    op.type = OpType::Relu;
    op.inputs = {v};
    v = g.add_op(op, "v" + std::to_string(i));
  }
  g.output = v;
  g.validate_and_infer();
  return g;
}
}  // namespace

TEST_CASE("model file: many ops load in linear time; more than the op cap are refused") {
  const int n = 20000;
  const auto built = std::chrono::steady_clock::now();
  Graph chain = relu_chain(n);
  const auto bytes = serialize_model(chain, DType::F32);
  const auto started = std::chrono::steady_clock::now();
  Graph back = parse_model(bytes.data(), bytes.size());
  const auto parsed = std::chrono::steady_clock::now();
  MESSAGE(n << " ops: built in " << std::chrono::duration<double>(started - built).count()
            << " s, parsed in " << std::chrono::duration<double>(parsed - started).count() << " s");
  CHECK(back.ops.size() == size_t(n));
  CHECK(back.find_value("v" + std::to_string(n - 1)) == back.output);
  CHECK(back.find_value("v0") == 1);
  CHECK(back.find_value("nosuch") == -1);

  const Graph over = relu_chain(int(format::kMaxOps) + 1);
  const std::string error = parse_error(serialize_model(over, DType::F32));
  CHECK_MESSAGE(error.find("65537 ops (at most 65536") != std::string::npos, error);
}
