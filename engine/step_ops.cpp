#include "engine/step_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"
#include "engine/resize_taps.h"
#include "kernels/conv_o4/conv_o4.h"
#include "kernels/convert/convert.h"
#include "kernels/dwgate/dwgate.h"
#include "kernels/pointwise/pointwise.h"

namespace xunit {

namespace {

// Row pointers of rows [rows.lo, rows.hi) of every plane, gathered before any parallel loop
// (RowStore::row checks its arguments and may throw): index plane * rows.size() + i.
std::vector<const float *> read_rows(const RowStore &s, RowRange rows, const float *zero) {
  std::vector<const float *> p;
  p.reserve(size_t(s.layout().planes()) * size_t(rows.size()));
  for (int plane = 0; plane < s.layout().planes(); ++plane)
    for (int y = rows.lo; y < rows.hi; ++y)
      p.push_back(y < 0 || y >= s.height() ? zero : s.row(plane, y));
  return p;
}

std::vector<float *> write_rows(RowStore &s, RowRange rows) {
  std::vector<float *> p;
  p.reserve(size_t(s.layout().planes()) * size_t(rows.size()));
  for (int plane = 0; plane < s.layout().planes(); ++plane)
    for (int y = rows.lo; y < rows.hi; ++y) p.push_back(s.row(plane, y));
  return p;
}

// One row of channel c: element x is at[x * stride].
struct ChannelRow {
  const float *at;
  int stride;
};
ChannelRow channel(const std::vector<const float *> &rows, const RowLayout &l, int n, int c,
                   int i) {
  return {rows[size_t(c / l.block) * size_t(n) + size_t(i)] + c % l.block, l.block};
}
struct ChannelRowOut {
  float *at;
  int stride;
};
ChannelRowOut channel(const std::vector<float *> &rows, const RowLayout &l, int n, int c, int i) {
  return {rows[size_t(c / l.block) * size_t(n) + size_t(i)] + c % l.block, l.block};
}

// Writes zeros into the padded lanes of output row i (channels beyond the last real one).
void zero_padding(const std::vector<float *> &rows, const RowLayout &l, int n, int i) {
  const int real = l.channels - (l.planes() - 1) * l.block;
  if (real == l.block) return;
  float *row = rows[size_t(l.planes() - 1) * size_t(n) + size_t(i)];
  for (int x = 0; x < l.width; ++x)
    for (int lane = real; lane < l.block; ++lane) row[size_t(x) * l.block + lane] = 0.f;
}

bool same_layout(const RowLayout &a, const RowLayout &b) {
  return a.channels == b.channels && a.block == b.block && a.width == b.width;
}

// A unary op as a function of (value, channel).
struct Unary {
  OpType type = OpType::Relu;
  float alpha = 0.f;
  const float *scale = nullptr, *shift = nullptr, *slope = nullptr;
  bool shared_slope = false;

