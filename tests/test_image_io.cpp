// Tests for cli/image_io (PNG 8/16-bit, JPEG, WebP, TIFF, BMP, TGA, .npy) and its helpers.
#include <doctest/doctest.h>
#include <stb_image.h>
#include <tiffio.h>
#include <webp/mux.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "cli/image_io.h"
#include "cli/noise.h"
#include "cli/npy_io.h"
#include "common/error.h"
#include "common/file_io.h"
#include "photo_metadata.h"
#include "temp_dir.h"

using xunit::cli::Image;
using xunit::cli::load_image;
using xunit::cli::save_image;

namespace {

using TempDir = xunit::testing::TempDir;

void write_raw(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
  REQUIRE(f.good());
}

void write_raw(const std::string &path, const std::string &bytes) {
  write_raw(path, std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

// Deterministic pseudo-random integers.
struct Lcg {
  uint32_t state;
  explicit Lcg(uint32_t seed) : state(seed) {}
  uint32_t next() {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  }
};

// Pixels are exact multiples of 1/levels (levels = 255 or 65535), as the decoders produce.
Image make_image(int w, int h, int c, int bits, uint32_t seed = 1) {
  Image img;
  img.width = w;
  img.height = h;
  img.channels = c;
  img.bits = bits;
  const uint32_t levels = bits == 16 ? 65535u : 255u;
  Lcg rng(seed);
  img.pixels.resize(size_t(w) * h * c);
  for (size_t i = 0; i < img.pixels.size(); ++i) {
    uint32_t v;
    if (i == 0)
      v = 0;
    else if (i == 1)
      v = levels;
    else if (i % 3 == 0)
      v = uint32_t((i * 7) % (levels + 1));  // smooth-ish runs for the PNG filters
    else
      v = rng.next() % (levels + 1);
    img.pixels[i] = float(v) / float(levels);
  }
  return img;
}

// A smooth image, for lossy JPEG.
Image make_gradient(int w, int h, int c) {
  Image img;
  img.width = w;
  img.height = h;
  img.channels = c;
  img.pixels.resize(size_t(w) * h * c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) {
        float v = 0.5f + 0.4f * std::sin(0.15f * x + 0.1f * y + 1.3f * k);
        img.pixels[(size_t(y) * w + x) * c + k] = std::round(v * 255.0f) / 255.0f;
      }
  return img;
}

void check_same(const Image &a, const Image &b) {
  REQUIRE(a.width == b.width);
  REQUIRE(a.height == b.height);
  REQUIRE(a.channels == b.channels);
  REQUIRE(a.pixels.size() == b.pixels.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i)
    if (a.pixels[i] != b.pixels[i]) ++mismatches;
  CHECK(mismatches == 0);
}

std::string error_of(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const xunit::Error &e) {
    return e.what();
  }
  return "<no error>";
}

std::string npy_file(const std::string &header_dict, size_t data_bytes, int major = 1,
                     uint8_t fill = 0) {
  std::string header = header_dict;
  size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += char(major);
  out += char(0);
  if (major == 1) {
    out += char(header.size() & 0xff);
    out += char(header.size() >> 8);
  } else {
    for (int i = 0; i < 4; ++i) out += char((header.size() >> (8 * i)) & 0xff);
  }
  out += header;
  out.append(data_bytes, char(fill));
  return out;
}

void be32(std::vector<uint8_t> &out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(v >> s));
}

// A PNG signature and IHDR only, claiming the given size.
std::vector<uint8_t> png_header_only(uint32_t w, uint32_t h, uint8_t color_type = 0) {
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> chunk = {'I', 'H', 'D', 'R'};
  be32(chunk, w);
  be32(chunk, h);
  chunk.insert(chunk.end(), {8, color_type, 0, 0, 0});
  be32(out, 13);
  out.insert(out.end(), chunk.begin(), chunk.end());
  be32(out, uint32_t(crc32(0, chunk.data(), uInt(chunk.size()))));
  return out;
}

}  // namespace

TEST_CASE("image_io: 8-bit PNG round trips exactly for 1 to 4 channels") {
  TempDir dir;
  for (int c = 1; c <= 4; ++c) {
    CAPTURE(c);
    Image img = make_image(7, 5, c, 8, uint32_t(c));
    std::string path = dir.file("p8_" + std::to_string(c) + ".png");
    save_image(path, img, false);
    Image back = load_image(path);
    CHECK(back.bits == 8);
    check_same(img, back);
  }
}

TEST_CASE("image_io: 16-bit PNG round trips exactly for 1 to 4 channels") {
  TempDir dir;
  for (int c = 1; c <= 4; ++c) {
    CAPTURE(c);
    Image img = make_image(33, 17, c, 16, uint32_t(10 + c));
    std::string path = dir.file("p16_" + std::to_string(c) + ".png");
    save_image(path, img, false);
    Image back = load_image(path);
    CHECK(back.bits == 16);
    check_same(img, back);

    // stb itself sees a 16-bit file with the exact samples.
    std::vector<uint8_t> bytes = xunit::read_file(path);
    REQUIRE(stbi_is_16_bit_from_memory(bytes.data(), int(bytes.size())) == 1);
    int w = 0, h = 0, n = 0;
    stbi_us *px = stbi_load_16_from_memory(bytes.data(), int(bytes.size()), &w, &h, &n, 0);
    REQUIRE(px != nullptr);
    CHECK(w == 33);
    CHECK(h == 17);
    CHECK(n == c);
    size_t mismatches = 0;
    for (size_t i = 0; i < img.pixels.size(); ++i)
      if (px[i] != uint16_t(std::lround(img.pixels[i] * 65535.0f))) ++mismatches;
    CHECK(mismatches == 0);
    stbi_image_free(px);
  }
}

