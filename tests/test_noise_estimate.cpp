// xunit_estimate_noise_level: Gaussian noise of known sigma, added to a synthetic scene and to a
// real photograph then clipped and rounded as a saved file is, read back within a tolerance;
// clean images read about 0; the pixel types, strides and alpha agree; degenerate images give a
// defined result; bad arguments are refused. (The calibration on the public test sets is
// bench/noise_estimate_eval.py.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/image_io.h"
#include "cli/synthetic_image.h"
#include "temp_dir.h"
#include "test_paths.h"
#include "xunit/xunit.h"

namespace {

// An image in 8-bit levels (double, interleaved), before rounding.
struct Levels {
  int w = 0, h = 0, c = 0;
  std::vector<double> v;
};

// Smooth shading (what most of a photo is), sharp-edged tiles, and a quarter of fine texture
// (a pattern of a few pixels' period, which the band sees but which is no noise).
Levels scene(int w, int h, int c) {
  Levels s{w, h, c, std::vector<double>(size_t(w) * h * c)};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) {
        double v = 40 + 150.0 * x / w + 25 * std::sin(y / 19.0) + 12 * k;
        if (x > w / 2 && y > h / 2) v += 12 * std::sin(x * 0.9) * std::sin(y * 0.7);
        if ((x / 40 + y / 40) % 3 == 0) v = 0.6 * v + 60;
        s.v[(size_t(y) * w + x) * c + k] = v;
      }
  return s;
}

// The saved-file protocol: round(clip(x + sigma * N(0, 1), 0, 255)).
std::vector<uint8_t> saved(const Levels &s, double sigma, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  std::vector<uint8_t> out(s.v.size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = uint8_t(std::clamp(std::round(s.v[i] + sigma * n(rng)), 0.0, 255.0));
  return out;
}

float estimate(const void *data, int w, int h, int c, int32_t type, size_t stride = 0) {
  const size_t size = type == XUNIT_PIXEL_U8 ? 1 : type == XUNIT_PIXEL_U16 ? 2 : 4;
  xunit_image img{w, h, c, type, stride ? stride : size_t(w) * c * size, const_cast<void *>(data)};
  float sigma = -1.f;
  REQUIRE_MESSAGE(xunit_estimate_noise_level(&img, &sigma) == XUNIT_OK, xunit_last_error());
  return sigma;
}
float estimate(const std::vector<uint8_t> &p, int w, int h, int c) {
  return estimate(p.data(), w, h, c, XUNIT_PIXEL_U8);
}

// The clean panel of the README's figure (docs/images/denoise.jpg, a JPEG at quality 92 made
// by scripts/make_figures.py): a 300x300 crop of Kodak image 23, feathers, beak and an eye.
Levels photo() {
  const xunit::cli::Image fig =
      xunit::cli::load_image(xunit::testing::fixtures_dir() + "../../docs/images/denoise.jpg");
  REQUIRE(fig.width >= 310);
  REQUIRE(fig.height >= 334);
  Levels s{300, 300, 3, std::vector<double>(300 * 300 * 3)};
  for (int y = 0; y < 300; ++y)
    for (int x = 0; x < 300; ++x)
      for (int k = 0; k < 3; ++k)
        s.v[(size_t(y) * 300 + x) * 3 + k] =
            std::round(255.0 * fig.pixels[(size_t(y + 34) * fig.width + x + 10) * 3 + k]);
  return s;
}

}  // namespace

TEST_CASE("noise estimate: Gaussian noise on a synthetic scene, saved to 8 bits") {
  const Levels s = scene(256, 192, 3);
  // The floor (engine/noise_estimate.cpp) takes the fine grain of clean photos off, which this
  // scene has not: its low sigmas read a little low (2 reads ~1.8).
  for (double sigma : {2.0, 5.0, 10.0, 15.0, 25.0, 35.0, 50.0}) {
    const float e = estimate(saved(s, sigma, uint64_t(sigma * 10)), 256, 192, 3);
    INFO("sigma " << sigma << " read " << e);
    CHECK(std::abs(e - sigma) <= 0.5 + 0.04 * sigma);
  }
  const Levels g = scene(256, 192, 1);
  for (double sigma : {5.0, 25.0}) {
    const float e = estimate(saved(g, sigma, 7), 256, 192, 1);
    INFO("gray, sigma " << sigma << " read " << e);
    CHECK(std::abs(e - sigma) <= 0.5 + 0.04 * sigma);
  }
}

