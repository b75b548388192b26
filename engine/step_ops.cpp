#include "engine/step_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace xunit {

namespace {

float activate(const Graph &g, const Op &op, float v, int c) {
  switch (op.type) {
    case OpType::Relu: return v < 0 ? 0.f : v;
    case OpType::LeakyRelu: return v < 0 ? v * op.alpha : v;
    case OpType::Sigmoid: return 1.f / (1.f + std::exp(-v));
    case OpType::PRelu: {
      const Tensor &s = g.tensor(op.slope);
      return v < 0 ? v * (s.numel() == 1 ? s.data[0] : s.data[c]) : v;
    }
    case OpType::Affine: return v * g.tensor(op.scale).data[c] + g.tensor(op.shift).data[c];
    default: return v;
  }
}

}  // namespace

void run_elementwise(const Graph &g, const Op &op, const BlockedTensor &in, const BlockedTensor &out) {
  const int B = in.block;
  for (int b = 0; b < in.blocks(); ++b) {
    const int lanes = std::min(B, in.channels - b * B);
    for (size_t p = 0; p < in.plane(); ++p) {
      const float *src = in.data + (size_t(b) * in.plane() + p) * B;
      float *dst = out.data + (size_t(b) * in.plane() + p) * B;
      for (int l = 0; l < lanes; ++l) dst[l] = activate(g, op, src[l], b * B + l);
      for (int l = lanes; l < B; ++l) dst[l] = 0.f;
    }
  }
}

void run_binary(OpType type, const BlockedTensor &a, const BlockedTensor &b, const BlockedTensor &out) {
  const size_t n = a.floats();
  switch (type) {
    case OpType::Add:
      for (size_t i = 0; i < n; ++i) out.data[i] = a.data[i] + b.data[i];
      break;
    case OpType::Mul:
      for (size_t i = 0; i < n; ++i) out.data[i] = a.data[i] * b.data[i];
      break;
    default:  // Gate; padded lanes stay 0 because a's padded lanes are 0
      for (size_t i = 0; i < n; ++i) out.data[i] = a.data[i] / (1.f + std::exp(-b.data[i]));
      break;
  }
}

void run_pixel_shuffle(const Graph &g, int f, const Op *activation, const BlockedTensor &in,
                       const BlockedTensor &out) {
  const int B = out.block;
  for (int b = 0; b < out.blocks(); ++b)
    for (int y = 0; y < out.height; ++y)
      for (int x = 0; x < out.width; ++x) {
        float *dst = out.pixel(b, y, x);
        const int sub = (y % f) * f + (x % f);
        for (int l = 0; l < B; ++l) {
          const int c = b * B + l;
          if (c >= out.channels) {
            dst[l] = 0.f;
            continue;
          }
          float v = in.data[in.offset(c * f * f + sub, y / f, x / f)];
          dst[l] = activation ? activate(g, *activation, v, c) : v;
        }
      }
}

void run_upsample_bilinear(int f, const BlockedTensor &in, const BlockedTensor &out) {
  const int B = in.block;
  auto coord = [f](int dst, int size, int *i0, int *i1, float *t) {
    float src = std::max((float(dst) + 0.5f) / float(f) - 0.5f, 0.f);
    *i0 = std::min(int(src), size - 1);
    *i1 = std::min(*i0 + 1, size - 1);
    *t = src - float(*i0);
  };
  for (int b = 0; b < in.blocks(); ++b)
    for (int y = 0; y < out.height; ++y) {
      int y0, y1;
      float ty;
      coord(y, in.height, &y0, &y1, &ty);
      for (int x = 0; x < out.width; ++x) {
        int x0, x1;
        float tx;
        coord(x, in.width, &x0, &x1, &tx);
        const float *p00 = in.pixel(b, y0, x0), *p01 = in.pixel(b, y0, x1);
        const float *p10 = in.pixel(b, y1, x0), *p11 = in.pixel(b, y1, x1);
        float *dst = out.pixel(b, y, x);
        for (int l = 0; l < B; ++l) {
          // Same operation order as PyTorch's CPU kernel keeps the result bit-close.
          float top = p00[l] * (1 - tx) + p01[l] * tx;
          float bot = p10[l] * (1 - tx) + p11[l] * tx;
          dst[l] = top * (1 - ty) + bot * ty;
        }
      }
    }
}

void run_concat(const BlockedTensor *inputs, int count, const BlockedTensor &out) {
  int c0 = 0;
  for (int i = 0; i < count; ++i) {
    const BlockedTensor &in = inputs[i];
    for (int c = 0; c < in.channels; ++c)
      for (int y = 0; y < in.height; ++y)
        for (int x = 0; x < in.width; ++x)
          out.data[out.offset(c0 + c, y, x)] = in.data[in.offset(c, y, x)];
    c0 += in.channels;
  }
  for (int c = out.channels; c < out.blocks() * out.block; ++c)
    for (int y = 0; y < out.height; ++y)
      for (int x = 0; x < out.width; ++x) out.data[out.offset(c, y, x)] = 0.f;
}

void copy_tensor(const BlockedTensor &in, const BlockedTensor &out) {
  std::memcpy(out.data, in.data, in.floats() * sizeof(float));
}

}  // namespace xunit
