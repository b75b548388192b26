// Issue 17: memory and time bounded by the file. Each case is a small crafted file that demands
// far more memory than its size (aliasing, broadcasting, compressing, or tiny values in a
// header), or an image whose run needs more than the memory limit. Every one must end in a clean
// one-line refusal naming the budget or the limit, or a bounded success. ctest runs this suite
// (with test_hostile.cpp's) under an address-space limit (tests/CMakeLists.txt: hostile_ulimit).
// XUNIT_KEEP_CRAFTED=DIR keeps the crafted files in DIR (to measure the tools on them).
#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_io.h"
#include "common/load_budget.h"
#include "common/memory_limit.h"
#include "common/sha256.h"
#include "crafted_files.h"
#include "engine/model_file.h"
#include "engine/model_format.h"
#include "test_paths.h"
#include "xunit/xunit.h"

namespace {

using namespace xunit::testing::crafted;
using xunit::testing::bin_dir;

std::string slurp(const std::string &path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The crafted files' folder: a fresh temporary one, or XUNIT_KEEP_CRAFTED (kept).
struct Folder {
  std::string path;
  bool keep = false;
  Folder() {
    if (const char *k = std::getenv("XUNIT_KEEP_CRAFTED"); k && *k) {
      path = k;
      keep = true;
      std::system(("mkdir -p '" + path + "'").c_str());
      return;
    }
    char tmpl[] = "/tmp/xunit_budgets_XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~Folder() {
    if (!keep) std::system(("rm -rf '" + path + "'").c_str());
  }
  std::string operator/(const std::string &n) const { return path + "/" + n; }
  std::string write(const std::string &name, const std::string &bytes) const {
    xunit::write_file_atomic(*this / name, bytes.data(), bytes.size(), true);
    return *this / name;
  }
};

struct Outcome {
  int status;
  std::string err;
};

Outcome run(const Folder &dir, const std::string &command) {
  const std::string err = dir / ".err";
  const int raw = std::system((bin_dir() + command + " >/dev/null 2>" + err).c_str());
  Outcome o{WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw), slurp(err)};
  std::remove(err.c_str());
  return o;
}

void expect_refused(const Outcome &o, const std::string &fragment) {
  CHECK(o.status == 1);
  CHECK_MESSAGE(std::count(o.err.begin(), o.err.end(), '\n') == 1, "stderr: " << o.err);
  CHECK_MESSAGE(o.err.find(fragment) != std::string::npos, "stderr: " << o.err);
}

void expect_converted(const Outcome &o) { CHECK_MESSAGE(o.status == 0, "stderr: " << o.err); }

// ---------------------------------------------------------------- crafted files

// Row 1: a legacy checkpoint whose one-element storage is broadcast (stride 0) to 4096 x 4096
// under `keys` names: ~1 KB that asked for keys x 64 MiB.
std::string aliased_storage_checkpoint(int keys) {
  Pickle p;
  p.op('}');
  for (int k = 0; k < keys; ++k)
    p.str("layer" + std::to_string(k) + ".weight")
        .tensor("FloatStorage", "0", 1, 0, {4096, 4096}, {0, 0}, true)
        .op('s');
  return legacy_checkpoint(p.finish(), {{"0", std::string(4, '\0')}});
}

// Row 7: a torch zip whose float16 storages are deflated zeros, each 256 MiB inflated (512 MiB
// as float32) from ~250 KB.
std::string deflate_bomb_checkpoint(int storages) {
  const int32_t numel = int32_t(1) << 27;  // float16: 256 MiB
  Pickle p;
  p.op('}');
  for (int k = 0; k < storages; ++k)
    p.str("w" + std::to_string(k))
        .tensor("HalfStorage", std::to_string(k), numel, 0, {numel}, {1}, false)
        .op('s');
  std::vector<RawEntry> entries{stored_entry("archive/data.pkl", p.finish()),
                                stored_entry("archive/byteorder", "little")};
  const uint64_t size = uint64_t(numel) * 2;
  const std::string bomb = deflate_zeros(size);
  const uint32_t crc = crc_of_zeros(size);
  for (int k = 0; k < storages; ++k)
    entries.push_back({"archive/data/" + std::to_string(k), bomb, true, size, crc});
  return build_raw_zip(entries);
}

// Row 9: a safetensors header of `values` tiny JSON values ("0,", 2 bytes each, ~140 bytes each
// once parsed) and no tensors.
std::string tiny_values_safetensors(size_t values) {
  std::string json = "{\"__metadata__\":{\"x\":[";
  json.reserve(json.size() + 2 * values + 8);
  for (size_t i = 0; i < values; ++i) json += i ? ",0" : "0";
  json += "]}}";
  std::string out;
  put64(&out, json.size());
  return out + json;
}

// Row 2: a shipped .xunit with `entries` extra fp16 entries of 2^20 elements that all overlap one
// 2 MiB blob: ~2 MB that asked for entries x 4 MiB of float32.
std::string overlapping_blobs_model(int entries) {
  const std::vector<uint8_t> file =
      xunit::read_file(std::string(XUNIT_MODELS_DIR) + "/xdncnn-gray.xunit");
  xunit::Graph g = xunit::parse_model(file.data(), file.size());
  xunit::own_weights(g);
  const int64_t n = int64_t(1) << 20;
  g.add_tensor("overlap_base", {n}, std::vector<float>(size_t(n), 0.5f));
  char name[32];
  for (int i = 0; i < entries; ++i) {
    std::snprintf(name, sizeof name, "overlap_%06d", i);
    g.add_tensor(name, {1}, {0.f});
  }
  std::vector<uint8_t> bytes = xunit::serialize_model(g, xunit::DType::F16);
  // Each tensor table entry: u32 name length, name, u32 dtype, u32 rank, u64 dims, u64 offset,
  // u64 bytes. Point the small ones at the base's blob, with its size.
  auto entry_of = [&](const std::string &tensor) {
    std::string key(4, '\0');
    for (int i = 0; i < 4; ++i) key[size_t(i)] = char((tensor.size() >> (8 * i)) & 0xff);
    key += tensor;
    const auto it = std::search(bytes.begin(), bytes.end(), key.begin(), key.end());
    REQUIRE(it != bytes.end());
    return size_t(it - bytes.begin()) + key.size();  // at the dtype
  };
  auto u64_at = [&](size_t at) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(bytes[at + size_t(i)]) << (8 * i);
    return v;
  };
  auto set_u64 = [&](size_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes[at + size_t(i)] = uint8_t(v >> (8 * i));
  };
  const size_t base = entry_of("overlap_base");
  const uint64_t base_offset = u64_at(base + 16), base_bytes = u64_at(base + 24);
  for (int i = 0; i < entries; ++i) {
    std::snprintf(name, sizeof name, "overlap_%06d", i);
    const size_t at = entry_of(name);
    set_u64(at + 8, uint64_t(n));
    set_u64(at + 16, base_offset);
    set_u64(at + 24, base_bytes);
  }
  const size_t body = bytes.size() - xunit::format::kChecksumSize;
  const auto digest = xunit::Sha256::digest(bytes.data(), body);
  std::copy(digest.begin(), digest.end(), bytes.begin() + long(body));
  return std::string(bytes.begin(), bytes.end());
}