TEST_CASE("noise estimate: a noisy white or black page (every block about half clipped)") {
  // Before, blocks more than a quarter clipped were all left out and such a page read 0: the
  // conditioned denoiser then left it grey and mottled (mean 245, std 8 at sigma 25).
  for (double level : {255.0, 0.0, 250.0})
    for (int c : {1, 3})
      for (double sigma : {5.0, 10.0, 25.0, 50.0}) {
        const Levels page{256, 192, c, std::vector<double>(size_t(256) * 192 * c, level)};
        const float e = estimate(saved(page, sigma, uint64_t(sigma + level)), 256, 192, c);
        INFO("page of " << level << ", " << c << " channel(s), sigma " << sigma << " read " << e);
        CHECK(std::abs(e - sigma) <= 0.5 + 0.1 * sigma);
      }
  // A clean one reads 0.
  const Levels white{64, 64, 3, std::vector<double>(size_t(64) * 64 * 3, 255.0)};
  CHECK(estimate(saved(white, 0, 1), 64, 64, 3) == 0.f);
}

TEST_CASE("noise estimate: clean images read about 0, texture and edges included") {
  CHECK(estimate(saved(scene(256, 192, 3), 0, 0), 256, 192, 3) <= 0.5f);
  // Hard edges, a checkerboard of 4-pixel squares and stripes up to 2 pixels' period.
  const xunit::cli::Image synth = xunit::cli::synthetic_scene(320, 240);
  std::vector<uint8_t> p(synth.pixels.size());
  for (size_t i = 0; i < p.size(); ++i) p[i] = uint8_t(std::lround(synth.pixels[i] * 255));
  CHECK(estimate(p, 320, 240, 3) <= 1.5f);
}

// Texture over the whole frame, the same in R, G and B but for their tints (what a photo of
// grass or gravel is): no flat block anywhere, pixel-scale detail of a few levels.
Levels texture(int w, int h) {
  std::mt19937_64 rng(21);
  std::normal_distribution<double> n(0.0, 1.0);
  std::vector<double> t(size_t(w) * h);
  for (double &v : t) v = n(rng);
  Levels s{w, h, 3, std::vector<double>(size_t(w) * h * 3)};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      // Random grains two pixels wide (a 2x2 box of white noise), 20 levels strong.
      double v = 0;
      for (int dy = 0; dy <= 1; ++dy)
        for (int dx = 0; dx <= 1; ++dx)
          v += t[size_t(std::min(y + dy, h - 1)) * w + std::min(x + dx, w - 1)];
      for (int k = 0; k < 3; ++k)
        s.v[(size_t(y) * w + x) * 3 + k] = (90 + 30 * k) + (1.0 - 0.15 * k) * 20 * v / 2;
    }
  return s;
}

TEST_CASE("noise estimate: texture over the whole frame does not read as noise") {
  const Levels s = texture(240, 180);
  // The channels alone read the texture as a few levels of noise; the chroma, which it hardly
  // reaches, says it is not.
  const std::vector<uint8_t> clean = saved(s, 0, 0);
  std::vector<uint8_t> green(clean.size() / 3);
  for (size_t i = 0; i < green.size(); ++i) green[i] = clean[i * 3 + 1];
  const float alone = estimate(green, 240, 180, 1);
  INFO("one channel of the clean texture reads " << alone);
  CHECK(alone > 4.f);
  CHECK(estimate(clean, 240, 180, 3) <= 1.5f);  // (its tints put a little of it in the chroma)
  for (double sigma : {5.0, 10.0, 25.0}) {
    const float e = estimate(saved(s, sigma, 3), 240, 180, 3);
    INFO("sigma " << sigma << " on the texture reads " << e);
    CHECK(std::abs(e - sigma) <= 0.5 + 0.06 * sigma);
  }
  // Gray content as RGB (R = G = B, the same noise in each): no chroma to go by, read as gray.
  const Levels g = scene(200, 150, 1);
  const std::vector<uint8_t> gray = saved(g, 6, 4);
  std::vector<uint8_t> rgb(gray.size() * 3);
  for (size_t i = 0; i < gray.size(); ++i) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = gray[i];
  CHECK(estimate(rgb, 200, 150, 3) == estimate(gray, 200, 150, 1));
}

