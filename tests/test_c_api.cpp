// The public C API (include/xunit/xunit.h) as a user sees it: loading, info, running with every
// pixel type and stride, argument errors, progress and cancellation, sharing one model across
// threads.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/file_io.h"
#include "converter/checkpoint.h"
#include "converter/families/family_registry.h"
#include "engine/model_file.h"
#include "engine_harness.h"
#include "fixture_io.h"
#include "models/synthetic/graph_factory.h"
#include "test_paths.h"
#include "xunit/xunit.h"

namespace {

// Serialized .xunit bytes of a parity fixture checkpoint.
std::vector<uint8_t> model_bytes(const std::string &fixture) {
  std::vector<uint8_t> ckpt =
      xunit::read_file(xunit::testing::parity_dir() + fixture + "/model.pt");
  xunit::Graph g = xunit::convert::build_graph(xunit::convert::load_checkpoint(ckpt), "", {});
  g.metadata["source_sha256"] = "test";
  return xunit::serialize_model(g, xunit::DType::F32);
}

struct Model {
  xunit_model *m = nullptr;
  explicit Model(const std::vector<uint8_t> &bytes) {
    REQUIRE(xunit_model_load_memory(bytes.data(), bytes.size(), &m) == XUNIT_OK);
  }
  ~Model() { xunit_model_free(m); }
};

std::vector<float> ramp_image(int w, int h, int c, int seed) {
  std::vector<float> v(size_t(w) * h * c);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = float((i * 2654435761u + unsigned(seed) * 97u) % 1000) / 999.f;
  return v;
}

xunit_image f32_image(int w, int h, int c, float *data) {
  return {w, h, c, XUNIT_PIXEL_F32, size_t(w) * c * sizeof(float), data};
}

xunit_run_options options(int threads, int tile) {
  xunit_run_options o;
  xunit_run_options_init(&o);
  o.threads = threads;
  o.tile_size = tile;
  o.precision = XUNIT_PRECISION_FP32;
  return o;
}

std::vector<float> run_f32(const xunit_model *m, const std::vector<float> &in, int w, int h, int c,
                           int scale, int threads = 1, int tile = -1) {
  std::vector<float> out(in.size() * scale * scale);
  xunit_image a = f32_image(w, h, c, const_cast<float *>(in.data()));
  xunit_image b = f32_image(w * scale, h * scale, c, out.data());
  xunit_run_options o = options(threads, tile);
  REQUIRE(xunit_run(m, &o, &a, &b) == XUNIT_OK);
  return out;
}

std::string temp_path(const std::string &name) {
  return "/tmp/xunit_c_api_" + std::to_string(::getpid()) + "_" + name;
}

}  // namespace

TEST_SUITE_BEGIN("engine");

TEST_CASE("c api: version, status strings, and a clean last error") {
  char want[32];
  std::snprintf(want, sizeof want, "%d.%d.%d", XUNIT_VERSION_MAJOR, XUNIT_VERSION_MINOR,
                XUNIT_VERSION_PATCH);
  CHECK(std::string(xunit_version()) == want);
  CHECK(XUNIT_OK == 0);
  for (int s = XUNIT_OK; s <= XUNIT_ERROR_INTERNAL; ++s)
    CHECK(std::strlen(xunit_status_string(xunit_status(s))) > 0);
  CHECK(std::string(xunit_status_string(xunit_status(999))) == "unknown status");
}

TEST_CASE("c api: the version number is the header's, and agrees with the version string") {
  CHECK(xunit_version_number() == uint32_t(XUNIT_VERSION_NUMBER));
  CHECK(XUNIT_VERSION_NUMBER ==
        XUNIT_VERSION_MAJOR * 10000 + XUNIT_VERSION_MINOR * 100 + XUNIT_VERSION_PATCH);
  unsigned major = 0, minor = 0, patch = 0;
  REQUIRE(std::sscanf(xunit_version(), "%u.%u.%u", &major, &minor, &patch) == 3);
  CHECK(xunit_version_number() == major * 10000 + minor * 100 + patch);
  CHECK(xunit_version_number() >= 200);  // 0.2.0: the first version with struct_size
}