  Unary(const Graph &g, const Op &op) : type(op.type), alpha(op.alpha) {
    if (type == OpType::Affine) {
      scale = g.tensor(op.scale).data;
      shift = g.tensor(op.shift).data;
    } else if (type == OpType::PRelu) {
      slope = g.tensor(op.slope).data;
      shared_slope = g.tensor(op.slope).numel() == 1;
    }
  }
  float operator()(float v, int c) const {
    switch (type) {
      case OpType::Relu:
        return v < 0.f ? 0.f : v;
      case OpType::LeakyRelu:
        return v < 0.f ? v * alpha : v;
      case OpType::Sigmoid:
        return 1.f / (1.f + std::exp(-v));
      case OpType::PRelu:
        return v < 0.f ? v * slope[shared_slope ? 0 : c] : v;
      case OpType::Affine:
        return v * scale[c] + shift[c];
      default:
        return v;
    }
  }
};

}  // namespace

void run_dwgate(const RowOpContext &ctx, const PackedGate &pg, const RowStore &in,
                const RowStore *multiplicand, RowStore &out, RowRange rows) {
  const int r = pg.kernel / 2, n = rows.size(), taps = pg.kernel * pg.kernel;
  const int in_n = n + 2 * r;
  std::vector<const float *> src = read_rows(in, {rows.lo - r, rows.hi + r}, ctx.zero_row);
  std::vector<const float *> mul;
  if (multiplicand) {
    XUNIT_CHECK(same_layout(multiplicand->layout(), out.layout()),
                "internal error: gate multiplicand in another layout");
    mul = read_rows(*multiplicand, rows, ctx.zero_row);
  }
  std::vector<float *> dst = write_rows(out, rows);
  const kernels::DwGateFn fn = kernels::select_dwgate(pg.block);
  // Jobs of (plane, band of rows) so that one chunk keeps every thread busy.
  const int bands = std::max(1, std::min(n, (4 * ctx.threads + pg.blocks - 1) / pg.blocks));
  const int jobs = pg.blocks * bands;
#pragma omp parallel for num_threads(ctx.threads) schedule(static) if (ctx.threads > 1 && jobs > 1)
  for (int job = 0; job < jobs; ++job) {
    const int b = job / bands, band = job % bands;
    const int y0 = int(long(n) * band / bands), y1 = int(long(n) * (band + 1) / bands);
    if (y0 == y1) continue;
    kernels::DwGateParams p;
    p.in_rows = &src[size_t(b) * size_t(in_n) + size_t(y0)];
    if (multiplicand) p.x_rows = &mul[size_t(b) * size_t(n) + size_t(y0)];
    p.out_rows = &dst[size_t(b) * size_t(n) + size_t(y0)];
    p.weights = pg.weights.data() + size_t(b) * taps * pg.block;
    p.bias = pg.bias.data() + size_t(b) * pg.block;
    if (!pg.post_scale.empty()) {
      p.post_scale = pg.post_scale.data() + size_t(b) * pg.block;
      p.post_shift = pg.post_shift.data() + size_t(b) * pg.block;
    }
    p.rows = y1 - y0;
    p.width = out.layout().width;
    p.kernel = pg.kernel;
    p.block = pg.block;
    fn(p);
  }
}

void run_conv_o4(const RowOpContext &ctx, const Graph &g, const Step &step, const PackedConvO4 &pc,
                 const Parts &in, const RowStore *sum, RowStore &out, RowRange rows) {
  const int r = pc.kernel / 2, n = rows.size(), in_n = n + 2 * r;
  const RowLayout &lo = out.layout();  // planar: one plane per output channel
  // Input rows per plane, from whichever part holds the plane (a virtual concat's are aligned).
  std::vector<const float *> src(size_t(pc.planes) * size_t(in_n));
  for (const ChannelPart &part : in) {
    XUNIT_CHECK(part.store->layout().block == pc.block && part.offset % pc.block == 0,
                "internal error: conv_o4 input not plane-aligned");
    std::vector<const float *> rows_of_part =
        read_rows(*part.store, {rows.lo - r, rows.hi + r}, ctx.zero_row);
    std::copy(rows_of_part.begin(), rows_of_part.end(),
              src.begin() + long(part.offset / pc.block) * in_n);
  }
  std::vector<float *> dst = write_rows(out, rows);
  std::vector<const float *> addend;
  if (sum) addend = read_rows(*sum, rows, ctx.zero_row);
  const kernels::ConvO4Fn fn = kernels::select_conv_o4(pc.block);
  const int bands = std::min(n, 4 * ctx.threads);
#pragma omp parallel for num_threads(ctx.threads) schedule(static) if (ctx.threads > 1 && bands > 1)
  for (int band = 0; band < bands; ++band) {
    const int y0 = int(long(n) * band / bands), y1 = int(long(n) * (band + 1) / bands);
    if (y0 == y1) continue;
    kernels::ConvO4Params p;
    p.in_rows = &src[size_t(y0)];
    p.in_stride = in_n;
    p.out_rows = &dst[size_t(y0)];
    p.out_stride = n;
    p.weights = pc.weights.data();
    p.bias = pc.bias.data();
    p.rows = y1 - y0;
    p.width = lo.width;
    p.kernel = pc.kernel;
    p.block = pc.block;
    p.planes = pc.planes;
    p.out_channels = pc.out_channels;
    fn(p);
    for (const PostOp &post : step.post)
      for (int c = 0; c < lo.channels; ++c)
        for (int i = y0; i < y1; ++i) {
          float *d = dst[size_t(c) * n + size_t(i)];
          switch (post.kind) {
            case PostOp::Relu:
              for (int x = 0; x < lo.width; ++x) d[x] = d[x] < 0.f ? 0.f : d[x];
              break;
            case PostOp::LeakyRelu:
              for (int x = 0; x < lo.width; ++x) d[x] = d[x] < 0.f ? d[x] * post.alpha : d[x];
              break;
            case PostOp::Sigmoid:
              for (int x = 0; x < lo.width; ++x) d[x] = 1.f / (1.f + std::exp(-d[x]));
              break;
            case PostOp::Affine: {
              const float a = g.tensor(post.scale).data[c], b = g.tensor(post.shift).data[c];
              for (int x = 0; x < lo.width; ++x) d[x] = d[x] * a + b;
              break;
            }
            case PostOp::PRelu: {
              const Tensor &t = g.tensor(post.slope);
              const float a = t.data[t.numel() == 1 ? 0 : c];
              for (int x = 0; x < lo.width; ++x) d[x] = d[x] < 0.f ? d[x] * a : d[x];
              break;
            }
            case PostOp::Sum: {
              ChannelRow s = channel(addend, sum->layout(), n, c, i);
              for (int x = 0; x < lo.width; ++x) d[x] += s.at[x * s.stride];
              break;
            }
          }
        }
  }
}

void run_pointwise(const RowOpContext &ctx, const PackedPointwise &pp, const Parts &in,
                   RowStore &out, RowRange rows) {
  const int n = rows.size(), B = pp.block;
  // Row pointers of every input plane, found in whichever part holds it.
  std::vector<const float *> src(size_t(pp.in_planes) * size_t(n));
  for (const ChannelPart &part : in) {
    const RowLayout &l = part.store->layout();
    XUNIT_CHECK(l.block == B && part.offset % B == 0,
                "internal error: pointwise input not plane-aligned");
    for (int pl = 0; pl < l.planes(); ++pl)
      for (int i = 0; i < n; ++i)
        src[size_t(part.offset / B + pl) * size_t(n) + size_t(i)] =
            part.store->row(pl, rows.lo + i);
  }
  std::vector<float *> dst = write_rows(out, rows);
  const kernels::PointwiseFn fn = kernels::select_pointwise(B);
  const int width = out.layout().width;
  // Jobs of (row, band of columns): enough to keep every thread busy on a short chunk.
  const int bands = std::max(1, std::min(width / 16, (2 * ctx.threads + n - 1) / n));
  const int jobs = n * bands;
#pragma omp parallel for num_threads(ctx.threads) schedule(static) if (ctx.threads > 1 && jobs > 1)
  for (int job = 0; job < jobs; ++job) {
    const int i = job / bands, band = job % bands;
    const int x0 = int(long(width) * band / bands), x1 = int(long(width) * (band + 1) / bands);
    if (x0 == x1) continue;
    std::vector<const float *> in_rows(size_t(pp.in_planes));
    std::vector<float *> out_rows(size_t(pp.out_planes));
    for (int pl = 0; pl < pp.in_planes; ++pl)
      in_rows[size_t(pl)] = src[size_t(pl) * size_t(n) + size_t(i)] + size_t(x0) * B;
    for (int q = 0; q < pp.out_planes; ++q)
      out_rows[size_t(q)] = dst[size_t(q) * size_t(n) + size_t(i)] + size_t(x0) * B;
    kernels::PointwiseParams p;
    p.in_rows = in_rows.data();
    p.out_rows = out_rows.data();
    p.weights = pp.weights.data();
    p.bias = pp.bias.data();
    if (!pp.pre_scale.empty()) p.pre_scale = pp.pre_scale.data(), p.pre_shift = pp.pre_shift.data();
    if (!pp.pre_slope.empty()) p.pre_slope = pp.pre_slope.data();
    if (!pp.post_slope.empty()) p.post_slope = pp.post_slope.data();
    if (!pp.post_scale.empty())
      p.post_scale = pp.post_scale.data(), p.post_shift = pp.post_shift.data();
    p.rows = 1;
    p.width = x1 - x0;
    p.block = B;
    p.in_planes = pp.in_planes;
    p.out_planes = pp.out_planes;
    thread_local std::vector<float> scratch;
    scratch.resize(size_t(kernels::pointwise_scratch_floats(p)));
    p.scratch = scratch.data();
    fn(p);
  }
}

namespace {

// Applies `ops` in order to channels [c0, c0 + lanes) of one row: `s` and `d` hold B
// interleaved lanes per pixel (d may be s). B is a compile-time constant so that the lane loops
// vectorize.
template <int B>
void apply_unary_ops(const std::vector<Unary> &ops, const float *s, float *d, int width, int c0,
                     int lanes) {
  for (size_t k = 0; k < ops.size(); ++k) {
    const Unary &f = ops[k];
    const float *from = k == 0 ? s : d;
    if (lanes == B && f.type == OpType::Affine) {
      const float *sc = f.scale + c0, *sh = f.shift + c0;
      for (int x = 0; x < width; ++x)
        for (int l = 0; l < B; ++l) d[x * B + l] = from[x * B + l] * sc[l] + sh[l];
    } else if (lanes == B && f.type == OpType::Relu) {
      for (int x = 0; x < width; ++x)
        for (int l = 0; l < B; ++l) d[x * B + l] = from[x * B + l] < 0.f ? 0.f : from[x * B + l];
    } else if (lanes == B &&
               (f.type == OpType::LeakyRelu || (f.type == OpType::PRelu && f.shared_slope))) {
      const float a = f.type == OpType::LeakyRelu ? f.alpha : f.slope[0];
      for (int x = 0; x < width; ++x)
        for (int l = 0; l < B; ++l)
          d[x * B + l] = from[x * B + l] < 0.f ? from[x * B + l] * a : from[x * B + l];
    } else {
      for (int x = 0; x < width; ++x)
        for (int l = 0; l < lanes; ++l) d[x * B + l] = f(from[x * B + l], c0 + l);
    }
  }
}

void apply_unary_ops(int block, const std::vector<Unary> &ops, const float *s, float *d, int width,
                     int c0, int lanes) {
  switch (block) {
    case 16:
      return apply_unary_ops<16>(ops, s, d, width, c0, lanes);
    case 8:
      return apply_unary_ops<8>(ops, s, d, width, c0, lanes);
    default:
      return apply_unary_ops<1>(ops, s, d, width, c0, lanes);
  }
}

// Whether part `p` covers output plane `plane` lane for lane (same block, aligned offset), and
// which of its planes that is.
bool aligned_plane(const ChannelPart &p, const RowLayout &lo, int plane, int *part_plane) {
  const RowLayout &li = p.store->layout();
  if (li.block != lo.block || p.offset % lo.block != 0 || li.width != lo.width) return false;
  *part_plane = plane - p.offset / lo.block;
  return *part_plane >= 0 && *part_plane < li.planes();
}

// Fills float row `d` (plane `plane` of layout lo, row i of the pass) from the parts: whole
// planes where a part is aligned, else channel by channel; zero padded lanes.
void gather_plane_row(const Parts &in, const std::vector<std::vector<const float *>> &src,
                      const RowLayout &lo, int n, int plane, int i, float *d) {
  const int B = lo.block, c_lo = plane * B, c_hi = std::min(lo.channels, c_lo + B);
  for (size_t k = 0; k < in.size(); ++k) {
    const ChannelPart &p = in[k];
    const RowLayout &li = p.store->layout();
    const int p_lo = std::max(c_lo, p.offset), p_hi = std::min(c_hi, p.offset + li.channels);
    if (p_lo >= p_hi) continue;
    int pp = 0;
    if (aligned_plane(p, lo, plane, &pp) && p_hi - c_lo == B) {
      std::memcpy(d, src[k][size_t(pp) * size_t(n) + size_t(i)], lo.row_elements() * sizeof(float));
      continue;
    }
    for (int c = p_lo; c < p_hi; ++c) {
      ChannelRow s = channel(src[k], li, n, c - p.offset, i);
      float *dc = d + (c - c_lo);
      for (int x = 0; x < lo.width; ++x) dc[size_t(x) * B] = s.at[x * s.stride];
    }
  }
  for (int x = 0; x < lo.width; ++x)
    for (int l = c_hi - c_lo; l < B; ++l) d[size_t(x) * B + l] = 0.f;
}

}  // namespace

void run_elementwise(const RowOpContext &ctx, const Graph &g, const Step &step, const Parts &in,
                     RowStore &out, RowRange rows) {
  std::vector<Unary> ops{Unary(g, *step.op)};
  for (const Op *op : step.chain) ops.emplace_back(g, *op);
  const int n = rows.size();
  const RowLayout &lo = out.layout();
  const int B = lo.block;
  std::vector<std::vector<const float *>> src;
  for (const ChannelPart &p : in) src.push_back(read_rows(*p.store, rows, ctx.zero_row));
  std::vector<float *> dst = write_rows(out, rows);
  // One job per output plane row: it gathers that plane's channels from whichever parts hold them
  // (a concat read in place), then applies the chain there, while the row is in L1.
  const int jobs = lo.planes() * n;
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && jobs > 1)
  for (int job = 0; job < jobs; ++job) {
    const int plane = job / n, c_lo = plane * B;
    float *d = dst[size_t(job)];
    gather_plane_row(in, src, lo, n, plane, job % n, d);
    apply_unary_ops(B, ops, d, d, lo.width, c_lo, std::min(lo.channels, c_lo + B) - c_lo);
  }
}