TEST_CASE("image_io: larger 16-bit PNG with noise and gradients (all row filters)") {
  TempDir dir;
  Image img = make_image(130, 70, 4, 16, 99);
  for (int y = 0; y < 35; ++y)  // top half smooth so Sub/Up/Paeth win somewhere
    for (int x = 0; x < 130; ++x)
      for (int k = 0; k < 4; ++k)
        img.pixels[(size_t(y) * 130 + x) * 4 + k] =
            float((x * 300 + y * 200 + k) % 65536) / 65535.0f;
  save_image(dir.file("big16.png"), img, false);
  Image back = load_image(dir.file("big16.png"));
  CHECK(back.bits == 16);
  check_same(img, back);
}

TEST_CASE("image_io: .npy float32 round trips exactly, including values outside [0,1]") {
  TempDir dir;
  Image img;
  img.width = 3;
  img.height = 2;
  img.channels = 5;
  img.bits = 32;
  for (int i = 0; i < 30; ++i) img.pixels.push_back(float(i) * 0.37f - 4.0f);
  img.pixels[3] = 1e30f;
  img.pixels[4] = -0.0f;
  img.pixels[5] = std::numeric_limits<float>::infinity();
  img.pixels[6] = std::numeric_limits<float>::quiet_NaN();
  img.pixels[7] = std::numeric_limits<float>::denorm_min();
  save_image(dir.file("a.npy"), img, false);
  Image back = load_image(dir.file("a.npy"));
  CHECK(back.bits == 32);
  REQUIRE(back.width == 3);
  REQUIRE(back.height == 2);
  REQUIRE(back.channels == 5);
  REQUIRE(back.pixels.size() == img.pixels.size());
  CHECK(std::memcmp(back.pixels.data(), img.pixels.data(), img.pixels.size() * 4) == 0);

  // The writer's header: v1.0, '<f4', (H, W, C), data 64-byte aligned.
  std::vector<uint8_t> bytes = xunit::read_file(dir.file("a.npy"));
  REQUIRE(bytes.size() > 10);
  CHECK(bytes[6] == 1);
  CHECK(bytes[7] == 0);
  size_t header_len = bytes[8] | size_t(bytes[9]) << 8;
  CHECK((10 + header_len) % 64 == 0);
  CHECK(bytes.size() == 10 + header_len + 30 * 4);
  std::string header(bytes.begin() + 10, bytes.begin() + 10 + long(header_len));
  CHECK(header.back() == '\n');
  CHECK(header.find("'descr': '<f4'") != std::string::npos);
  CHECK(header.find("'fortran_order': False") != std::string::npos);
  CHECK(header.find("'shape': (2, 3, 5)") != std::string::npos);
}

TEST_CASE("image_io: .npy (H, W) and (H, W, C) shapes, versions 1-3, float64") {
  TempDir dir;
  std::vector<float> values = {-1.5f, 0.25f, 2.0f, 7.0f, 0.0f, 1.0f};
  auto with_data = [&](std::string file) {
    std::string data(reinterpret_cast<const char *>(values.data()), values.size() * 4);
    return file.substr(0, file.size() - data.size()) + data;
  };
  write_raw(dir.file("hw.npy"),
            with_data(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24)));
  Image a = load_image(dir.file("hw.npy"));
  CHECK(a.height == 2);
  CHECK(a.width == 3);
  CHECK(a.channels == 1);
  CHECK(a.pixels == values);

  write_raw(
      dir.file("hwc.npy"),
      with_data(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", 24)));
  Image b = load_image(dir.file("hwc.npy"));
  CHECK(b.height == 1);
  CHECK(b.width == 2);
  CHECK(b.channels == 3);
  CHECK(b.pixels == values);

  for (int major = 2; major <= 3; ++major) {
    CAPTURE(major);
    std::string name = "v" + std::to_string(major) + ".npy";
    write_raw(dir.file(name),
              with_data(npy_file(
                  "{\"shape\": (3, 2), \"fortran_order\": False, \"descr\": \"<f4\"}", 24, major)));
    Image v = load_image(dir.file(name));
    CHECK(v.height == 3);
    CHECK(v.width == 2);
    CHECK(v.pixels == values);
  }

  std::vector<double> doubles = {-1.5, 0.25, 2.0, 7.0};
  std::string f8 = npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 32);
  std::memcpy(&f8[f8.size() - 32], doubles.data(), 32);
  write_raw(dir.file("f8.npy"), f8);
  Image d = load_image(dir.file("f8.npy"));
  CHECK(d.pixels == std::vector<float>{-1.5f, 0.25f, 2.0f, 7.0f});
  CHECK(d.bits == 32);
}