TEST_CASE("noise estimate: a real photograph, clean and with noise") {
  const Levels s = photo();
  const float clean = estimate(saved(s, 0, 0), 300, 300, 3);
  INFO("clean photo reads " << clean);
  CHECK(clean <= 1.5f);
  for (double sigma : {5.0, 15.0, 30.0, 50.0}) {
    const float e = estimate(saved(s, sigma, uint64_t(sigma)), 300, 300, 3);
    INFO("sigma " << sigma << " read " << e);
    CHECK(std::abs(e - sigma) <= 1.0 + 0.04 * sigma);
  }
}

TEST_CASE("noise estimate: a JPEG with subsampled chroma is read by its luma when told so") {
  // The photo with noise, saved as a 4:2:0 JPEG at quality 89 and decoded: the file kept the
  // noise's luma share only. Told so, the estimate reads the noise that was there before saving
  // (what the model was trained to be given), less what JPEG took away; the plain estimate reads
  // it low, and at sigma 10 about 0 (measured on Kodak24: bench/noise_estimate_eval.py, variants
  // jpeg90 and jpeg90-luma).
  const Levels s = photo();
  xunit::testing::TempDir dir;
  auto stored = [&](const xunit::cli::Image &img, int32_t storage) {
    const xunit_image view{img.width,
                           img.height,
                           img.channels,
                           XUNIT_PIXEL_F32,
                           size_t(img.width) * img.channels * sizeof(float),
                           const_cast<float *>(img.pixels.data())};
    float sigma = -1.f;
    REQUIRE(xunit_estimate_noise_level_stored(&view, storage, &sigma) == XUNIT_OK);
    return sigma;
  };
  for (double sigma : {0.0, 10.0, 25.0, 50.0}) {
    const std::vector<uint8_t> noisy = saved(s, sigma, uint64_t(sigma) + 100);
    xunit::cli::Image img{300, 300, 3, 8, std::vector<float>(noisy.size())};
    for (size_t i = 0; i < noisy.size(); ++i) img.pixels[i] = float(noisy[i]) / 255.f;
    xunit::cli::SaveOptions q89;  // xunit's encoder subsamples chroma below quality 90
    q89.quality = 89;
    const std::string path = dir.file("noisy" + std::to_string(int(sigma)) + ".jpg");
    xunit::cli::save_image(path, img, false, q89);
    const xunit::cli::Image back = xunit::cli::load_image(path);
    REQUIRE(back.chroma_subsampled);
    const float luma = stored(back, XUNIT_CHROMA_SUBSAMPLED),
                plain = stored(back, XUNIT_CHROMA_FULL);
    INFO("sigma " << sigma << ": told " << luma << ", plain " << plain);
    // JPEG itself takes some of the finest noise away, most of it at low sigmas, where what is
    // left also looks more like texture to the guard (10 reads ~4.4 here, ~6.4 on Kodak24 at
    // quality 90, ~11 at 95).
    CHECK(luma <= sigma + 1.5 + 0.1 * sigma);
    CHECK(luma >= (sigma >= 25 ? sigma - 1.5 - 0.1 * sigma : 0.4 * sigma));
    if (sigma >= 10) CHECK(plain < 0.75 * sigma);
    // RGBA: alpha (here noisy, unlike anything in R, G, B) is left out of the luma too.
    xunit::cli::Image rgba{300, 300, 4, 8, std::vector<float>(size_t(300) * 300 * 4)};
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> alpha(0.f, 1.f);
    for (size_t i = 0; i < size_t(300) * 300; ++i) {
      for (int k = 0; k < 3; ++k) rgba.pixels[i * 4 + k] = back.pixels[i * 3 + k];
      rgba.pixels[i * 4 + 3] = alpha(rng);
    }
    CHECK(stored(rgba, XUNIT_CHROMA_SUBSAMPLED) == luma);
  }
  // The guard of the luma read: texture over the whole frame, clean, through a 4:2:0 JPEG. Read
  // by the luma at one scale it is noise of several levels; its 2x2-binned luma holds more of
  // it, which noise would not: about 0. With noise it still reads the noise.
  const Levels tex = texture(240, 180);
  for (double sigma : {0.0, 25.0}) {
    const std::vector<uint8_t> px = saved(tex, sigma, 11);
    xunit::cli::Image t{240, 180, 3, 8, std::vector<float>(px.size())};
    for (size_t i = 0; i < px.size(); ++i) t.pixels[i] = float(px[i]) / 255.f;
    xunit::cli::SaveOptions q89;
    q89.quality = 89;
    xunit::cli::save_image(dir.file("texture.jpg"), t, true, q89);
    const xunit::cli::Image back = xunit::cli::load_image(dir.file("texture.jpg"));
    REQUIRE(back.chroma_subsampled);
    std::vector<float> y(size_t(240) * 180);
    for (size_t i = 0; i < y.size(); ++i)
      y[i] = 0.299f * back.pixels[i * 3] + 0.587f * back.pixels[i * 3 + 1] +
             0.114f * back.pixels[i * 3 + 2];
    const xunit::cli::Image luma_only{240, 180, 1, 8, y};
    const float told = stored(back, XUNIT_CHROMA_SUBSAMPLED), fine = stored(luma_only, 0);
    INFO("texture, sigma " << sigma << ": told " << told << ", its luma alone " << fine);
    if (sigma == 0) {
      CHECK(fine > 2.f);  // what the guard takes away
      CHECK(told <= 1.f);
    } else {
      CHECK(std::abs(told - sigma) <= 1.5 + 0.1 * sigma);
    }
  }
  // Gray content (R = G = B) and one channel read as without the hint: noise there was never
  // split into luma and chroma. The gray content also through a real 4:2:0 round trip.
  const std::vector<uint8_t> gray = saved(scene(200, 150, 1), 12.0, 5);
  std::vector<float> rgb(gray.size() * 3), one(gray.size());
  for (size_t i = 0; i < gray.size(); ++i)
    one[i] = rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = float(gray[i]) / 255.f;
  const xunit::cli::Image grey3{200, 150, 3, 8, rgb}, grey1{200, 150, 1, 8, one};
  CHECK(stored(grey3, XUNIT_CHROMA_SUBSAMPLED) == stored(grey3, XUNIT_CHROMA_FULL));
  CHECK(stored(grey1, XUNIT_CHROMA_SUBSAMPLED) == stored(grey1, XUNIT_CHROMA_FULL));
  xunit::cli::SaveOptions q80;
  q80.quality = 80;
  xunit::cli::save_image(dir.file("grey.jpg"), grey3, false, q80);
  const xunit::cli::Image grey_jpeg = xunit::cli::load_image(dir.file("grey.jpg"));
  REQUIRE(grey_jpeg.channels == 3);
  REQUIRE(grey_jpeg.chroma_subsampled);
  const float grey_plain = stored(grey_jpeg, XUNIT_CHROMA_FULL);
  CHECK(grey_plain > 6.f);  // not read as luma-only: that would be ~1.5x this
  CHECK(stored(grey_jpeg, XUNIT_CHROMA_SUBSAMPLED) == grey_plain);
  // xunit_estimate_noise_level is the FULL case.
  float plain = -1.f;
  const xunit_image view{200, 150, 3, XUNIT_PIXEL_F32, 200 * 3 * sizeof(float), rgb.data()};
  REQUIRE(xunit_estimate_noise_level(&view, &plain) == XUNIT_OK);
  CHECK(plain == stored(grey3, XUNIT_CHROMA_FULL));
}