// An ONNX denoiser skeleton: y = Conv(x, W) with W [3, 3, 3, 3].
onnx::ModelProto conv_model() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  onnx::GraphProto *g = m.mutable_graph();
  g->set_name("g");
  auto value_info = [](onnx::ValueInfoProto *v, const char *name) {
    v->set_name(name);
    auto *t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    auto *s = t->mutable_shape();
    s->add_dim()->set_dim_value(1);
    s->add_dim()->set_dim_value(3);
    s->add_dim()->set_dim_param("h");
    s->add_dim()->set_dim_param("w");
  };
  value_info(g->add_input(), "x");
  value_info(g->add_output(), "y");
  onnx::TensorProto *w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto_DataType_FLOAT);
  for (int d : {3, 3, 3, 3}) w->add_dims(d);
  for (int i = 0; i < 81; ++i) w->add_float_data(0.01f);
  onnx::NodeProto *conv = g->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv");
  conv->add_input("x");
  conv->add_input("W");
  conv->add_output("y");
  auto *pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  return m;
}

// Row 3: `identities` Identity nodes of one 1 MiB constant (none of them read): 20 GB when each
// copied the constant.
std::string identity_fanout_onnx(int identities) {
  onnx::ModelProto m = conv_model();
  onnx::GraphProto *g = m.mutable_graph();
  onnx::TensorProto *big = g->add_initializer();
  big->set_name("big");
  big->set_data_type(onnx::TensorProto_DataType_FLOAT);
  big->add_dims(1 << 18);
  big->set_raw_data(std::string(size_t(4) << 18, '\0'));
  for (int i = 0; i < identities; ++i) {
    onnx::NodeProto *n = g->add_node();
    n->set_op_type("Identity");
    n->add_input("big");
    n->add_output("alias" + std::to_string(i));
  }
  return m.SerializeAsString();
}

