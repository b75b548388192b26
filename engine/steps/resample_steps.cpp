// The resampling steps: StepKind::PixelShuffle (CRD or DCR order, then the unary ops fused
// after it), StepKind::Upsample (bilinear) and StepKind::Resize. Which source rows they read is
// the op's footprint (engine/ops/footprint.h); columns are clamped at the stripe's edges: inside
// a stripe those columns lie in the halo and are never kept.
#include <algorithm>

#include "engine/ops/footprint.h"
#include "engine/ops/unary.h"
#include "engine/resize_taps.h"
#include "engine/steps/step_program.h"

namespace xunit {

namespace {

class PixelShuffleProgram : public StepProgram {
 public:
  explicit PixelShuffleProgram(const StepCompile &c)
      : op_(*c.step.op), shuffled_input_(c.step.shuffled_input) {
    for (const PostOp &p : c.step.post) post_.emplace_back(c.graph, *p.op);
  }

  void run(const StepIo &io) const override {
    const RowOpContext &ctx = io.ctx;
    const RowStore &in = *io.inputs[0][0].store;
    RowStore &out = io.out;
    const RowRange rows = io.rows;
    const int f = op_.factor;
    const bool shuffled_input = shuffled_input_;

    const int n = rows.size();
    const RowLayout &li = in.layout(), &lo = out.layout();
    const RowRange src_rows = op_source_rows(op_, rows, in.height());
    const int src_n = src_rows.size();
    std::vector<const float *> src = read_rows(in, src_rows, ctx.zero_row);
    std::vector<float *> dst = write_rows(out, rows);
    const int C = lo.channels;
    // Source channel of output channel c at sub-pixel s.
    auto source = [&](int c, int s) { return shuffled_input ? s * C + c : c * f * f + s; };
    if (shuffled_input && li.block == lo.block && C % lo.block == 0) {
      // Whole blocks: output block p at sub-pixel s is input block s * C / B + p, lane for lane.
      const int B = lo.block, planes = lo.planes();
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
          for (int x = dx; x < lo.width; x += f, v += B, o += step)
            for (int l = 0; l < B; ++l) o[l] = v[l];
        }
        // The fused ops, on the row while it is in L1 (padded lanes: zero from the source).
        const int lanes = std::min(C, (p + 1) * B) - p * B;
        for (const UnaryFn &op : post_) op.apply_row(d, d, lo.width, B, p * B, lanes);
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
            d.at[x * d.stride] = v;
          }
        }
      }
      zero_padding(dst, lo, n, i);
      for (int p = 0; p < lo.planes(); ++p) {
        float *d = dst[size_t(p) * n + size_t(i)];
        const int lanes = std::min(C, (p + 1) * lo.block) - p * lo.block;
        for (const UnaryFn &op : post_) op.apply_row(d, d, lo.width, lo.block, p * lo.block, lanes);
      }
    }
  }

 private:
  const Op &op_;
  bool shuffled_input_;
  std::vector<UnaryFn> post_;
};

class UpsampleProgram : public StepProgram {
 public:
  explicit UpsampleProgram(const StepCompile &c) : op_(*c.step.op) {}

  void run(const StepIo &io) const override {
    const RowOpContext &ctx = io.ctx;
    const RowStore &in = *io.inputs[0][0].store;
    RowStore &out = io.out;
    const RowRange rows = io.rows;
    const int f = op_.factor;

    const int n = rows.size();
    const RowLayout &li = in.layout(), &lo = out.layout();
    const RowRange src_rows = op_source_rows(op_, rows, in.height());
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

 private:
  const Op &op_;
};

class ResizeProgram : public StepProgram {
 public:
  explicit ResizeProgram(const StepCompile &c) : op_(*c.step.op) {}

  void run(const StepIo &io) const override {
    const RowOpContext &ctx = io.ctx;
    const RowStore &in = *io.inputs[0][0].store;
    RowStore &out = io.out;
    const RowRange rows = io.rows;
    const Op &op = op_;

    const int n = rows.size();
    const RowLayout &li = in.layout(), &lo = out.layout();
    const RowRange src_rows = op_source_rows(op, rows, in.height());
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

 private:
  const Op &op_;
};

}  // namespace

std::unique_ptr<StepProgram> compile_pixel_shuffle_step(const StepCompile &c) {
  return std::make_unique<PixelShuffleProgram>(c);
}
std::unique_ptr<StepProgram> compile_upsample_step(const StepCompile &c) {
  return std::make_unique<UpsampleProgram>(c);
}
std::unique_ptr<StepProgram> compile_resize_step(const StepCompile &c) {
  return std::make_unique<ResizeProgram>(c);
}

}  // namespace xunit