void run_binary(const RowOpContext &ctx, OpType type, const RowStore &a, const RowStore &b,
                RowStore &out, RowRange rows) {
  const int n = rows.size();
  const RowLayout &la = a.layout(), &lb = b.layout(), &lo = out.layout();
  std::vector<const float *> sa = read_rows(a, rows, ctx.zero_row),
                             sb = read_rows(b, rows, ctx.zero_row);
  std::vector<float *> dst = write_rows(out, rows);
  auto apply = [type](float u, float v) {
    return type == OpType::Add ? u + v : type == OpType::Mul ? u * v : u / (1.f + std::exp(-v));
  };
  if (same_layout(la, lo) && same_layout(lb, lo)) {
    // Padded lanes are zero in both sources and stay zero: 0 + 0, 0 * v, 0 * sigmoid(v).
    const size_t floats = lo.row_elements();
    const int jobs = lo.planes() * n;
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && jobs > 1)
    for (int job = 0; job < jobs; ++job)
      for (size_t k = 0; k < floats; ++k)
        dst[size_t(job)][k] = apply(sa[size_t(job)][k], sb[size_t(job)][k]);
    return;
  }
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && n > 1)
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < lo.channels; ++c) {
      ChannelRow u = channel(sa, la, n, c, i), v = channel(sb, lb, n, c, i);
      ChannelRowOut d = channel(dst, lo, n, c, i);
      for (int x = 0; x < lo.width; ++x)
        d.at[x * d.stride] = apply(u.at[x * u.stride], v.at[x * v.stride]);
    }
    zero_padding(dst, lo, n, i);
  }
}