// Row 10: `nodes` empty nodes (2 bytes each in the file, ~200 once parsed).
std::string empty_nodes_onnx(int nodes) {
  onnx::ModelProto m = conv_model();
  for (int i = 0; i < nodes; ++i) m.mutable_graph()->add_node();
  return m.SerializeAsString();
}

// Row 10: one node with `count` empty attributes (2 bytes each in the file).
std::string empty_attributes_onnx(int count) {
  onnx::ModelProto m = conv_model();
  onnx::NodeProto *conv = m.mutable_graph()->mutable_node(0);
  for (int i = 0; i < count; ++i) conv->add_attribute();
  return m.SerializeAsString();
}

}  // namespace

TEST_SUITE_BEGIN("hostile");

TEST_CASE(
    "budget: the load budget is a multiple of the file plus a constant, refused in one line") {
  xunit::LoadBudget b(1000, "checkpoint");
  CHECK(b.limit() == 8 * 1000 + (uint64_t(64) << 20));
  b.charge(uint64_t(64) << 20, "tensor 'a'");
  b.charge(8000, "tensor 'b'");
  try {
    b.charge(1, "tensor 'c'");
    FAIL("not refused");
  } catch (const xunit::Error &e) {
    const std::string m = e.what();
    CHECK(m.find("tensor 'c' needs 1 bytes more, beyond the memory budget of a 1000 bytes "
                 "checkpoint (8 x its size + 64.0 MiB") != std::string::npos);
    CHECK(m.find('\n') == std::string::npos);
  }
  xunit::LoadBudget huge(UINT64_MAX / 2);  // saturates instead of wrapping
  CHECK(huge.limit() == UINT64_MAX);
  CHECK_THROWS_AS(xunit::LoadBudget(0).charge(UINT64_MAX, 2, "x"), xunit::Error);
}

TEST_CASE("budget row 1: one storage broadcast under many keys is refused by the budget") {
  Folder dir;
  const std::string ckpt = dir.write("aliased_storage.pt", aliased_storage_checkpoint(24));
  CHECK(xunit::read_file(ckpt).size() < 8192);
  expect_refused(run(dir, "xunit-convert " + ckpt + " " + (dir / "o.xunit")),
                 "beyond the memory budget");
}

TEST_CASE("budget row 2: .xunit weight entries overlapping one blob are refused by the budget") {
  Folder dir;
  const std::string model = dir.write("overlapping_blobs.xunit", overlapping_blobs_model(2000));
  const std::string in = dir.write("in.png", zero_png(16, 16));
  expect_refused(run(dir, "xunit-run -m " + model + " -i " + in + " -o " + (dir / "o.png")),
                 "beyond the memory budget");
}