TEST_CASE("noise estimate: uint8, uint16 and float32 of one image agree; strides and alpha") {
  const int w = 97, h = 83;  // not multiples of the 8x8 blocks
  const std::vector<uint8_t> u8 = saved(scene(w, h, 3), 12, 3);
  std::vector<uint16_t> u16(u8.size());
  std::vector<float> f32(u8.size());
  for (size_t i = 0; i < u8.size(); ++i) u16[i] = uint16_t(u8[i] * 257), f32[i] = u8[i] / 255.f;
  const float e = estimate(u8, w, h, 3);
  CHECK(e > 9.f);
  CHECK(e < 15.f);
  CHECK(estimate(u16.data(), w, h, 3, XUNIT_PIXEL_U16) == doctest::Approx(e).epsilon(1e-4));
  CHECK(estimate(f32.data(), w, h, 3, XUNIT_PIXEL_F32) == doctest::Approx(e).epsilon(1e-4));

  // Rows further apart than the pixels: the padding (filled with garbage) is not read.
  const size_t stride = size_t(w) * 3 + 29;
  std::vector<uint8_t> padded(stride * h, 255);
  for (int y = 0; y < h; ++y)
    std::memcpy(&padded[y * stride], &u8[size_t(y) * w * 3], size_t(w) * 3);
  CHECK(estimate(padded.data(), w, h, 3, XUNIT_PIXEL_U8, stride) == e);

  // An alpha channel (with 2 or 4 channels, the last) is left out, however noisy.
  std::mt19937 rng(5);
  std::vector<uint8_t> rgba(size_t(w) * h * 4), gray_alpha(size_t(w) * h * 2), gray(size_t(w) * h);
  for (size_t i = 0; i < size_t(w) * h; ++i) {
    std::memcpy(&rgba[i * 4], &u8[i * 3], 3);
    rgba[i * 4 + 3] = uint8_t(rng());
    gray[i] = gray_alpha[i * 2] = u8[i * 3 + 1];
    gray_alpha[i * 2 + 1] = uint8_t(rng());
  }
  CHECK(estimate(rgba, w, h, 4) == e);
  CHECK(estimate(gray_alpha, w, h, 2) == estimate(gray, w, h, 1));
}