TEST_CASE("image_io: malformed .npy files are refused") {
  TempDir dir;
  struct Case {
    const char *name;
    std::string bytes;
    const char *expect;
  };
  const std::string ok = "'fortran_order': False, ";
  std::vector<Case> cases = {
      {"lying_shape", npy_file("{'descr': '<f4', " + ok + "'shape': (4, 4, 3), }", 40),
       "needs 192"},
      {"big_endian", npy_file("{'descr': '>f4', " + ok + "'shape': (2, 2), }", 16), "big-endian"},
      {"fortran", npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16),
       "Fortran"},
      {"int32", npy_file("{'descr': '<i4', " + ok + "'shape': (2, 2), }", 16), "dtype '<i4'"},
      {"uint8", npy_file("{'descr': '|u1', " + ok + "'shape': (2, 2), }", 4), "dtype '|u1'"},
      {"f2", npy_file("{'descr': '<f2', " + ok + "'shape': (2, 2), }", 8), "dtype"},
      {"one_dim", npy_file("{'descr': '<f4', " + ok + "'shape': (4,), }", 16), "(4,)"},
      {"four_dim", npy_file("{'descr': '<f4', " + ok + "'shape': (1, 2, 2, 1), }", 16), "shape"},
      {"zero_dim", npy_file("{'descr': '<f4', " + ok + "'shape': (0, 4), }", 0), "empty"},
      {"zero_channels", npy_file("{'descr': '<f4', " + ok + "'shape': (2, 2, 0), }", 0), "empty"},
      {"trailing", npy_file("{'descr': '<f4', " + ok + "'shape': (2, 2), }", 20), "after the data"},
      {"overflow",
       npy_file("{'descr': '<f4', " + ok + "'shape': (2147483647, 2147483647, 2147483647), }", 16),
       "limit"},
      {"huge_number",
       npy_file("{'descr': '<f4', " + ok + "'shape': (99999999999999999999999, 2), }", 16),
       "overflow"},
      {"missing_key", npy_file("{'descr': '<f4', 'shape': (2, 2), }", 16), "lacks"},
      {"extra_key", npy_file("{'descr': '<f4', " + ok + "'shape': (2, 2), 'x': 1}", 16),
       "unexpected key"},
      {"bad_version", npy_file("{'descr': '<f4', " + ok + "'shape': (2, 2), }", 16, 9), "version"},
      {"garbage_header", npy_file("not a dict at all", 16), "malformed"},
      {"magic_only", std::string("\x93NUMPY", 6), "truncated"},
      {"header_len_lies", std::string("\x93NUMPY\x01\x00\xff\x7f{}", 12), "truncated"},
      {"v2_header_len_huge", std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff{}", 14), "truncated"},
  };
  for (const Case &c : cases) {
    CAPTURE(c.name);
    std::string path = dir.file(std::string(c.name) + ".npy");
    write_raw(path, c.bytes);
    std::string msg = error_of([&] { load_image(path); });
    CHECK(msg.rfind("cannot decode '" + path + "': ", 0) == 0);
    CHECK(msg.find(c.expect) != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
  // Within the pixel limit but bigger than max_pixels passed by the caller.
  write_raw(dir.file("limit.npy"), npy_file("{'descr': '<f4', " + ok + "'shape': (4, 4), }", 64));
  CHECK(load_image(dir.file("limit.npy"), 16).pixels.size() == 16);
  CHECK(error_of([&] { load_image(dir.file("limit.npy"), 15); }).find("limit") !=
        std::string::npos);
  // A .npy name without the magic.
  write_raw(dir.file("fake.npy"), std::string("hello world, not numpy"));
  CHECK(error_of([&] { load_image(dir.file("fake.npy")); }).find("bad magic") != std::string::npos);
}

TEST_CASE("image_io: JPEG round trips approximately") {
  TempDir dir;
  // Gray stays gray.
  for (int c : {1, 3}) {
    CAPTURE(c);
    Image img = make_gradient(40, 24, c);
    std::string path = dir.file("j" + std::to_string(c) + ".jpg");
    save_image(path, img, false);
    Image back = load_image(path);
    REQUIRE(back.width == 40);
    REQUIRE(back.height == 24);
    REQUIRE(back.channels == c);
    CHECK(back.bits == 8);
    double err = 0;
    for (size_t i = 0; i < img.pixels.size(); ++i) err += std::fabs(img.pixels[i] - back.pixels[i]);
    err /= double(img.pixels.size());
    CHECK(err < 0.01);
  }
  // .jpeg and upper-case extensions work too.
  save_image(dir.file("x.JPEG"), make_gradient(8, 8, 3), false);
  CHECK(load_image(dir.file("x.JPEG")).channels == 3);
}

TEST_CASE("image_io: whether the file stored its chroma subsampled (for the noise estimate)") {
  // xunit's JPEG encoder subsamples chroma below quality 90 (4:2:0) and not from 90; lossy WebP
  // is always 4:2:0, lossless WebP and the other formats full resolution.
  TempDir dir;
  const Image rgb = make_gradient(40, 24, 3), gray = make_gradient(40, 24, 1);
  auto stored = [&](const Image &img, const std::string &name, int quality) {
    xunit::cli::SaveOptions opts;
    opts.quality = quality;
    save_image(dir.file(name), img, false, opts);
    return load_image(dir.file(name)).chroma_subsampled;
  };
  CHECK(stored(rgb, "q85.jpg", 85));
  CHECK_FALSE(stored(rgb, "q95.jpg", 95));
  CHECK_FALSE(stored(gray, "gray.jpg", 85));  // one component: no chroma
  CHECK(stored(rgb, "lossy.webp", 80));
  CHECK(stored(make_gradient(40, 24, 4), "lossy_alpha.webp", 80));
  // A gray image as lossy WebP: read back as gray (no chroma) only when every pixel kept
  // R = G = B; otherwise it is RGB from a 4:2:0 file.
  const bool gray_flag = stored(gray, "gray_lossy.webp", 80);
  CHECK(gray_flag == (load_image(dir.file("gray_lossy.webp")).channels == 3));
  CHECK_FALSE(stored(rgb, "lossless.webp", 0));
  CHECK_FALSE(stored(rgb, "rgb.png", 0));
  CHECK_FALSE(stored(rgb, "rgb.tif", 0));
  // The noise added by --add-noise is in every channel at full resolution.
  Image noisy = load_image(dir.file("q85.jpg"));
  xunit::cli::add_gaussian_noise(noisy, 5.f, 1, "q85.jpg");
  CHECK_FALSE(noisy.chroma_subsampled);
}

TEST_CASE("image_io: BMP and TGA round trip exactly for RGB (and TGA gray/RGBA)") {
  TempDir dir;
  for (const char *ext : {"bmp", "tga"}) {
    CAPTURE(ext);
    Image img = make_image(13, 9, 3, 8, 5);
    std::string path = dir.file(std::string("rgb.") + ext);
    save_image(path, img, false);
    Image back = load_image(path);
    CHECK(back.bits == 8);
    check_same(img, back);
  }
  Image rgba = make_image(7, 5, 4, 8, 4);  // stb writes 32-bit BMP with a V4 header
  save_image(dir.file("rgba.bmp"), rgba, false);
  check_same(rgba, load_image(dir.file("rgba.bmp")));
  for (int c : {1, 4}) {
    CAPTURE(c);
    Image img = make_image(6, 4, c, 8, 6);
    std::string path = dir.file("t" + std::to_string(c) + ".tga");
    save_image(path, img, false);
    check_same(img, load_image(path));
  }
}

TEST_CASE("image_io: gray+alpha to JPEG/BMP drops the alpha") {
  TempDir dir;
  Image img = make_image(4, 3, 2, 8, 8);
  save_image(dir.file("ga.bmp"), img, false);
  Image bmp = load_image(dir.file("ga.bmp"));
  REQUIRE(bmp.channels == 3);
  for (size_t p = 0; p < 12; ++p)
    for (int k = 0; k < 3; ++k) CHECK(bmp.pixels[p * 3 + k] == img.pixels[p * 2]);
  save_image(dir.file("ga.jpg"), img, false);
  Image jpg = load_image(dir.file("ga.jpg"));
  CHECK(jpg.width == 4);
  CHECK(jpg.height == 3);
}

TEST_CASE("image_io: edge sizes 1x1, 1xN, Nx1") {
  TempDir dir;
  int n = 0;
  for (auto [w, h] : {std::pair{1, 1}, std::pair{1, 17}, std::pair{23, 1}}) {
    for (const char *ext : {"png", "bmp", "tga", "npy"}) {
      for (int bits : {8, 16}) {
        if (bits == 16 && std::string(ext) != "png") continue;
        CAPTURE(w);
        CAPTURE(h);
        CAPTURE(ext);
        CAPTURE(bits);
        Image img = make_image(w, h, 3, bits, uint32_t(w * 31 + h));
        std::string path = dir.file("e" + std::to_string(n++) + "." + ext);
        save_image(path, img, false);
        check_same(img, load_image(path));
      }
    }
    Image img = make_gradient(w, h, 3);
    std::string path = dir.file("e" + std::to_string(n++) + ".jpg");
    save_image(path, img, false);
    Image back = load_image(path);
    CHECK(back.width == w);
    CHECK(back.height == h);
  }
}

TEST_CASE("image_io: values are clamped to [0,1] and rounded for integer formats") {
  TempDir dir;
  Image img;
  img.width = 6;
  img.height = 1;
  img.channels = 1;
  img.pixels = {-0.5f,         1.5f,          std::numeric_limits<float>::quiet_NaN(),
                0.4f / 255.0f, 0.6f / 255.0f, 100.49f / 255.0f};
  save_image(dir.file("c.png"), img, false);
  Image back = load_image(dir.file("c.png"));
  std::vector<float> want = {0.0f, 1.0f, 0.0f, 0.0f, 1.0f / 255.0f, 100.0f / 255.0f};
  CHECK(back.pixels == want);

  img.bits = 16;
  img.pixels[3] = 0.4f / 65535.0f;
  img.pixels[4] = 0.6f / 65535.0f;
  img.pixels[5] = 1000.4f / 65535.0f;
  save_image(dir.file("c16.png"), img, false);
  Image back16 = load_image(dir.file("c16.png"));
  CHECK(back16.pixels ==
        std::vector<float>{0.0f, 1.0f, 0.0f, 0.0f, 1.0f / 65535.0f, 1000.0f / 65535.0f});
}

TEST_CASE("image_io: existing files are replaced only with overwrite=true") {
  TempDir dir;
  const std::string path = dir.file("keep.png");
  write_raw(path, std::string("original bytes"));
  Image img = make_image(3, 3, 3, 8);
  std::string msg = error_of([&] { save_image(path, img, false); });
  CHECK(msg.find(path) != std::string::npos);
  std::vector<uint8_t> after = xunit::read_file(path);
  CHECK(std::string(after.begin(), after.end()) == "original bytes");
  CHECK(dir.entries() == std::set<std::string>{"keep.png"});

  save_image(path, img, true);
  check_same(img, load_image(path));
  CHECK(dir.entries() == std::set<std::string>{"keep.png"});
}

TEST_CASE("image_io: failed writes leave no file behind") {
  TempDir dir;
  Image img = make_image(3, 3, 3, 8);
  // Missing folder.
  std::string msg = error_of([&] { save_image(dir.file("missing/out.png"), img, false); });
  CHECK(msg.find("missing") != std::string::npos);
  // Invalid images and unencodable channel counts.
  Image empty;
  CHECK_THROWS_AS(save_image(dir.file("empty.png"), empty, false), xunit::Error);
  CHECK_THROWS_AS(save_image(dir.file("empty.npy"), empty, false), xunit::Error);
  Image zero_w = img;
  zero_w.width = 0;
  CHECK_THROWS_AS(save_image(dir.file("zw.png"), zero_w, false), xunit::Error);
  Image negative = img;
  negative.width = -3;
  negative.height = -3;
  CHECK_THROWS_AS(save_image(dir.file("neg.npy"), negative, false), xunit::Error);
  Image mismatch = img;
  mismatch.pixels.pop_back();
  msg = error_of([&] { save_image(dir.file("mm.png"), mismatch, false); });
  CHECK(msg.find("cannot write '" + dir.file("mm.png") + "'") == 0);
  CHECK(msg.find("expected 27") != std::string::npos);
  Image five = make_image(2, 2, 5, 8);
  CHECK_THROWS_AS(save_image(dir.file("five.png"), five, false), xunit::Error);
  CHECK_THROWS_AS(save_image(dir.file("five.jpg"), five, false), xunit::Error);
  save_image(dir.file("five.npy"), five, false);  // any channel count for .npy
  CHECK(load_image(dir.file("five.npy")).channels == 5);
  CHECK(dir.entries() == std::set<std::string>{"five.npy"});
}

TEST_CASE("image_io: unknown extensions are refused with the supported list") {
  TempDir dir;
  Image img = make_image(2, 2, 3, 8);
  for (const char *name : {"out.gif", "out", "out.png.txt", ".png"}) {
    CAPTURE(name);
    std::string msg = error_of([&] { save_image(dir.file(name), img, false); });
    CHECK(msg.find(dir.file(name)) != std::string::npos);
    CHECK(msg.find(".png .jpg .jpeg .webp .tif .tiff .bmp .tga .npy") != std::string::npos);
  }
  CHECK(dir.entries().empty());
  using xunit::cli::is_supported_input;
  using xunit::cli::is_supported_output;
  for (const char *ok : {"a.png", "a.PNG", "dir.x/a.jpg", "a.jpeg", "a.webp", "a.tif", "a.TIFF",
                         "a.bmp", "a.tga", "a.npy"}) {
    CHECK(is_supported_output(ok));
    CHECK(is_supported_input(ok));
  }
  for (const char *bad : {"a.gif", "a", "a.", "dir.png/a", ".png", "a.heic"}) {
    CHECK_FALSE(is_supported_output(bad));
    CHECK_FALSE(is_supported_input(bad));
  }
}

TEST_CASE("image_io: truncated and corrupt images are refused with the file named") {
  TempDir dir;
  Image img = make_image(40, 30, 3, 8, 3);
  save_image(dir.file("full.png"), img, false);
  std::vector<uint8_t> full = xunit::read_file(dir.file("full.png"));
  for (size_t keep : {size_t(4), size_t(8), size_t(20), size_t(40), full.size() / 2}) {
    CAPTURE(keep);
    std::string path = dir.file("trunc" + std::to_string(keep) + ".png");
    write_raw(path, std::vector<uint8_t>(full.begin(), full.begin() + long(keep)));
    std::string msg = error_of([&] { load_image(path); });
    CHECK(msg.rfind("cannot decode '" + path + "': ", 0) == 0);
    CHECK(msg.find('\n') == std::string::npos);
  }
  // Missing IEND and the last chunk.
  write_raw(dir.file("noend.png"), std::vector<uint8_t>(full.begin(), full.end() - 12));
  CHECK(error_of([&] { load_image(dir.file("noend.png")); }).find("': ") != std::string::npos);
  // BMP and uncompressed TGA, where stb would read zeros past the end, are checked by size.
  for (const char *ext : {"bmp", "tga"}) {
    CAPTURE(ext);
    save_image(dir.file(std::string("full.") + ext), img, false);
    std::vector<uint8_t> bytes = xunit::read_file(dir.file(std::string("full.") + ext));
    if (std::string(ext) == "tga") {
      // stb writes RLE TGA; make an uncompressed one by hand (type 2, 24-bit BGR, bottom-up).
      bytes.assign(18, 0);
      bytes[2] = 2;
      bytes[12] = 40;
      bytes[14] = 30;
      bytes[16] = 24;
      bytes.resize(18 + 40 * 30 * 3, 7);
      write_raw(dir.file("full.tga"), bytes);
      Image t = load_image(dir.file("full.tga"));
      CHECK(t.width == 40);
      CHECK(t.pixels[0] == 7.0f / 255.0f);
    }
    std::string path = dir.file(std::string("cut.") + ext);
    write_raw(path, std::vector<uint8_t>(bytes.begin(), bytes.end() - 5));
    std::string cut = error_of([&] { load_image(path); });
    CHECK(cut.find("cannot decode '" + path + "': truncated ") == 0);
  }
  // libpng's reason is passed on.
  std::vector<uint8_t> bad_ihdr = png_header_only(4, 4);
  bad_ihdr[12] = 'X';  // first chunk is no longer IHDR
  write_raw(dir.file("bad.png"), bad_ihdr);
  std::string msg = error_of([&] { load_image(dir.file("bad.png")); });
  CHECK(msg.rfind("cannot decode '" + dir.file("bad.png") + "': corrupt or truncated PNG data (",
                  0) == 0);
  std::vector<uint8_t> bad_sig = full;
  bad_sig[7] = 0;
  write_raw(dir.file("badsig.png"), bad_sig);
  CHECK(error_of([&] { load_image(dir.file("badsig.png")); }).find("unrecognized image format") !=
        std::string::npos);

  write_raw(dir.file("text.png"), std::string("this is not an image at all"));
  CHECK(error_of([&] { load_image(dir.file("text.png")); }).find("unrecognized image format") !=
        std::string::npos);
  write_raw(dir.file("anim.gif"), std::string("GIF89a\x01\x00\x01\x00\x00\x00\x00;", 14));
  CHECK(error_of([&] { load_image(dir.file("anim.gif")); }).find("unrecognized") !=
        std::string::npos);
  CHECK(error_of([&] { load_image(dir.file("no_such_file.png")); }).find("no_such_file.png") !=
        std::string::npos);
}

TEST_CASE("image_io: empty files are refused") {
  TempDir dir;
  for (const char *name : {"e.png", "e.npy", "e.jpg", "e"}) {
    CAPTURE(name);
    write_raw(dir.file(name), std::string());
    std::string msg = error_of([&] { load_image(dir.file(name)); });
    CHECK(msg == "cannot decode '" + dir.file(name) + "': empty file");
  }
}

TEST_CASE("image_io: the pixel limit is checked before decoding") {
  TempDir dir;
  // Only a header claiming 17000 x 17000 gray (within stb's own 1 GiB check, over 2^28 pixels):
  // refused by the limit, not by a decode failure.
  write_raw(dir.file("huge.png"), png_header_only(17000, 17000));
  std::string msg = error_of([&] { load_image(dir.file("huge.png")); });
  CHECK(msg == "cannot decode '" + dir.file("huge.png") +
                   "': image 17000x17000 exceeds the limit of 268435456 pixels (see --max-pixels)");
  // A caller's smaller limit applies to the header too.
  write_raw(dir.file("mid.png"), png_header_only(3000, 3000, 2));
  CHECK(error_of([&] { load_image(dir.file("mid.png"), 1000000); }).find("3000x3000 exceeds") !=
        std::string::npos);
  // Headers stb itself finds absurd are refused by the limit too, before stb sees them.
  write_raw(dir.file("absurd.png"), png_header_only(100000, 100000, 2));
  CHECK(error_of([&] {
          load_image(dir.file("absurd.png"));
        }).find("100000x100000 exceeds the limit") != std::string::npos);

  Image img = make_image(5, 4, 3, 8);
  save_image(dir.file("small.png"), img, false);
  CHECK(load_image(dir.file("small.png"), 20).width == 5);
  CHECK(error_of([&] { load_image(dir.file("small.png"), 19); }).find("exceeds the limit") !=
        std::string::npos);
  save_image(dir.file("small.bmp"), img, false);
  CHECK(error_of([&] { load_image(dir.file("small.bmp"), 19); }).find("exceeds the limit") !=
        std::string::npos);
}

// ---- Photos: orientation, metadata, layouts of JPEG, PNG, WebP and TIFF (libjpeg-turbo,
// libpng, libwebp, libtiff, libexif) ----

namespace {

using xunit::testing::exif_tag;
using xunit::testing::make_exif;
using xunit::testing::make_icc;

constexpr uint16_t kOrientation = 0x0112, kPixelX = 0xa002, kPixelY = 0xa003;

// A gray 24x16 image of six flat 8x8 blocks (exact enough through JPEG): block (bx, by) has the
// level 20 + 45 * (3 * by + bx).
Image gray_blocks() {
  Image img;
  img.width = 24;
  img.height = 16;
  img.channels = 1;
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 24; ++x) img.pixels.push_back(float(20 + 45 * (3 * (y / 8) + x / 8)) / 255);
  return img;
}

std::string error_line(const std::string &path) {
  std::string msg = error_of([&] { load_image(path); });
  CHECK(msg.find('\n') == std::string::npos);
  CHECK(msg.rfind("cannot decode '" + path + "': ", 0) == 0);
  return msg;
}

}  // namespace

TEST_CASE("image_io: EXIF orientations 1 to 8 are applied on load and rewritten as 1") {
  TempDir dir;
  save_image(dir.file("plain.jpg"), gray_blocks(), false);
  const std::vector<uint8_t> plain = xunit::read_file(dir.file("plain.jpg"));
  // Where a viewer shows the stored first row's first and last pixels (EXIF 2.3, Orientation:
  // "the 0th row is the visual top / right / bottom / left, the 0th column ...").
  struct Corner {
    bool right, bottom;
  };
  const Corner first[9] = {{}, {0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}, {1, 0}, {1, 1}, {0, 1}};
  const Corner last[9] = {{}, {1, 0}, {0, 0}, {0, 1}, {1, 1}, {0, 1}, {1, 1}, {1, 0}, {0, 0}};
  for (int o = 1; o <= 8; ++o) {
    CAPTURE(o);
    const std::string path = dir.file("o" + std::to_string(o) + ".jpg");
    write_raw(path, xunit::testing::with_exif_segment(plain, make_exif(o, 24, 16)));
    const Image img = load_image(path);
    CHECK(img.channels == 1);
    CHECK(img.width == (o >= 5 ? 16 : 24));
    CHECK(img.height == (o >= 5 ? 24 : 16));
    const auto at = [&](Corner c) {
      return img.pixels[size_t(c.bottom ? img.height - 1 : 0) * size_t(img.width) +
                        size_t(c.right ? img.width - 1 : 0)];
    };
    CHECK(std::fabs(at(first[o]) * 255 - 20) < 4);
    CHECK(std::fabs(at(last[o]) * 255 - 110) < 4);
    CHECK(exif_tag(img.exif, 0, kOrientation) == 1);
    CHECK(exif_tag(img.exif, 1, kPixelX) == img.width);
    CHECK(exif_tag(img.exif, 1, kPixelY) == img.height);
  }
}

TEST_CASE("image_io: ICC and EXIF are carried by JPEG, PNG and WebP; TIFF carries the ICC") {
  TempDir dir;
  Image img = make_gradient(20, 12, 3);
  img.icc = make_icc(300, false);
  img.exif = make_exif(1, 999, 999);  // dimensions that lie: made true on writing
  for (const char *ext : {"jpg", "png", "webp", "tif"}) {
    CAPTURE(ext);
    const std::string path = dir.file(std::string("m.") + ext);
    save_image(path, img, false);
    const Image back = load_image(path);
    CHECK(back.icc == img.icc);
    if (std::string(ext) == "tif") {
      CHECK(back.exif.empty());  // see README: EXIF in TIFF is not carried
      continue;
    }
    CHECK(exif_tag(back.exif, 0, kOrientation) == 1);
    CHECK(exif_tag(back.exif, 1, kPixelX) == 20);
    CHECK(exif_tag(back.exif, 1, kPixelY) == 12);
  }
  // A profile larger than a JPEG segment is split over several APP2 segments and joined back.
  img.icc = make_icc(150000, false);
  save_image(dir.file("big_icc.jpg"), img, false);
  const std::vector<uint8_t> bytes = xunit::read_file(dir.file("big_icc.jpg"));
  int segments = 0;
  for (size_t i = 0; i + 12 < bytes.size(); ++i)
    segments += std::memcmp(&bytes[i], "ICC_PROFILE", 12) == 0;
  CHECK(segments == 3);
  CHECK(load_image(dir.file("big_icc.jpg")).icc == img.icc);
  // A gray PNG keeps a gray profile.
  Image gray = make_image(9, 7, 1, 16, 3);
  gray.icc = make_icc(200, true);
  save_image(dir.file("g.png"), gray, false);
  CHECK(load_image(dir.file("g.png")).icc == gray.icc);
}

TEST_CASE("image_io: gray stays gray and alpha stays alpha in PNG, TIFF, WebP; JPEG drops alpha") {
  TempDir dir;
  for (const char *ext : {"png", "tif"})
    for (int bits : {8, 16})
      for (int c = 1; c <= 4; ++c) {
        CAPTURE(ext);
        CAPTURE(bits);
        CAPTURE(c);
        const Image img = make_image(13, 6, c, bits, uint32_t(c * bits));
        const std::string path =
            dir.file("l" + std::to_string(bits) + std::to_string(c) + "." + ext);
        save_image(path, img, false);
        const Image back = load_image(path);
        CHECK(back.bits == bits);
        check_same(img, back);
      }
  for (int c = 1; c <= 4; ++c) {  // lossless WebP (the default); gray as R = G = B, read as gray
    CAPTURE(c);
    const Image img = make_image(13, 6, c, 8, uint32_t(c));
    const std::string path = dir.file("w" + std::to_string(c) + ".webp");
    save_image(path, img, false);
    check_same(img, load_image(path));
  }
  for (int c = 1; c <= 4; ++c) {
    CAPTURE(c);
    save_image(dir.file("j" + std::to_string(c) + ".jpg"), make_gradient(16, 8, c), false);
    CHECK(load_image(dir.file("j" + std::to_string(c) + ".jpg")).channels == (c <= 2 ? 1 : 3));
  }
}

TEST_CASE("image_io: --quality: lossy WebP and JPEG get smaller and stay close") {
  TempDir dir;
  const Image img = make_gradient(64, 48, 3);
  xunit::cli::SaveOptions lossy;
  lossy.quality = 50;
  for (const char *ext : {"webp", "jpg"}) {
    CAPTURE(ext);
    const std::string best = dir.file(std::string("best.") + ext);
    const std::string small = dir.file(std::string("small.") + ext);
    save_image(best, img, false);
    save_image(small, img, false, lossy);
    CHECK(xunit::read_file(small).size() < xunit::read_file(best).size());
    const Image back = load_image(small);
    double err = 0;
    for (size_t i = 0; i < img.pixels.size(); ++i) err += std::fabs(img.pixels[i] - back.pixels[i]);
    CHECK(err / double(img.pixels.size()) < 0.03);
  }
  lossy.quality = 101;
  CHECK(error_of([&] {
          save_image(dir.file("q.jpg"), img, false, lossy);
        }).find("quality must be in [1, 100]") != std::string::npos);
}

namespace {

// A TIFF written by libtiff itself, for layouts xunit does not write.
void write_tiff(const std::string &path, uint32_t w, uint32_t h, uint16_t spp, uint16_t bits,
                uint16_t photometric, uint16_t planar, uint16_t format, uint32_t tile,
                uint16_t orientation = ORIENTATION_TOPLEFT) {
  TIFF *t = TIFFOpen(path.c_str(), "w");
  REQUIRE(t != nullptr);
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, spp);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bits);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, photometric);
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, planar);
  TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, format);
  TIFFSetField(t, TIFFTAG_ORIENTATION, orientation);
  const size_t pixel = size_t(spp) * bits / 8, row = (size_t(w) * spp * bits + 7) / 8;
  std::vector<uint8_t> data(row * h);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 13);
  if (tile) {
    TIFFSetField(t, TIFFTAG_TILEWIDTH, tile);
    TIFFSetField(t, TIFFTAG_TILELENGTH, tile);
    std::vector<uint8_t> buf(size_t(tile) * tile * pixel);
    for (uint32_t y0 = 0; y0 < h; y0 += tile)
      for (uint32_t x0 = 0; x0 < w; x0 += tile) {
        std::fill(buf.begin(), buf.end(), 0);
        for (uint32_t y = y0; y < std::min(h, y0 + tile); ++y)
          for (uint32_t x = x0; x < std::min(w, x0 + tile); ++x)
            std::memcpy(&buf[(size_t(y - y0) * tile + (x - x0)) * pixel],
                        &data[(size_t(y) * w + x) * pixel], pixel);
        REQUIRE(TIFFWriteTile(t, buf.data(), x0, y0, 0, 0) >= 0);
      }
  } else {
    for (uint32_t y = 0; y < h; ++y)
      REQUIRE(TIFFWriteScanline(t, &data[size_t(y) * row], y, 0) >= 0);
  }
  TIFFClose(t);
}

}  // namespace