void run_pixel_shuffle(const RowOpContext &ctx, const Graph &g, int f, const Op *activation,
                       bool shuffled_input, const RowStore &in, RowStore &out, RowRange rows) {
  const int n = rows.size();
  const RowLayout &li = in.layout(), &lo = out.layout();
  const RowRange src_rows = {rows.lo / f, (rows.hi - 1) / f + 1};
  const int src_n = src_rows.size();
  std::vector<const float *> src = read_rows(in, src_rows, ctx.zero_row);
  std::vector<float *> dst = write_rows(out, rows);
  const Unary act = activation ? Unary(g, *activation) : Unary(g, Op{});
  const int C = lo.channels;
  // Source channel of output channel c at sub-pixel s.
  auto source = [&](int c, int s) { return shuffled_input ? s * C + c : c * f * f + s; };
  if (shuffled_input && li.block == lo.block && C % lo.block == 0) {
    // Whole blocks: output block p at sub-pixel s is input block s * C / B + p, lane for lane.
    const int B = lo.block, planes = lo.planes();
    const bool leaky =
        activation && (activation->type == OpType::LeakyRelu || activation->type == OpType::Relu);
    const float alpha =
        activation && activation->type == OpType::LeakyRelu ? activation->alpha : 0.f;
    const int jobs = planes * n;
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && jobs > 1)
    for (int job = 0; job < jobs; ++job) {
      const int p = job / n, i = job % n, y = rows.lo + i, dy = y % f;
      float *d = dst[size_t(job)];
      for (int dx = 0; dx < f; ++dx) {
        const float *__restrict v =
            src[size_t((dy * f + dx) * C / B + p) * size_t(src_n) + size_t(y / f - src_rows.lo)];
        float *__restrict o = d + size_t(dx) * B;
        const size_t step = size_t(f) * B;  // between this sub-pixel's output pixels
        for (int x = dx; x < lo.width; x += f, v += B, o += step) {
          if (leaky)
            for (int l = 0; l < B; ++l) o[l] = v[l] < 0.f ? v[l] * alpha : v[l];
          else if (activation)
            for (int l = 0; l < B; ++l) o[l] = act(v[l], p * B + l);
          else
            for (int l = 0; l < B; ++l) o[l] = v[l];
        }
      }
    }
    return;
  }
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && n > 1)
  for (int i = 0; i < n; ++i) {
    const int y = rows.lo + i, si = y / f - src_rows.lo, dy = y % f;
    for (int c = 0; c < C; ++c) {
      ChannelRowOut d = channel(dst, lo, n, c, i);
      for (int dx = 0; dx < f; ++dx) {
        ChannelRow s = channel(src, li, src_n, source(c, dy * f + dx), si);
        for (int x = dx, sx = 0; x < lo.width; x += f, ++sx) {
          const float v = s.at[sx * s.stride];
          d.at[x * d.stride] = activation ? act(v, c) : v;
        }
      }
    }
    zero_padding(dst, lo, n, i);
  }
}