TEST_CASE("noise estimate: float32 noise that was not clipped") {
  // Values beyond [0, 1] (noise added in float, as xunit-run --add-noise does): no clipping is
  // undone, the noise is read as it is.
  const Levels s = scene(200, 160, 1);
  std::mt19937_64 rng(11);
  std::normal_distribution<double> n(0.0, 1.0);
  std::vector<float> f(s.v.size());
  for (size_t i = 0; i < f.size(); ++i) f[i] = float((s.v[i] + 40 * n(rng)) / 255);
  CHECK(estimate(f.data(), 200, 160, 1, XUNIT_PIXEL_F32) == doctest::Approx(40).epsilon(0.05));
}

TEST_CASE("noise estimate: degenerate images give a defined result") {
  std::vector<uint8_t> small(64, 200);
  for (auto [w, h] : {std::pair{1, 1}, {2, 2}, {2, 30}, {30, 2}})
    CHECK(estimate(small.data(), w, h, 1, XUNIT_PIXEL_U8) == 0.f);
  const std::vector<uint8_t> noisy3 = saved(scene(3, 3, 1), 20, 1),
                             strip = saved(scene(500, 4, 1), 20, 1);
  CHECK(std::isfinite(estimate(noisy3, 3, 3, 1)));  // one block of one pixel: best effort
  CHECK(estimate(strip, 500, 4, 1) == doctest::Approx(20).epsilon(0.3));  // 2-pixel blocks
  for (uint8_t level : {0, 1, 128, 254, 255}) {  // constant, clipped at either end
    const std::vector<uint8_t> flat(64 * 48 * 3, level);
    CHECK(estimate(flat, 64, 48, 3) == 0.f);
  }
  const float nan = std::numeric_limits<float>::quiet_NaN(),
              inf = std::numeric_limits<float>::infinity();
  std::vector<float> f(64 * 64, nan);
  CHECK(estimate(f.data(), 64, 64, 1, XUNIT_PIXEL_F32) == 0.f);  // all NaN: nothing to measure
  const std::vector<uint8_t> u8 = saved(scene(64, 64, 1), 10, 2);
  for (size_t i = 0; i < f.size(); ++i) f[i] = u8[i] / 255.f;
  const float e = estimate(f.data(), 64, 64, 1, XUNIT_PIXEL_F32);
  f[5 * 64 + 7] = nan, f[40 * 64 + 50] = inf, f[60 * 64 + 3] = -inf;
  // The blocks around the bad pixels are left out; the others still tell the noise.
  CHECK(estimate(f.data(), 64, 64, 1, XUNIT_PIXEL_F32) == doctest::Approx(e).epsilon(0.15));
}