TEST_CASE("image_io: TIFF tiles, min-is-white, the Orientation tag read; other layouts refused") {
  TempDir dir;
  // 16-bit RGB in 16x16 tiles over a 37x21 image: the same samples as in strips.
  write_tiff(dir.file("tiled.tif"), 37, 21, 3, 16, PHOTOMETRIC_RGB, PLANARCONFIG_CONTIG,
             SAMPLEFORMAT_UINT, 16);
  write_tiff(dir.file("strips.tif"), 37, 21, 3, 16, PHOTOMETRIC_RGB, PLANARCONFIG_CONTIG,
             SAMPLEFORMAT_UINT, 0);
  const Image tiled = load_image(dir.file("tiled.tif"));
  CHECK(tiled.bits == 16);
  check_same(tiled, load_image(dir.file("strips.tif")));
  write_tiff(dir.file("white.tif"), 5, 3, 1, 8, PHOTOMETRIC_MINISWHITE, PLANARCONFIG_CONTIG,
             SAMPLEFORMAT_UINT, 0);
  const Image white = load_image(dir.file("white.tif"));
  CHECK(white.pixels[1] == 1.f - 13.f / 255.f);
  // Orientation 6 (0th row at the right): 5x3 stored, 3x5 shown, stored (0, 0) top right.
  write_tiff(dir.file("turned.tif"), 5, 3, 1, 8, PHOTOMETRIC_MINISBLACK, PLANARCONFIG_CONTIG,
             SAMPLEFORMAT_UINT, 0, ORIENTATION_RIGHTTOP);
  const Image turned = load_image(dir.file("turned.tif"));
  CHECK(turned.width == 3);
  CHECK(turned.height == 5);
  CHECK(turned.pixels[2] == 0.f);
  CHECK(turned.pixels[0] == float(uint8_t(13 * 10)) / 255.f);  // stored (0, 2)
  const struct {
    const char *name;
    uint16_t spp, bits, photometric, planar, format;
    const char *expected;
  } refused[] = {
      {"float.tif", 1, 32, PHOTOMETRIC_MINISBLACK, PLANARCONFIG_CONTIG, SAMPLEFORMAT_IEEEFP,
       "32-bit samples is not supported"},
      {"planar.tif", 3, 8, PHOTOMETRIC_RGB, PLANARCONFIG_SEPARATE, SAMPLEFORMAT_UINT,
       "planar TIFF"},
      {"cmyk.tif", 4, 8, PHOTOMETRIC_SEPARATED, PLANARCONFIG_CONTIG, SAMPLEFORMAT_UINT,
       "photometric interpretation 5"},
      {"bilevel.tif", 1, 1, PHOTOMETRIC_MINISBLACK, PLANARCONFIG_CONTIG, SAMPLEFORMAT_UINT,
       "1-bit samples is not supported"},
  };
  for (const auto &r : refused) {
    CAPTURE(r.name);
    write_tiff(dir.file(r.name), 8, 8, r.spp, r.bits, r.photometric, r.planar, r.format, 0);
    CHECK(error_line(dir.file(r.name)).find(r.expected) != std::string::npos);
  }
}

