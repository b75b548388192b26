#include "engine/reference_executor.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "engine/ops/binary.h"
#include "engine/ops/footprint.h"
#include "engine/ops/unary.h"
#include "engine/resize_taps.h"

namespace xunit {

namespace {

PlanarImage make(int c, int h, int w) {
  PlanarImage p;
  p.channels = c;
  p.height = h;
  p.width = w;
  p.data.assign(size_t(c) * h * w, 0.f);
  return p;
}

PlanarImage conv2d(const Graph &g, const Op &op, const PlanarImage &x) {
  const int k = op.kernel, d = op.dilation, pad = d * (k / 2), H = x.height, W = x.width;
  const int icg = op.in_channels / op.groups, ocg = op.out_channels / op.groups;
  const float *w = g.tensor(op.weight).data;
  const float *b = op.bias >= 0 ? g.tensor(op.bias).data : nullptr;
  PlanarImage y = make(op.out_channels, H, W);
  for (int oc = 0; oc < op.out_channels; ++oc) {
    int group = oc / ocg;
    float *out = &y.data[size_t(oc) * H * W];
    for (int yy = 0; yy < H; ++yy)
      for (int xx = 0; xx < W; ++xx) {
        double acc = b ? b[oc] : 0.0;
        for (int ic = 0; ic < icg; ++ic) {
          const float *in = &x.data[size_t(group * icg + ic) * H * W];
          const float *wk = &w[(size_t(oc) * icg + ic) * k * k];
          for (int ky = 0; ky < k; ++ky) {
            int sy = yy + d * ky - pad;
            if (op.border) sy = border_source(op.border, sy, H);
            if (sy < 0 || sy >= H) continue;
            for (int kx = 0; kx < k; ++kx) {
              int sx = xx + d * kx - pad;
              if (op.border) sx = border_source(op.border, sx, W);
              if (sx < 0 || sx >= W) continue;
              acc += double(wk[ky * k + kx]) * in[size_t(sy) * W + sx];
            }
          }
        }
        out[size_t(yy) * W + xx] = float(acc);
      }
  }
  return y;
}

// Output y = iy * s - p + ky (and the same along x); weight [in, out, k, k], as PyTorch's.
PlanarImage conv_transpose2d(const Graph &g, const Op &op, const PlanarImage &x) {
  const int s = op.factor, k = op.kernel, p = op.padding, O = op.out_channels;
  PlanarImage y = make(O, x.height * s, x.width * s);
  const float *w = g.tensor(op.weight).data;
  const float *b = op.bias >= 0 ? g.tensor(op.bias).data : nullptr;
  std::vector<double> acc(y.data.size(), 0.0);
  for (int o = 0; o < O; ++o)
    for (size_t i = 0; i < size_t(y.height) * y.width; ++i)
      acc[size_t(o) * y.height * y.width + i] = b ? b[o] : 0.0;
  for (int c = 0; c < x.channels; ++c)
    for (int iy = 0; iy < x.height; ++iy)
      for (int ix = 0; ix < x.width; ++ix) {
        const double v = x.data[(size_t(c) * x.height + iy) * x.width + ix];
        for (int o = 0; o < O; ++o)
          for (int ky = 0; ky < k; ++ky) {
            const int yy = iy * s - p + ky;
            if (yy < 0 || yy >= y.height) continue;
            for (int kx = 0; kx < k; ++kx) {
              const int xx = ix * s - p + kx;
              if (xx < 0 || xx >= y.width) continue;
              acc[(size_t(o) * y.height + yy) * y.width + xx] +=
                  v * w[((size_t(c) * O + o) * k + ky) * k + kx];
            }
          }
      }
  for (size_t i = 0; i < acc.size(); ++i) y.data[i] = float(acc[i]);
  return y;
}

// CRD (PyTorch) order: channel c at sub-pixel s reads c * f * f + s; DCR: s * C + c.
PlanarImage pixel_shuffle(const PlanarImage &x, int f, bool dcr) {
  PlanarImage y = make(x.channels / (f * f), x.height * f, x.width * f);
  for (int c = 0; c < y.channels; ++c)
    for (int yy = 0; yy < y.height; ++yy)
      for (int xx = 0; xx < y.width; ++xx) {
        const int sub = (yy % f) * f + (xx % f);
        int src_c = dcr ? sub * y.channels + c : c * f * f + sub;
        y.data[(size_t(c) * y.height + yy) * y.width + xx] =
            x.data[(size_t(src_c) * x.height + yy / f) * x.width + xx / f];
      }
  return y;
}

// PyTorch's pixel_unshuffle (channel c*r*r + i*r + j) or ONNX SpaceToDepth ((i*r + j)*C + c),
// of the image extended at the right and bottom to multiples of r (border: reflect or edge).
PlanarImage pixel_unshuffle(const PlanarImage &x, int r, bool dcr, int border) {
  const int C = x.channels;
  PlanarImage y = make(C * r * r, (x.height + r - 1) / r, (x.width + r - 1) / r);
  auto source = [border](int i, int size) { return unshuffle_source(border, i, size); };
  for (int c = 0; c < C; ++c)
    for (int i = 0; i < r; ++i)
      for (int j = 0; j < r; ++j) {
        const int oc = dcr ? (i * r + j) * C + c : c * r * r + i * r + j;
        for (int yy = 0; yy < y.height; ++yy)
          for (int xx = 0; xx < y.width; ++xx)
            y.data[(size_t(oc) * y.height + yy) * y.width + xx] =
                x.data[(size_t(c) * x.height + source(yy * r + i, x.height)) * x.width +
                       source(xx * r + j, x.width)];
      }
  return y;
}

PlanarImage crop(const PlanarImage &x, int height, int width) {
  if (x.height == height && x.width == width) return x;
  PlanarImage y = make(x.channels, height, width);
  for (int c = 0; c < x.channels; ++c)
    for (int yy = 0; yy < height; ++yy)
      std::copy_n(&x.data[(size_t(c) * x.height + yy) * x.width], width,
                  &y.data[(size_t(c) * height + yy) * width]);
  return y;
}

// PyTorch's bilinear, align_corners=False: src = (dst + 0.5) / f - 0.5, clamped below at 0.
PlanarImage upsample_bilinear(const PlanarImage &x, int f) {
  PlanarImage y = make(x.channels, x.height * f, x.width * f);
  auto coord = [f](int dst, int size, int *i0, int *i1, float *t) {
    float src = std::max((float(dst) + 0.5f) / float(f) - 0.5f, 0.f);
    *i0 = std::min(int(src), size - 1);
    *i1 = std::min(*i0 + 1, size - 1);
    *t = src - float(*i0);
  };
  for (int c = 0; c < y.channels; ++c)
    for (int yy = 0; yy < y.height; ++yy) {
      int y0, y1;
      float ty;
      coord(yy, x.height, &y0, &y1, &ty);
      for (int xx = 0; xx < y.width; ++xx) {
        int x0, x1;
        float tx;
        coord(xx, x.width, &x0, &x1, &tx);
        const float *p = &x.data[size_t(c) * x.height * x.width];
        float top = p[y0 * x.width + x0] * (1 - tx) + p[y0 * x.width + x1] * tx;
        float bot = p[y1 * x.width + x0] * (1 - tx) + p[y1 * x.width + x1] * tx;
        y.data[(size_t(c) * y.height + yy) * y.width + xx] = top * (1 - ty) + bot * ty;
      }
    }
  return y;
}

// Separable: along rows first, then along columns of the row results.
PlanarImage resize(const Op &op, const PlanarImage &x) {
  const int f = op.factor;
  PlanarImage y = make(x.channels, x.height * f, x.width * f);
  std::vector<ResizeTaps> cols(size_t(y.width));
  for (int xx = 0; xx < y.width; ++xx) cols[size_t(xx)] = resize_taps(op, xx, x.width);
  for (int c = 0; c < y.channels; ++c) {
    const float *p = &x.data[size_t(c) * x.height * x.width];
    for (int yy = 0; yy < y.height; ++yy) {
      const ResizeTaps ty = resize_taps(op, yy, x.height);
      for (int xx = 0; xx < y.width; ++xx) {
        const ResizeTaps &tx = cols[size_t(xx)];
        double acc = 0;
        for (int i = 0; i < ty.count; ++i) {
          double row = 0;
          for (int j = 0; j < tx.count; ++j)
            row += double(tx.weight[j]) * p[size_t(ty.index[i]) * x.width + tx.index[j]];
          acc += double(ty.weight[i]) * row;
        }
        y.data[(size_t(c) * y.height + yy) * y.width + xx] = float(acc);
      }
    }
  }
  return y;
}

}  // namespace

PlanarImage run_reference(const Graph &g, const PlanarImage &input, const RunParams &params) {
  XUNIT_CHECK(input.channels == g.in_channels(), "reference: input has the wrong channel count");
  std::vector<PlanarImage> values(g.values.size());
  values[size_t(g.input)] = input;
  for (const Op &op : g.ops) {
    const PlanarImage &a = values[size_t(op.inputs[0])];
    PlanarImage y;
    switch (op_traits(op.type).op_class) {
      case OpClass::Conv:
        y = conv2d(g, op, a);
        break;
      case OpClass::Unary: {
        const UnaryFn f(g, op);
        y = a;
        const size_t plane = size_t(a.height) * a.width;
        for (size_t i = 0; i < y.data.size(); ++i) y.data[i] = f(a.data[i], int(i / plane));
        break;
      }
      case OpClass::Binary: {
        const PlanarImage &b = values[size_t(op.inputs[1])];
        y = a;
        for (size_t i = 0; i < y.data.size(); ++i)
          y.data[i] = binary_eval(op.type, a.data[i], b.data[i]);
        break;
      }
      case OpClass::Resample:
        if (op.type == OpType::PixelShuffle || op.type == OpType::PixelShuffleDcr)
          y = pixel_shuffle(a, op.factor, op.type == OpType::PixelShuffleDcr);
        else if (op.type == OpType::Resize)
          y = resize(op, a);
        else if (op.type == OpType::UpsampleBilinear)
          y = upsample_bilinear(a, op.factor);
        else if (op.type == OpType::ConvTranspose2d)
          y = conv_transpose2d(g, op, a);
        else
          throw Error("reference: no resampling for op '" + op.name + "'");
        break;
      case OpClass::Unshuffle:
        y = pixel_unshuffle(a, op.factor, unshuffle_position_major(op.type),
                            unshuffle_border(op.type));
        break;
      case OpClass::RunInput:  // the noise level map: its input's size (the stream's beside an
        // unshuffle), nothing beyond it (a conv reading it pads with zeros, as PyTorch's does)
        y = make(1, a.height, a.width);
        std::fill(y.data.begin(), y.data.end(), op.level_scale * params.noise_level);
        break;
      case OpClass::Concat: {
        y = make(g.values[size_t(op.output)].channels, a.height, a.width);
        size_t at = 0;
        for (int id : op.inputs) {
          const auto &src = values[size_t(id)].data;
          std::copy(src.begin(), src.end(), y.data.begin() + long(at));
          at += src.size();
        }
        break;
      }
    }
    values[size_t(op.output)] = std::move(y);
  }
  // What reflection added to reach multiples of an input unshuffle's factor is cropped.
  return crop(values[size_t(g.output)], input.height * g.output_scale(),
              input.width * g.output_scale());
}

}  // namespace xunit