TEST_CASE("budget row 3: ONNX Identity nodes of one constant share it (a bounded success)") {
  Folder dir;
  const std::string onnx = dir.write("identity_fanout.onnx", identity_fanout_onnx(19990));
  expect_converted(run(dir, "xunit-convert " + onnx + " " + (dir / "o.xunit")));
}

TEST_CASE("budget row 7: deflated zip entries are charged before they are inflated") {
  Folder dir;
  const std::string ckpt = dir.write("deflate_bomb.pt", deflate_bomb_checkpoint(2));
  CHECK(xunit::read_file(ckpt).size() < 1024 * 1024);
  expect_refused(run(dir, "xunit-convert " + ckpt + " " + (dir / "o.xunit")),
                 "inflating zip entry 'archive/data/0' needs 256.0 MiB more, beyond the memory "
                 "budget");
}

TEST_CASE("budget row 9: a safetensors header of tiny values is refused while it is parsed") {
  Folder dir;
  const std::string st = dir.write("tiny_values.safetensors", tiny_values_safetensors(2000000));
  expect_refused(run(dir, "xunit-convert " + st + " " + (dir / "o.xunit")),
                 "the JSON header's values needs");
}

TEST_CASE("budget row 10: ONNX node counts and parsed sizes are bounded before protobuf parses") {
  Folder dir;
  const std::string nodes = dir.write("empty_nodes.onnx", empty_nodes_onnx(30000));
  expect_refused(run(dir, "xunit-convert " + nodes + " " + (dir / "o.xunit")),
                 "too many nodes (30001; at most 20000 are read)");
  const std::string attrs = dir.write("empty_attributes.onnx", empty_attributes_onnx(1000000));
  expect_refused(run(dir, "xunit-convert " + attrs + " " + (dir / "o.xunit")),
                 "parsing the ONNX protobuf needs");
}

TEST_CASE(
    "budget row 8: a run's memory is computed before it allocates, and refused past the "
    "limit") {
  Folder dir;
  // The CLI: a 2048 x 2048 PNG of zeros (a few KB) needs ~300 MB to denoise.
  const std::string in = dir.write("zeros_2048.png", zero_png(2048, 2048));
  const std::string model = std::string(XUNIT_MODELS_DIR) + "/xdncnn-color.xunit";
  const Outcome o = run(
      dir, "xunit-run -q --memory-limit 64M -m " + model + " -i " + in + " -o " + (dir / "o.png"));
  expect_refused(o, "restoring a 2048x2048 image into 2048x2048 needs ");
  CHECK(o.err.find("more than the memory limit of 64.0 MiB (XUNIT_MEMORY_LIMIT") !=
        std::string::npos);
  CHECK(!xunit::file_exists(dir / "o.png"));
  CHECK(
      run(dir, "xunit-run --memory-limit lots -m " + model + " -i " + in + " -o " + (dir / "o.png"))
          .status == 2);
}

TEST_CASE("budget row 8: the default limit is the available memory, lowered under ulimit -v") {
  uint64_t v = 0;
  CHECK(xunit::parse_memory_size("4G", &v));
  CHECK(v == uint64_t(4) << 30);
  CHECK(xunit::parse_memory_size("512MB", &v));
  CHECK(v == uint64_t(512) << 20);
  CHECK(xunit::parse_memory_size("123", &v));
  CHECK(v == 123);
  CHECK(!xunit::parse_memory_size("", &v));
  CHECK(!xunit::parse_memory_size("4X", &v));
  CHECK(!xunit::parse_memory_size("99999999999T", &v));
  unsetenv("XUNIT_MEMORY_LIMIT");
  CHECK(xunit::memory_limit().bytes > 0);
  // A soft RLIMIT_AS of 3 GiB for a moment (raised back afterwards: soft limits may be).
  struct rlimit saved;
  REQUIRE(getrlimit(RLIMIT_AS, &saved) == 0);
  struct rlimit lowered = saved;
  lowered.rlim_cur = rlim_t(3) << 30;
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < lowered.rlim_cur)
    lowered.rlim_cur = saved.rlim_max;
  REQUIRE(setrlimit(RLIMIT_AS, &lowered) == 0);
  const xunit::MemoryLimit m = xunit::memory_limit();
  REQUIRE(setrlimit(RLIMIT_AS, &saved) == 0);
  CHECK(m.bytes < uint64_t(lowered.rlim_cur));
  CHECK(m.source.find("ulimit -v") != std::string::npos);
}

