// Running graphs through the production path (serialize -> parse -> plan -> tiles) in tests.
#pragma once
#include <memory>
#include <random>
#include <vector>

#include "engine/compiled_model.h"
#include "engine/image_runner.h"
#include "engine/model_file.h"
#include "engine/reference_executor.h"

namespace xunit::testing {

struct LoadedModel {
  std::shared_ptr<std::vector<uint8_t>> bytes;
  std::unique_ptr<CompiledModel> model;
};

inline LoadedModel load_graph(const Graph &g, DType storage = DType::F32,
                              CompileOptions options = {}) {
  LoadedModel m;
  m.bytes = std::make_shared<std::vector<uint8_t>>(serialize_model(g, storage));
  Graph parsed = parse_model(m.bytes->data(), m.bytes->size());
  m.model = std::make_unique<CompiledModel>(std::move(parsed), m.bytes, options);
  return m;
}

// HWC float image.
struct HwcImage {
  int width = 0, height = 0, channels = 0;
  std::vector<float> data;
};

inline HwcImage random_image(int w, int h, int c, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(0.f, 1.f);
  HwcImage img{w, h, c, std::vector<float>(size_t(w) * h * c)};
  for (auto &v : img.data) v = d(rng);
  return img;
}

// tile: stripe width (0 whole, -1 automatic); chunk: rows per pass (0 automatic); params: the
// noise level of a graph that takes one.
inline HwcImage run_engine(const CompiledModel &m, const HwcImage &in, int tile, int threads,
                           int chunk = 0, const RunParams &params = {}) {
  const Graph &g = m.graph();
  const int s = g.output_scale();
  HwcImage out{in.width * s, in.height * s, g.out_channels(), {}};
  out.data.assign(size_t(out.width) * out.height * out.channels, -7.f);
  xunit_image a{in.width,
                in.height,
                in.channels,
                XUNIT_PIXEL_F32,
                size_t(in.width) * in.channels * 4,
                const_cast<float *>(in.data.data())};
  xunit_image b{out.width,
                out.height,
                out.channels,
                XUNIT_PIXEL_F32,
                size_t(out.width) * out.channels * 4,
                out.data.data()};
  RunConfig cfg;
  cfg.threads = threads;
  cfg.tile_size = tile;
  cfg.chunk_rows = chunk;
  cfg.params = params;
  run_image(m, a, b, cfg);
  return out;
}

inline HwcImage run_oracle(const Graph &g, const HwcImage &in, const RunParams &params = {}) {
  PlanarImage p;
  p.channels = in.channels;
  p.height = in.height;
  p.width = in.width;
  p.data.resize(in.data.size());
  for (int c = 0; c < in.channels; ++c)
    for (int i = 0; i < in.width * in.height; ++i)
      p.data[size_t(c) * in.width * in.height + i] = in.data[size_t(i) * in.channels + c];
  PlanarImage r = run_reference(g, p, params);
  HwcImage out{r.width, r.height, r.channels, std::vector<float>(r.data.size())};
  for (int c = 0; c < r.channels; ++c)
    for (int i = 0; i < r.width * r.height; ++i)
      out.data[size_t(i) * r.channels + c] = r.data[size_t(c) * r.width * r.height + i];
  return out;
}

inline float max_abs_diff(const HwcImage &a, const HwcImage &b) {
  if (a.data.size() != b.data.size()) return 1e30f;
  float m = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    float d = std::abs(a.data[i] - b.data[i]);
    if (!(d <= m)) m = d;  // NaN-propagating max
  }
  return m;
}

// sqrt(mean (a - b)^2) / sqrt(mean b^2): the difference on the whole, relative to b.
inline float relative_rms_diff(const HwcImage &a, const HwcImage &b) {
  if (a.data.size() != b.data.size()) return 1e30f;
  double err = 0, ref = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    err += double(a.data[i] - b.data[i]) * (a.data[i] - b.data[i]);
    ref += double(b.data[i]) * b.data[i];
  }
  return float(std::sqrt(err / std::max(ref, 1e-30)));
}

}  // namespace xunit::testing