TEST_CASE("image_io: truncated and corrupt JPEG, PNG, WebP and TIFF files give one line") {
  TempDir dir;
  const Image img = make_gradient(40, 30, 3);
  const std::pair<std::string, const char *> formats[] = {
      {"jpg", "JPEG"}, {"png", "PNG"}, {"webp", "WebP"}, {"tif", "TIFF"}};
  for (const auto &[ext, fmt] : formats) {
    CAPTURE(fmt);
    save_image(dir.file("full." + ext), img, false);
    const std::vector<uint8_t> full = xunit::read_file(dir.file("full." + ext));
    for (size_t keep : {size_t(12), full.size() / 2, full.size() - 2}) {
      CAPTURE(keep);
      const std::string path = dir.file("cut" + std::to_string(keep) + "." + ext);
      write_raw(path, std::vector<uint8_t>(full.begin(), full.begin() + long(keep)));
      CHECK(error_line(path).find(std::string("corrupt or truncated ") + fmt + " data (") !=
            std::string::npos);
    }
    std::vector<uint8_t> noise = full;  // the magic intact, the rest noise
    Lcg rng(7);
    for (size_t i = 16; i < noise.size(); ++i) noise[i] = uint8_t(rng.next());
    write_raw(dir.file("noise." + ext), noise);
    error_line(dir.file("noise." + ext));
  }
}