void run_upsample_bilinear(const RowOpContext &ctx, int f, const RowStore &in, RowStore &out,
                           RowRange rows) {
  const int n = rows.size();
  const RowLayout &li = in.layout(), &lo = out.layout();
  const RowRange src_rows = {bilinear_tap(rows.lo, f, in.height()).i0,
                             bilinear_tap(rows.hi - 1, f, in.height()).i1 + 1};
  const int src_n = src_rows.size();
  std::vector<const float *> src = read_rows(in, src_rows, ctx.zero_row);
  std::vector<float *> dst = write_rows(out, rows);
  std::vector<BilinearTap> cols;
  for (int x = 0; x < lo.width; ++x) cols.push_back(bilinear_tap(x, f, li.width));
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && n > 1)
  for (int i = 0; i < n; ++i) {
    const BilinearTap ty = bilinear_tap(rows.lo + i, f, in.height());
    for (int c = 0; c < lo.channels; ++c) {
      ChannelRow r0 = channel(src, li, src_n, c, ty.i0 - src_rows.lo);
      ChannelRow r1 = channel(src, li, src_n, c, ty.i1 - src_rows.lo);
      ChannelRowOut d = channel(dst, lo, n, c, i);
      for (int x = 0; x < lo.width; ++x) {
        const BilinearTap &tx = cols[size_t(x)];
        // PyTorch's operation order keeps the result bit-close.
        const float top = r0.at[tx.i0 * r0.stride] * (1 - tx.t) + r0.at[tx.i1 * r0.stride] * tx.t;
        const float bot = r1.at[tx.i0 * r1.stride] * (1 - tx.t) + r1.at[tx.i1 * r1.stride] * tx.t;
        d.at[x * d.stride] = top * (1 - ty.t) + bot * ty.t;
      }
    }
    zero_padding(dst, lo, n, i);
  }
}