TEST_CASE("noise estimate: deterministic, also from several threads; large images sampled") {
  const std::vector<uint8_t> p = saved(scene(300, 200, 3), 20, 9);
  const float e = estimate(p, 300, 200, 3);
  std::vector<float> got(4, -1.f);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      xunit_image img{300, 200, 3, XUNIT_PIXEL_U8, 900, const_cast<uint8_t *>(p.data())};
      for (int i = 0; i < 3; ++i) xunit_estimate_noise_level(&img, &got[size_t(t)]);
    });
  for (auto &t : threads) t.join();
  for (float g : got) CHECK(g == e);

  // More blocks than are measured (2^18 per channel): a lattice of them, the same level.
  const int w = 4400, h = 4000;
  std::vector<uint8_t> big(size_t(w) * h);
  std::mt19937_64 rng(3);
  std::normal_distribution<float> n(0.f, 8.f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      big[size_t(y) * w + x] =
          uint8_t(std::clamp(std::round(60.f + 0.03f * float(x) + n(rng)), 0.f, 255.f));
  CHECK(estimate(big, w, h, 1) == doctest::Approx(8).epsilon(0.05));
}

TEST_CASE("noise estimate: bad arguments are refused") {
  uint8_t px[16] = {};
  float sigma = 0.f;
  xunit_image ok{4, 4, 1, XUNIT_PIXEL_U8, 4, px};
  CHECK(xunit_estimate_noise_level(nullptr, &sigma) == XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(xunit_last_error()).find("NULL") != std::string::npos);
  CHECK(xunit_estimate_noise_level(&ok, nullptr) == XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(xunit_last_error()).find("out_sigma") != std::string::npos);
  auto refused = [&](xunit_image img, const char *text) {
    sigma = 7.f;
    CHECK(xunit_estimate_noise_level(&img, &sigma) == XUNIT_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(xunit_last_error()).find(text) != std::string::npos);
    CHECK(sigma == 7.f);  // not written
  };
  xunit_image bad = ok;
  bad.data = nullptr;
  refused(bad, "no data");
  bad = ok, bad.width = 0;
  refused(bad, "size");
  bad = ok, bad.channels = 0;
  refused(bad, "channel");
  bad = ok, bad.pixel_type = 9;
  refused(bad, "pixel type");
  bad = ok, bad.row_stride = 3;
  refused(bad, "stride");
  bad = ok, bad.pixel_type = XUNIT_PIXEL_F32, bad.width = 1, bad.row_stride = 6;
  refused(bad, "multiple");
  CHECK(xunit_estimate_noise_level(&ok, &sigma) == XUNIT_OK);
  CHECK(std::string(xunit_last_error()).empty());
  for (int32_t storage : {-1, 2}) {
    sigma = 7.f;
    CHECK(xunit_estimate_noise_level_stored(&ok, storage, &sigma) == XUNIT_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(xunit_last_error()).find("chroma_storage") != std::string::npos);
    CHECK(sigma == 7.f);
  }
  CHECK(xunit_estimate_noise_level_stored(nullptr, XUNIT_CHROMA_SUBSAMPLED, &sigma) ==
        XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(xunit_estimate_noise_level_stored(&ok, XUNIT_CHROMA_SUBSAMPLED, nullptr) ==
        XUNIT_ERROR_INVALID_ARGUMENT);
  CHECK(xunit_estimate_noise_level_stored(&ok, XUNIT_CHROMA_SUBSAMPLED, &sigma) == XUNIT_OK);
}

TEST_CASE("noise estimate: a float image of 0..255 values reads 255 at most") {
  // Python's check_range=False lets such images through; the estimate must stay a level that
  // XUNIT_NOISE_LEVEL_FIXED accepts, or AUTO would refuse to run them.
  const std::vector<uint8_t> noisy = saved(scene(64, 48, 3), 25.0, 3);
  const std::vector<float> raw(noisy.begin(), noisy.end());
  const float e = estimate(raw.data(), 64, 48, 3, XUNIT_PIXEL_F32);
  CHECK(e == 255.f);
}