TEST_CASE("c api: every function's documented behaviour on NULL arguments") {
  std::vector<uint8_t> bytes = model_bytes("xdncnn_c3_f16_b2");
  const std::string path = temp_path("null_args.xunit");
  xunit::write_file_atomic(path, bytes.data(), bytes.size(), true);
  auto failed_with = [](const char *fragment) {
    return std::string(xunit_last_error()).find(fragment) != std::string::npos;
  };

  // The functions that cannot fail never return NULL.
  REQUIRE(xunit_version() != nullptr);
  CHECK(xunit_last_error() != nullptr);
  CHECK(xunit_status_string(xunit_status(-1)) != nullptr);

  // Loading: INVALID_ARGUMENT, and *out_model is NULL whenever out_model is given.
  xunit_model *m = reinterpret_cast<xunit_model *>(1);
  CHECK(xunit_model_load(nullptr, &m) == XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(m == nullptr);
  CHECK(failed_with("NULL"));
  CHECK(xunit_model_load(path.c_str(), nullptr) == XUNIT_ERROR_INVALID_ARGUMENT);
  m = reinterpret_cast<xunit_model *>(1);
  CHECK(xunit_model_load_memory(nullptr, bytes.size(), &m) == XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(m == nullptr);
  CHECK(xunit_model_load_memory(bytes.data(), bytes.size(), nullptr) ==
        XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(failed_with("NULL"));

  // Freeing NULL does nothing; so does initializing NULL options.
  xunit_model_free(nullptr);
  xunit_run_options_init(nullptr);

  REQUIRE(xunit_model_load(path.c_str(), &m) == XUNIT_OK);
  // get_info: INVALID_ARGUMENT, and the caller's struct is not written.
  xunit_model_info info;
  std::memset(&info, 0xAB, sizeof info);
  info.struct_size = sizeof info;
  xunit_model_info before = info;
  CHECK(xunit_model_get_info(nullptr, &info) == XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(failed_with("NULL"));
  CHECK(std::memcmp(&info, &before, sizeof info) == 0);
  CHECK(xunit_model_get_info(m, nullptr) == XUNIT_ERROR_INVALID_ARGUMENT);
  // A successful get_info clears the last error.
  CHECK(xunit_model_get_info(m, &info) == XUNIT_OK);
  CHECK(std::string(xunit_last_error()).empty());

  // get_metadata: NULL for a NULL model or key, without touching the last error.
  CHECK(xunit_model_load(nullptr, nullptr) == XUNIT_ERROR_INVALID_ARGUMENT);
  const std::string error = xunit_last_error();
  CHECK(xunit_model_get_metadata(nullptr, "family") == nullptr);
  CHECK(xunit_model_get_metadata(m, nullptr) == nullptr);
  CHECK(xunit_model_get_metadata(nullptr, nullptr) == nullptr);
  CHECK(std::string(xunit_last_error()) == error);

  // run: INVALID_ARGUMENT for a NULL model, input or output; NULL options are the defaults.
  std::vector<float> in = ramp_image(9, 7, 3, 2), out(in.size(), 42.f);
  xunit_image a = f32_image(9, 7, 3, in.data()), b = f32_image(9, 7, 3, out.data());
  CHECK(xunit_run(nullptr, nullptr, &a, &b) == XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(failed_with("model"));
  CHECK(xunit_run(m, nullptr, nullptr, &b) == XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(xunit_run(m, nullptr, &a, nullptr) == XUNIT_ERROR_INVALID_ARGUMENT);
  for (float v : out) REQUIRE(v == 42.f);
  CHECK(xunit_run(m, nullptr, &a, &b) == XUNIT_OK);
  xunit_model_free(m);
  std::remove(path.c_str());
}

TEST_CASE("c api: struct_size: 0 and absurd sizes are refused, older and newer callers work") {
  Model model(model_bytes("xsrgan_c1_f16_b1_x4"));
  xunit_run_options init;
  std::memset(&init, 0xAB, sizeof init);
  xunit_run_options_init(&init);
  CHECK(init.struct_size == sizeof(xunit_run_options));
  CHECK(init.noise_level_mode == XUNIT_NOISE_LEVEL_AUTO);

  SUBCASE("init writes only the caller's struct") {
    // A 0.2.0 program calls the library's xunit_run_options_init (the header's macro is newer):
    // its struct ends before noise_level_mode, and the bytes after it are someone else's.
    constexpr size_t old_size = offsetof(xunit_run_options, noise_level_mode);
    std::vector<unsigned char> buf(sizeof(xunit_run_options) + 8, 0xAB);
    auto *o = reinterpret_cast<xunit_run_options *>(buf.data());
    (xunit_run_options_init)(o);  // the function, not the macro
    CHECK(o->struct_size == old_size);
    CHECK(o->tile_size == -1);
    for (size_t i = old_size; i < buf.size(); ++i) CHECK(buf[i] == 0xAB);
    // A size that ends inside a field leaves that field alone; below 4 bytes nothing is written.
    std::fill(buf.begin(), buf.end(), 0xAB);
    xunit_run_options_init_sized(o, old_size + 2);
    CHECK(o->struct_size == old_size + 2);
    for (size_t i = old_size; i < buf.size(); ++i) CHECK(buf[i] == 0xAB);
    std::fill(buf.begin(), buf.end(), 0xAB);
    xunit_run_options_init_sized(o, 3);
    for (unsigned char b : buf) CHECK(b == 0xAB);
  }

  SUBCASE("model info") {
    // Refused sizes: nothing written, the message names the field.
    for (uint32_t size : {0u, 3u, 4097u, 0xFFFFFFFFu}) {
      CAPTURE(size);
      xunit_model_info info;
      std::memset(&info, 0xAB, sizeof info);
      info.struct_size = size;
      xunit_model_info before = info;
      CHECK(xunit_model_get_info(model.m, &info) == XUNIT_ERROR_INVALID_ARGUMENT);
      CHECK(std::string(xunit_last_error()).find("struct_size") != std::string::npos);
      CHECK(std::memcmp(&info, &before, sizeof info) == 0);
    }
    // An older caller whose struct ends after out_channels: those fields are filled, and not
    // one byte past its struct_size is written.
    const uint32_t old_size = uint32_t(offsetof(xunit_model_info, receptive_field));
    alignas(xunit_model_info) unsigned char buf[sizeof(xunit_model_info) + 32];
    std::memset(buf, 0xAB, sizeof buf);
    std::memcpy(buf, &old_size, sizeof old_size);
    auto *old_info = reinterpret_cast<xunit_model_info *>(buf);
    REQUIRE(xunit_model_get_info(model.m, old_info) == XUNIT_OK);
    CHECK(old_info->struct_size == old_size);
    CHECK(old_info->task == XUNIT_TASK_SUPER_RESOLUTION);
    CHECK(old_info->scale == 4);
    CHECK(old_info->in_channels == 1);
    CHECK(old_info->out_channels == 1);
    for (size_t i = old_size; i < sizeof buf; ++i) REQUIRE(buf[i] == 0xAB);
    // A newer caller (a longer struct): our fields are filled, its extra ones zeroed, nothing
    // past its struct_size written.
    const uint32_t new_size = uint32_t(sizeof(xunit_model_info) + 16);
    std::memset(buf, 0xAB, sizeof buf);
    std::memcpy(buf, &new_size, sizeof new_size);
    REQUIRE(xunit_model_get_info(model.m, old_info) == XUNIT_OK);
    CHECK(std::string(old_info->family) == "xsrgan");
    CHECK(old_info->parameters > 0);
    for (size_t i = sizeof(xunit_model_info); i < new_size; ++i) REQUIRE(buf[i] == 0);
    for (size_t i = new_size; i < sizeof buf; ++i) REQUIRE(buf[i] == 0xAB);
  }

  SUBCASE("run options") {
    const int w = 8, h = 6;
    std::vector<float> in = ramp_image(w, h, 1, 4), out(size_t(w) * 4 * h * 4, 42.f);
    xunit_image a = f32_image(w, h, 1, in.data());
    xunit_image b = f32_image(w * 4, h * 4, 1, out.data());
    for (uint32_t size : {0u, 3u, 4097u, 0xFFFFFFFFu}) {
      CAPTURE(size);
      xunit_run_options o = options(1, -1);
      o.struct_size = size;
      CHECK(xunit_run(model.m, &o, &a, &b) == XUNIT_ERROR_INVALID_ARGUMENT);
      CHECK(std::string(xunit_last_error()).find("struct_size") != std::string::npos);
    }
    for (float v : out) REQUIRE(v == 42.f);  // nothing written

    // An older caller whose struct ends before `precision`: the fields it lacks are not read
    // (a bad precision and a cancelling callback past its end change nothing).
    alignas(xunit_run_options) unsigned char buf[sizeof(xunit_run_options) + 32];
    std::memset(buf, 0xAB, sizeof buf);
    auto *o = reinterpret_cast<xunit_run_options *>(buf);
    xunit_run_options full = options(1, -1);
    full.precision = 9;
    full.progress = [](float, void *) { return 1; };
    std::memcpy(buf, &full, sizeof full);
    o->struct_size = uint32_t(offsetof(xunit_run_options, precision));
    CHECK(xunit_run(model.m, o, &a, &b) == XUNIT_OK);
    o->struct_size = sizeof full;  // today's caller: both are read
    CHECK(xunit_run(model.m, o, &a, &b) == XUNIT_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(xunit_last_error()).find("precision") != std::string::npos);

    // A newer caller: its extra fields must be zero (their defaults), else they are refused.
    full = options(1, -1);
    std::memset(buf, 0, sizeof buf);
    std::memcpy(buf, &full, sizeof full);
    o->struct_size = uint32_t(sizeof full + 16);
    CHECK(xunit_run(model.m, o, &a, &b) == XUNIT_OK);
    buf[sizeof full + 15] = 1;
    CHECK(xunit_run(model.m, o, &a, &b) == XUNIT_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(xunit_last_error()).find("does not know") != std::string::npos);
    buf[sizeof full + 16] = 1;  // past its struct_size: not its business
    buf[sizeof full + 15] = 0;
    CHECK(xunit_run(model.m, o, &a, &b) == XUNIT_OK);
  }
}

TEST_CASE("c api: loading from a file and from memory; errors say what is wrong") {
  std::vector<uint8_t> bytes = model_bytes("xdncnn_c3_f16_b2");
  const std::string path = temp_path("model.xunit");
  xunit::write_file_atomic(path, bytes.data(), bytes.size(), true);

  xunit_model *m = nullptr;
  REQUIRE(xunit_model_load(path.c_str(), &m) == XUNIT_OK);
  REQUIRE(m != nullptr);
  xunit_model_info info;
  info.struct_size = sizeof info;
  REQUIRE(xunit_model_get_info(m, &info) == XUNIT_OK);
  CHECK(info.task == XUNIT_TASK_DENOISE);
  CHECK(info.scale == 1);
  CHECK(info.in_channels == 3);
  CHECK(info.out_channels == 3);
  CHECK(info.receptive_field == 3 * (1 + 3) + 2);  // 3 blocks of conv3x3 + dw7x7, then a 5x5 conv
  CHECK(info.parameters > 0);
  CHECK(std::string(info.family) == "xdncnn");
  CHECK(std::string(xunit_model_get_metadata(m, "family")) == "xdncnn");
  CHECK(std::string(xunit_model_get_metadata(m, "source_sha256")) == "test");
  CHECK(xunit_model_get_metadata(m, "no such key") == nullptr);
  CHECK(xunit_model_get_metadata(nullptr, "family") == nullptr);
  xunit_model_free(m);
  xunit_model_free(nullptr);  // like free(NULL)

  m = reinterpret_cast<xunit_model *>(1);
  CHECK(xunit_model_load("/nonexistent/dir/model.xunit", &m) == XUNIT_ERROR_IO);
  CHECK(m == nullptr);
  CHECK(std::string(xunit_last_error()).find("/nonexistent/dir/model.xunit") != std::string::npos);

  CHECK(xunit_model_load(nullptr, &m) == XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(xunit_model_load(path.c_str(), nullptr) == XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(xunit_model_load_memory(nullptr, 10, &m) == XUNIT_ERROR_INVALID_ARGUMENT);

  // A flipped byte anywhere fails the checksum; a truncated file says so.
  std::vector<uint8_t> damaged = bytes;
  damaged[damaged.size() / 2] ^= 0x10;
  CHECK(xunit_model_load_memory(damaged.data(), damaged.size(), &m) == XUNIT_ERROR_INVALID_MODEL);
  CHECK(std::string(xunit_last_error()).find("checksum") != std::string::npos);
  CHECK(xunit_model_load_memory(bytes.data(), bytes.size() - 100, &m) == XUNIT_ERROR_INVALID_MODEL);
  CHECK(std::string(xunit_last_error()).find("truncated") != std::string::npos);
  const char garbage[] =
      "definitely not a model, but long enough to have a header and a checksum....";
  CHECK(xunit_model_load_memory(garbage, sizeof garbage, &m) == XUNIT_ERROR_INVALID_MODEL);
  CHECK(std::string(xunit_last_error()).find("not a .xunit model") != std::string::npos);
  const std::string empty = temp_path("empty.xunit");
  xunit::write_file_atomic(empty, "", 0, true);
  CHECK(xunit_model_load(empty.c_str(), &m) == XUNIT_ERROR_INVALID_MODEL);
  CHECK(std::string(xunit_last_error()).find(empty) != std::string::npos);

  // A successful call clears the thread's last error.
  REQUIRE(xunit_model_load_memory(bytes.data(), bytes.size(), &m) == XUNIT_OK);
  CHECK(std::string(xunit_last_error()).empty());
  xunit_model_free(m);
  std::remove(path.c_str());
  std::remove(empty.c_str());
}

TEST_CASE("c api: a model loaded from memory does not keep the caller's buffer") {
  std::vector<uint8_t> bytes = model_bytes("xdncnn_c1_f24_b3");
  xunit_model *m = nullptr;
  REQUIRE(xunit_model_load_memory(bytes.data(), bytes.size(), &m) == XUNIT_OK);
  std::vector<float> in = ramp_image(19, 11, 1, 3);
  std::vector<float> before = run_f32(m, in, 19, 11, 1, 1);
  std::fill(bytes.begin(), bytes.end(), uint8_t(0xAB));
  bytes.clear();
  bytes.shrink_to_fit();
  CHECK(run_f32(m, in, 19, 11, 1, 1) == before);
  xunit_model_free(m);
}

TEST_CASE("c api: u8 and u16 pixels are the f32 result rounded and clamped; strides are honoured") {
  Model model(model_bytes("xdncnn_c3_f16_b2"));
  const int w = 23, h = 17, c = 3;
  std::vector<uint8_t> in8(size_t(w) * h * c);
  for (size_t i = 0; i < in8.size(); ++i) in8[i] = uint8_t((i * 37 + 11) % 256);
  std::vector<float> inf(in8.size());
  for (size_t i = 0; i < in8.size(); ++i) inf[i] = float(in8[i]) / 255.f;
  std::vector<float> ref = run_f32(model.m, inf, w, h, c, 1, 2, -1);  // same tiles as below

  // u8 in (row stride with 5 bytes of padding), u8 out (stride padded too).
  const size_t in_stride = size_t(w) * c + 5, out_stride = size_t(w) * c + 9;
  std::vector<uint8_t> padded_in(in_stride * h, 0xEE), out8(out_stride * h, 0xCD);
  for (int y = 0; y < h; ++y)
    std::memcpy(&padded_in[y * in_stride], &in8[size_t(y) * w * c], size_t(w) * c);
  xunit_image a{w, h, c, XUNIT_PIXEL_U8, in_stride, padded_in.data()};
  xunit_image b{w, h, c, XUNIT_PIXEL_U8, out_stride, out8.data()};
  xunit_run_options o = options(2, -1);
  REQUIRE(xunit_run(model.m, &o, &a, &b) == XUNIT_OK);
  int mismatches = 0;
  for (int y = 0; y < h; ++y) {
    for (int i = 0; i < w * c; ++i) {
      float v = std::min(std::max(ref[size_t(y) * w * c + i], 0.f), 1.f);
      if (out8[y * out_stride + i] != uint8_t(std::floor(double(v) * 255 + 0.5))) ++mismatches;
    }
    for (size_t i = size_t(w) * c; i < out_stride; ++i)
      CHECK(out8[y * out_stride + i] == 0xCD);  // padding untouched
  }
  CHECK(mismatches == 0);

  // u16 out.
  std::vector<uint16_t> out16(size_t(w) * h * c);
  xunit_image b16{w, h, c, XUNIT_PIXEL_U16, size_t(w) * c * 2, out16.data()};
  REQUIRE(xunit_run(model.m, &o, &a, &b16) == XUNIT_OK);
  mismatches = 0;
  for (size_t i = 0; i < out16.size(); ++i) {
    float v = std::min(std::max(ref[i], 0.f), 1.f);
    if (out16[i] != uint16_t(std::floor(double(v) * 65535 + 0.5))) ++mismatches;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("c api: bad arguments are refused with a message, and nothing is written") {
  Model model(model_bytes("xsrgan_c1_f16_b1_x4"));
  const int w = 8, h = 6;
  std::vector<float> in = ramp_image(w, h, 1, 1), out(size_t(w) * 4 * h * 4, 42.f);
  xunit_image a = f32_image(w, h, 1, in.data());
  xunit_image b = f32_image(w * 4, h * 4, 1, out.data());
  xunit_run_options o = options(1, -1);
  auto expect = [&](xunit_status want, const xunit_image *ia, xunit_image *ib,
                    const xunit_run_options *opt, const char *fragment) {
    CHECK(xunit_run(model.m, opt, ia, ib) == want);
    CHECK(std::string(xunit_last_error()).find(fragment) != std::string::npos);
  };
  CHECK(xunit_run(nullptr, &o, &a, &b) == XUNIT_ERROR_INVALID_ARGUMENT);
  expect(XUNIT_ERROR_INVALID_ARGUMENT, nullptr, &b, &o, "input image is NULL");
  expect(XUNIT_ERROR_INVALID_ARGUMENT, &a, nullptr, &o, "output image is NULL");
  xunit_image x = a;
  x.channels = 3;
  x.row_stride = size_t(w) * 3 * 4;
  expect(XUNIT_ERROR_INVALID_ARGUMENT, &x, &b, &o, "the model expects 1");
  x = b;
  x.width = w * 2;
  expect(XUNIT_ERROR_INVALID_ARGUMENT, &a, &x, &o, "output must be 32x24");
  x = a;
  x.row_stride = 4;
  expect(XUNIT_ERROR_INVALID_ARGUMENT, &x, &b, &o, "stride");
  x = a;
  x.width = 0;
  expect(XUNIT_ERROR_INVALID_ARGUMENT, &x, &b, &o, "non-positive size");
  x = a;
  x.pixel_type = 7;
  expect(XUNIT_ERROR_INVALID_ARGUMENT, &x, &b, &o, "pixel type");
  x = a;
  x.data = nullptr;
  expect(XUNIT_ERROR_INVALID_ARGUMENT, &x, &b, &o, "no data");
  xunit_run_options bad = o;
  bad.threads = -2;
  expect(XUNIT_ERROR_INVALID_ARGUMENT, &a, &b, &bad, "threads");
  bad = o;
  bad.tile_size = -5;
  expect(XUNIT_ERROR_INVALID_ARGUMENT, &a, &b, &bad, "tile_size");
  bad = o;
  bad.precision = 9;
  expect(XUNIT_ERROR_INVALID_ARGUMENT, &a, &b, &bad, "precision");
  xunit_image same = f32_image(w * 4, h * 4, 1, in.data());
  expect(XUNIT_ERROR_INVALID_ARGUMENT, &a, &same, &o, "share memory");
  for (float v : out) REQUIRE(v == 42.f);
  // NULL options means the defaults.
  CHECK(xunit_run(model.m, nullptr, &a, &b) == XUNIT_OK);
}

TEST_CASE("c api: a noise-level-conditioned model: a fixed sigma gives PyTorch's output") {
  Model model(model_bytes("xdncnn_nm_c3_f16_b2"));
  xunit_model_info info;
  info.struct_size = sizeof info;
  REQUIRE(xunit_model_get_info(model.m, &info) == XUNIT_OK);
  CHECK(info.noise_level_input == 1);
  CHECK(info.in_channels == 3);
  const std::string dir = xunit::testing::parity_dir() + "xdncnn_nm_c3_f16_b2/";
  const xunit::testing::HwcImage in = xunit::testing::load_npy(dir + "input.npy");
  const int w = in.width, h = in.height;
  std::vector<float> previous;
  for (int sigma : {0, 25}) {
    CAPTURE(sigma);
    const xunit::testing::HwcImage want =
        xunit::testing::load_npy(dir + "output_s" + std::to_string(sigma) + ".npy");
    for (int tile : {0, 6}) {
      std::vector<float> out(in.data.size());
      xunit_image a = f32_image(w, h, 3, const_cast<float *>(in.data.data()));
      xunit_image b = f32_image(w, h, 3, out.data());
      xunit_run_options o = options(2, tile);
      o.noise_level_mode = XUNIT_NOISE_LEVEL_FIXED;
      o.noise_level = float(sigma);
      REQUIRE(xunit_run(model.m, &o, &a, &b) == XUNIT_OK);
      float worst = 0;
      for (size_t i = 0; i < out.size(); ++i)
        worst = std::max(worst, std::abs(out[i] - want.data[i]));
      CHECK(worst <= 1e-4f);
      if (tile == 0) {
        CHECK(out != previous);
        previous = out;
      }
    }
  }
}

TEST_CASE("c api: noise levels outside 0..255, unknown modes and fixed levels for blind models") {
  Model conditioned(model_bytes("xdncnn_nm_c1_f16_b1"));
  Model blind(model_bytes("xdncnn_c1_f24_b3"));
  xunit_model_info info;
  info.struct_size = sizeof info;
  REQUIRE(xunit_model_get_info(blind.m, &info) == XUNIT_OK);
  CHECK(info.noise_level_input == 0);
  const int w = 9, h = 7;
  std::vector<float> in = ramp_image(w, h, 1, 3), out(size_t(w) * h, 42.f);
  xunit_image a = f32_image(w, h, 1, in.data());
  xunit_image b = f32_image(w, h, 1, out.data());
  auto refused = [&](const xunit_model *m, const xunit_run_options &o, const char *fragment) {
    CHECK(xunit_run(m, &o, &a, &b) == XUNIT_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE(std::string(xunit_last_error()).find(fragment) != std::string::npos,
                  xunit_last_error());
    uint64_t bytes = 0;  // the same options, the same answer
    CHECK(xunit_run_memory_needed(m, &o, w, h, &bytes) == XUNIT_ERROR_INVALID_ARGUMENT);
  };
  xunit_run_options o = options(1, -1);
  CHECK(o.noise_level_mode == XUNIT_NOISE_LEVEL_AUTO);  // the default
  for (int32_t mode : {-1, 2}) {
    o.noise_level_mode = mode;
    refused(conditioned.m, o, "noise_level_mode");
  }
  o.noise_level_mode = XUNIT_NOISE_LEVEL_FIXED;
  for (float level : {-1.f, 255.5f, std::nanf(""), INFINITY, -INFINITY}) {
    CAPTURE(level);
    o.noise_level = level;
    refused(conditioned.m, o, "noise_level must be 0 to 255");
  }
  o.noise_level = 25.f;
  refused(blind.m, o, "model has no noise-level input");
  for (float v : out) REQUIRE(v == 42.f);  // nothing written
  o.noise_level = 255.f;                   // the bounds are levels too
  CHECK(xunit_run(conditioned.m, &o, &a, &b) == XUNIT_OK);
  o.noise_level_mode = XUNIT_NOISE_LEVEL_AUTO;  // a blind model runs as it is
  CHECK(xunit_run(blind.m, &o, &a, &b) == XUNIT_OK);

  // An older caller's struct ends before the noise level: the default, AUTO, whatever follows.
  alignas(xunit_run_options) unsigned char buf[sizeof(xunit_run_options)];
  xunit_run_options full = options(1, -1);
  full.noise_level_mode = XUNIT_NOISE_LEVEL_FIXED;
  full.noise_level = 1000.f;
  std::memcpy(buf, &full, sizeof full);
  auto *old = reinterpret_cast<xunit_run_options *>(buf);
  old->struct_size = uint32_t(offsetof(xunit_run_options, noise_level_mode));
  CHECK(xunit_run(blind.m, old, &a, &b) == XUNIT_OK);
  // AUTO is FIXED at the level xunit_estimate_noise_level reads on the input, to the bit.
  REQUIRE(xunit_run(conditioned.m, old, &a, &b) == XUNIT_OK);
  const std::vector<float> automatic = out;
  float level = -1.f;
  REQUIRE(xunit_estimate_noise_level(&a, &level) == XUNIT_OK);
  o.noise_level_mode = XUNIT_NOISE_LEVEL_FIXED;
  o.noise_level = level;
  REQUIRE(xunit_run(conditioned.m, &o, &a, &b) == XUNIT_OK);
  CHECK(out == automatic);
  o.noise_level = level + 10.f;  // (and the level matters)
  REQUIRE(xunit_run(conditioned.m, &o, &a, &b) == XUNIT_OK);
  CHECK(out != automatic);
}

TEST_CASE("c api: progress reaches 1 in order, and a callback can cancel promptly") {
  Model model(model_bytes("xdncnn_c3_f16_b2"));
  const int w = 96, h = 80;
  std::vector<float> in = ramp_image(w, h, 3, 5), out(in.size());
  xunit_image a = f32_image(w, h, 3, in.data());
  xunit_image b = f32_image(w, h, 3, out.data());
  for (int tile : {0, 16}) {
    CAPTURE(tile);
    struct Log {
      std::vector<float> fractions;
    } log;
    xunit_run_options o = options(2, tile);
    o.progress = [](float f, void *user) {
      static_cast<Log *>(user)->fractions.push_back(f);
      return 0;
    };
    o.progress_user_data = &log;
    REQUIRE(xunit_run(model.m, &o, &a, &b) == XUNIT_OK);
    REQUIRE(!log.fractions.empty());
    for (size_t i = 1; i < log.fractions.size(); ++i)
      CHECK(log.fractions[i] >= log.fractions[i - 1]);
    CHECK(log.fractions.back() == doctest::Approx(1.0));

    struct Cancel {
      std::atomic<int> calls{0}, after_cancel{0};
    } cancel;
    o.progress = [](float, void *user) {
      auto *c = static_cast<Cancel *>(user);
      if (++c->calls > 2) ++c->after_cancel;
      return c->calls >= 2 ? 1 : 0;
    };
    o.progress_user_data = &cancel;
    CHECK(xunit_run(model.m, &o, &a, &b) == XUNIT_ERROR_CANCELLED);
    CHECK(std::string(xunit_last_error()).find("cancel") != std::string::npos);
    CHECK(cancel.after_cancel.load() == 0);  // no more calls once the run was told to stop
  }
}

TEST_CASE("c api: one model shared by 8 threads gives byte-identical results to sequential runs") {
  Model model(model_bytes("xsrgan_c3_f16_b2_x2"));
  const int n = 8;
  std::vector<std::vector<float>> inputs, sequential(n), concurrent(n);
  std::vector<int> widths;
  for (int i = 0; i < n; ++i) {
    widths.push_back(17 + 5 * i);
    inputs.push_back(ramp_image(widths.back(), 13 + i, 3, i));
  }
  for (int i = 0; i < n; ++i)
    sequential[i] = run_f32(model.m, inputs[i], widths[i], 13 + i, 3, 2, 1, 12);
  std::vector<std::thread> threads;
  std::vector<xunit_status> status(n, XUNIT_ERROR_INTERNAL);
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      const int w = widths[i], h = 13 + i;
      concurrent[i].assign(size_t(w) * 2 * h * 2 * 3, 0.f);
      xunit_image a = f32_image(w, h, 3, inputs[i].data());
      xunit_image b = f32_image(w * 2, h * 2, 3, concurrent[i].data());
      xunit_run_options o = options(1, 12);
      status[i] = xunit_run(model.m, &o, &a, &b);
    });
  for (auto &t : threads) t.join();
  for (int i = 0; i < n; ++i) {
    CHECK(status[i] == XUNIT_OK);
    CHECK(std::memcmp(concurrent[i].data(), sequential[i].data(), sequential[i].size() * 4) == 0);
  }
}

TEST_CASE("c api: the last error is per thread") {
  Model model(model_bytes("xdncnn_c3_f16_b2"));
  xunit_model *m = nullptr;
  CHECK(xunit_model_load("/nonexistent.xunit", &m) == XUNIT_ERROR_IO);
  std::string other;
  std::thread([&] { other = xunit_last_error(); }).join();
  CHECK(other.empty());
  CHECK(std::string(xunit_last_error()).find("nonexistent") != std::string::npos);
}

TEST_CASE("c api: bf16 and auto precision run where the CPU allows, close to fp32") {
  Model model(model_bytes("xdncnn_c3_f16_b2"));
  const int w = 40, h = 30;
  std::vector<float> in = ramp_image(w, h, 3, 9);
  std::vector<float> fp32 = run_f32(model.m, in, w, h, 3, 1, 2);
  for (int32_t precision : {int32_t(XUNIT_PRECISION_BF16), int32_t(XUNIT_PRECISION_AUTO)}) {
    CAPTURE(precision);
    std::vector<float> out(in.size());
    xunit_image a = f32_image(w, h, 3, in.data()), b = f32_image(w, h, 3, out.data());
    xunit_run_options o = options(2, -1);
    o.precision = precision;
    const xunit_status st = xunit_run(model.m, &o, &a, &b);
    if (st == XUNIT_ERROR_UNSUPPORTED) {  // bf16 without AVX-512 (e.g. XUNIT_ISA=avx2)
      CHECK(precision == XUNIT_PRECISION_BF16);
      CHECK(std::string(xunit_last_error()).find("AVX-512") != std::string::npos);
      continue;
    }
    REQUIRE(st == XUNIT_OK);
    float worst = 0;
    for (size_t i = 0; i < out.size(); ++i) worst = std::max(worst, std::abs(out[i] - fp32[i]));
    CHECK(worst <= 2e-2f);
  }
}

TEST_CASE(
    "c api: a run that needs more memory than there is fails with OUT_OF_MEMORY, not a crash") {
  Model model(model_bytes("xdncnn_c3_f16_b2"));
  // One stripe 16 million pixels wide: its scratch (~20 KB per column) is hundreds of GB.
  const int w = 1 << 24, h = 2;
  std::vector<uint8_t> in(size_t(w) * h * 3, 128), out(size_t(w) * h * 3, 7);
  xunit_image a{w, h, 3, XUNIT_PIXEL_U8, size_t(w) * 3, in.data()},
      b{w, h, 3, XUNIT_PIXEL_U8, size_t(w) * 3, out.data()};
  xunit_run_options o = options(1, 0);
  CHECK(xunit_run(model.m, &o, &a, &b) == XUNIT_ERROR_OUT_OF_MEMORY);
  const std::string message = xunit_last_error();  // the figure, computed before allocating
  CHECK(message.find("a stripe of 16777216 columns needs at least ") != std::string::npos);
  CHECK(message.find("more than this machine's") != std::string::npos);
  CHECK(out[12345] == 7);  // nothing written
}

TEST_CASE("c api: an x8 model on a 1 x 2^26 image is refused or runs out of memory, no signal") {
  // width * scale * scale wrapped to 0 in int (issue 17, row 5): SIGFPE in choose_geometry.
  // 64 features: a row of a value at 8x is 2^29 * 64 floats, beyond any test machine's memory.
  const xunit::Graph g = xunit::synthetic::GraphFactory(5).xsrgan(1, 64, 1, 8);
  auto loaded = xunit::testing::load_graph(g);
  xunit::RunConfig config;
  for (int tile : {-1, 0, 64}) {
    config.tile_size = tile;
    const xunit::StripeGeometry geo = xunit::choose_geometry(*loaded.model, 1 << 26, 1, config);
    CHECK(geo.tile_width >= 1);
    CHECK(geo.stream.chunk_rows >= 1);
  }
  // Sizes whose output cannot be represented are refused before anything is sized by them.
  CHECK_THROWS_AS(xunit::choose_geometry(*loaded.model, INT_MAX / 4, 1, config), xunit::Error);
  CHECK_THROWS_AS(xunit::choose_geometry(*loaded.model, 1, INT_MAX / 4, config), xunit::Error);

  const std::vector<uint8_t> bytes = xunit::serialize_model(g, xunit::DType::F32);
  Model model(bytes);
  // Tiny buffers behind huge descriptors: the run must fail before touching them.
  std::vector<uint8_t> in(4096, 128), out(4096, 7);
  const int w = 1 << 26, h = 1;
  xunit_image a{w, h, 1, XUNIT_PIXEL_U8, size_t(w), in.data()},
      b{w * 8, h * 8, 1, XUNIT_PIXEL_U8, size_t(w) * 8, out.data()};
  xunit_run_options o = options(1, 0);
  const xunit_status st = xunit_run(model.m, &o, &a, &b);
  CHECK((st == XUNIT_ERROR_OUT_OF_MEMORY || st == XUNIT_ERROR_INVALID_ARGUMENT));
  MESSAGE(std::string(xunit_last_error()));
  CHECK(out[123] == 7);
  // An output that no int can describe (2^29 * 8 = 2^32 columns) is refused as an argument.
  xunit_image wide{1 << 29, 1, 1, XUNIT_PIXEL_U8, size_t(1) << 29, in.data()};
  xunit_image wide_out{INT_MAX, 8, 1, XUNIT_PIXEL_U8, size_t(INT_MAX), out.data()};
  CHECK(xunit_run(model.m, &o, &wide, &wide_out) == XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(xunit_last_error()).find("cannot be represented") != std::string::npos);
  // A row stride times the height beyond the address space is not an image.
  xunit_image tall{1, 1 << 20, 1, XUNIT_PIXEL_U8, SIZE_MAX / 1024, in.data()};
  xunit_image tall_out{8, 8 << 20, 1, XUNIT_PIXEL_U8, 8, out.data()};
  CHECK(xunit_run(model.m, &o, &tall, &tall_out) == XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(out[123] == 7);
}

TEST_CASE("c api: a loaded model survives its file being truncated or overwritten") {
  // Weights were read from the mapping at run time (issue 17, row 11): SIGBUS after truncation.
  const std::vector<uint8_t> bytes = model_bytes("xdncnn_c3_f16_b2");
  const std::string path = temp_path("truncated.xunit");
  xunit::write_file_atomic(path, bytes.data(), bytes.size(), true);
  xunit_model *m = nullptr;
  REQUIRE(xunit_model_load(path.c_str(), &m) == XUNIT_OK);
  const int w = 37, h = 29;
  std::vector<float> in = ramp_image(w, h, 3, 3);
  auto run_once = [&] {
    std::vector<float> out(in.size(), -1.f);
    xunit_image a = f32_image(w, h, 3, in.data()), b = f32_image(w, h, 3, out.data());
    xunit_run_options o = options(1, -1);
    CHECK(xunit_run(m, &o, &a, &b) == XUNIT_OK);
    return out;
  };
  const std::vector<float> before = run_once();
  REQUIRE(::truncate(path.c_str(), 0) == 0);
  CHECK(run_once() == before);
  {
    std::FILE *f = std::fopen(path.c_str(), "r+b");
    REQUIRE(f != nullptr);
    const std::vector<uint8_t> junk(bytes.size(), 0xff);  // NaNs where the weights were
    CHECK(std::fwrite(junk.data(), 1, junk.size(), f) == junk.size());
    std::fclose(f);
  }
  CHECK(run_once() == before);
  xunit_model_free(m);
  std::remove(path.c_str());
}

TEST_SUITE_END();