void run_resize(const RowOpContext &ctx, const Op &op, const RowStore &in, RowStore &out,
                RowRange rows) {
  const int n = rows.size();
  const RowLayout &li = in.layout(), &lo = out.layout();
  const ResizeTaps first = resize_taps(op, rows.lo, in.height()),
                   last = resize_taps(op, rows.hi - 1, in.height());
  const RowRange src_rows = {first.index[0], last.index[last.count - 1] + 1};
  const int src_n = src_rows.size();
  std::vector<const float *> src = read_rows(in, src_rows, ctx.zero_row);
  std::vector<float *> dst = write_rows(out, rows);
  std::vector<ResizeTaps> cols(size_t(lo.width));
  for (int x = 0; x < lo.width; ++x) cols[size_t(x)] = resize_taps(op, x, li.width);
  const bool blocked = li.block == lo.block;
  const int jobs = blocked ? lo.planes() * n : n;
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && jobs > 1)
  for (int job = 0; job < jobs; ++job) {
    const int i = job % n;
    const ResizeTaps ty = resize_taps(op, rows.lo + i, in.height());
    if (blocked) {  // whole pixels of B lanes: the same taps for every lane
      const int plane = job / n, B = lo.block;
      float *d = dst[size_t(job)];
      const float *r[4];
      for (int k = 0; k < ty.count; ++k)
        r[k] = src[size_t(plane) * size_t(src_n) + size_t(ty.index[k] - src_rows.lo)];
      for (int x = 0; x < lo.width; ++x) {
        const ResizeTaps &tx = cols[size_t(x)];
        float *o = d + size_t(x) * B;
        for (int l = 0; l < B; ++l) o[l] = 0.f;
        for (int k = 0; k < ty.count; ++k) {
          const float wy = ty.weight[k];
          for (int j = 0; j < tx.count; ++j) {
            const float w = wy * tx.weight[j];
            const float *v = r[k] + size_t(tx.index[j]) * B;
            for (int l = 0; l < B; ++l) o[l] += w * v[l];
          }
        }
      }
      continue;  // padded lanes are zero in the source, so they stay zero
    }
    for (int c = 0; c < lo.channels; ++c) {
      ChannelRowOut d = channel(dst, lo, n, c, i);
      for (int x = 0; x < lo.width; ++x) {
        const ResizeTaps &tx = cols[size_t(x)];
        float acc = 0.f;
        for (int k = 0; k < ty.count; ++k) {
          ChannelRow r = channel(src, li, src_n, c, ty.index[k] - src_rows.lo);
          float row = 0.f;
          for (int j = 0; j < tx.count; ++j) row += tx.weight[j] * r.at[tx.index[j] * r.stride];
          acc += ty.weight[k] * row;
        }
        d.at[x * d.stride] = acc;
      }
    }
    zero_padding(dst, lo, n, i);
  }
}