TEST_SUITE_END();

// The C API halves of rows 2 and 8 (they load and run models in-process: the engine suite).

TEST_CASE(
    "budget row 2: the C API (Python's path too) refuses overlapping blobs as an invalid "
    "model" *
    doctest::test_suite("engine")) {
  Folder dir;
  const std::string model = dir.write("overlapping_blobs.xunit", overlapping_blobs_model(2000));
  xunit_model *m = nullptr;
  CHECK(xunit_model_load(model.c_str(), &m) == XUNIT_ERROR_INVALID_MODEL);
  CHECK(std::string(xunit_last_error()).find("beyond the memory budget") != std::string::npos);
  CHECK(m == nullptr);
}

TEST_CASE(
    "budget row 8: xunit_run refuses a run whose scratch passes XUNIT_MEMORY_LIMIT, with "
    "the figure" *
    doctest::test_suite("engine")) {
  const std::string model = std::string(XUNIT_MODELS_DIR) + "/xdncnn-color.xunit";
  // The C API: xunit_run_memory_needed gives the figure; xunit_run refuses past
  // XUNIT_MEMORY_LIMIT with XUNIT_ERROR_OUT_OF_MEMORY and the figure, writing nothing.
  xunit_model *m = nullptr;
  REQUIRE(xunit_model_load(model.c_str(), &m) == XUNIT_OK);
  xunit_run_options opts;
  xunit_run_options_init(&opts);
  opts.tile_size = 0;  // one stripe: scratch grows with the width
  opts.threads = 1;
  uint64_t needed = 0;
  REQUIRE(xunit_run_memory_needed(m, &opts, 512, 64, &needed) == XUNIT_OK);
  CHECK(needed > (uint64_t(1) << 20));
  uint64_t wider = 0;
  REQUIRE(xunit_run_memory_needed(m, &opts, 1024, 64, &wider) == XUNIT_OK);
  CHECK(wider > needed);
  CHECK(xunit_run_memory_needed(m, &opts, 0, 64, &needed) == XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(xunit_run_memory_needed(nullptr, &opts, 8, 8, &needed) == XUNIT_ERROR_INVALID_ARGUMENT);
  std::vector<uint8_t> src(512 * 64 * 3, 100), dst(512 * 64 * 3, 7);
  xunit_image a{512, 64, 3, XUNIT_PIXEL_U8, 512 * 3, src.data()};
  xunit_image b{512, 64, 3, XUNIT_PIXEL_U8, 512 * 3, dst.data()};
  setenv("XUNIT_MEMORY_LIMIT", "1M", 1);
  CHECK(xunit_run(m, &opts, &a, &b) == XUNIT_ERROR_OUT_OF_MEMORY);
  const std::string message = xunit_last_error();
  CHECK(message.find("a run on a 512x64 image (stripes of 512 columns) needs") !=
        std::string::npos);
  CHECK(message.find("more than the memory limit of 1.0 MiB (XUNIT_MEMORY_LIMIT") !=
        std::string::npos);
  CHECK(std::all_of(dst.begin(), dst.end(), [](uint8_t v) { return v == 7; }));
  setenv("XUNIT_MEMORY_LIMIT", "nonsense", 1);
  CHECK(xunit_run(m, &opts, &a, &b) != XUNIT_OK);
  CHECK(std::string(xunit_last_error()).find("XUNIT_MEMORY_LIMIT='nonsense'") != std::string::npos);
  setenv("XUNIT_MEMORY_LIMIT", "1G", 1);
  CHECK(xunit_run(m, &opts, &a, &b) == XUNIT_OK);
  unsetenv("XUNIT_MEMORY_LIMIT");
  xunit_model_free(m);
}