TEST_CASE("image_io: the EXIF orientation of PNG (eXIf) and WebP (EXIF chunk) is applied too") {
  TempDir dir;
  const std::vector<uint8_t> exif = make_exif(6, 24, 16);
  // PNG: an eXIf chunk before the first IDAT.
  save_image(dir.file("plain.png"), gray_blocks(), false);
  std::vector<uint8_t> png = xunit::read_file(dir.file("plain.png"));
  const size_t idat =
      size_t(std::search(png.begin(), png.end(), std::begin("IDAT"), std::end("IDAT") - 1) -
             png.begin()) -
      4;
  std::vector<uint8_t> chunk;
  be32(chunk, uint32_t(exif.size()));
  chunk.insert(chunk.end(), {'e', 'X', 'I', 'f'});
  chunk.insert(chunk.end(), exif.begin(), exif.end());
  be32(chunk, uint32_t(crc32(0, chunk.data() + 4, uInt(chunk.size() - 4))));
  png.insert(png.begin() + long(idat), chunk.begin(), chunk.end());
  write_raw(dir.file("turned.png"), png);
  // WebP: the EXIF chunk added with libwebpmux.
  save_image(dir.file("plain.webp"), gray_blocks(), false);
  const std::vector<uint8_t> webp = xunit::read_file(dir.file("plain.webp"));
  const WebPData image{webp.data(), webp.size()}, exif_data{exif.data(), exif.size()};
  WebPMux *mux = WebPMuxCreate(&image, 1);
  REQUIRE(mux != nullptr);
  WebPData assembled;
  WebPDataInit(&assembled);
  REQUIRE(WebPMuxSetChunk(mux, "EXIF", &exif_data, 1) == WEBP_MUX_OK);
  REQUIRE(WebPMuxAssemble(mux, &assembled) == WEBP_MUX_OK);
  write_raw(dir.file("turned.webp"),
            std::vector<uint8_t>(assembled.bytes, assembled.bytes + assembled.size));
  WebPDataClear(&assembled);
  WebPMuxDelete(mux);
  for (const char *name : {"turned.png", "turned.webp"}) {
    CAPTURE(name);
    const Image img = load_image(dir.file(name));
    CHECK(img.width == 16);
    CHECK(img.height == 24);
    CHECK(std::lround(img.pixels[15] * 255) == 20);  // stored (0, 0) at the top right
    CHECK(std::lround(img.pixels[23 * 16 + 15] * 255) ==
          20 + 45 * 2);  // stored (23, 0) at the bottom right
    CHECK(exif_tag(img.exif, 0, kOrientation) == 1);
  }
}