void run_concat(const RowOpContext &ctx, const std::vector<const RowStore *> &inputs, RowStore &out,
                RowRange rows) {
  Parts parts;
  int offset = 0;
  for (const RowStore *s : inputs) {
    parts.push_back({s, offset});
    offset += s->layout().channels;
  }
  copy_rows(ctx, parts, out, rows);
}

void copy_rows(const RowOpContext &ctx, const Parts &in, RowStore &out, RowRange rows) {
  const int n = rows.size();
  const RowLayout &lo = out.layout();
  std::vector<std::vector<const float *>> src;
  for (const ChannelPart &p : in) src.push_back(read_rows(*p.store, rows, ctx.zero_row));
  const bool whole = in.size() == 1 && same_layout(in[0].store->layout(), lo);
  const int jobs = lo.planes() * n;
  if (lo.element_bytes == 2) {  // float32 -> bfloat16 (the source of a bf16 conv)
    std::vector<uint16_t *> dst;
    for (int plane = 0; plane < lo.planes(); ++plane)
      for (int y = rows.lo; y < rows.hi; ++y)
        dst.push_back(static_cast<uint16_t *>(out.row_bytes(plane, y)));
    const kernels::F32ToBf16Fn convert = kernels::select_f32_to_bf16();
    if (whole) {
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && jobs > 8)
      for (int job = 0; job < jobs; ++job)
        convert(src[0][size_t(job)], dst[size_t(job)], lo.row_elements());
      return;
    }
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && jobs > 8)
    for (int job = 0; job < jobs; ++job) {  // regroup the channels in float32, then convert
      std::vector<float> row(lo.row_elements());
      gather_plane_row(in, src, lo, n, job / n, job % n, row.data());
      convert(row.data(), dst[size_t(job)], row.size());
    }
    return;
  }
  std::vector<float *> dst = write_rows(out, rows);
  if (whole) {
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && jobs > 8)
    for (int job = 0; job < jobs; ++job)
      std::memcpy(dst[size_t(job)], src[0][size_t(job)], lo.row_elements() * sizeof(float));
    return;
  }
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && jobs > 8)
  for (int job = 0; job < jobs; ++job)
    gather_plane_row(in, src, lo, n, job / n, job % n, dst[size_t(job)]);
}

}  // namespace xunit
