// StepKind::ConvO4: a conv to at most 4 channels (a network's last layer, features -> RGB),
// kernels/conv_o4, then its post-ops.
#include <algorithm>
#include <optional>

#include "common/error.h"
#include "engine/ops/unary.h"
#include "engine/steps/step_program.h"
#include "kernels/conv_o4/conv_o4.h"

namespace xunit {

namespace {

class ConvO4Program : public StepProgram {
 public:
  explicit ConvO4Program(const StepCompile &c) {
    const Op &conv = *c.step.op;
    const ValuePlan &in = c.plan.values[size_t(c.step.inputs[0])];
    block_ = in.is_virtual() ? c.plan.simd_block : in.block;
    kernel_ = conv.kernel;
    planes_ = (conv.in_channels + block_ - 1) / block_;
    out_channels_ = conv.out_channels;
    const int taps = conv.kernel * conv.kernel;
    weights_.assign(size_t(conv.out_channels) * planes_ * taps * block_,
                    0.f);  // [o][plane][tap][lane]
    bias_.assign(size_t(conv.out_channels), 0.f);
    const float *w = c.graph.tensor(conv.weight).data;
    for (int o = 0; o < conv.out_channels; ++o) {
      for (int ch = 0; ch < conv.in_channels; ++ch)
        for (int t = 0; t < taps; ++t)
          weights_[((size_t(o) * planes_ + ch / block_) * taps + t) * block_ + ch % block_] =
              w[(size_t(o) * conv.in_channels + ch) * taps + t];
      if (conv.bias >= 0) bias_[size_t(o)] = c.graph.tensor(conv.bias).data[o];
    }
    for (const PostOp &p : c.step.post)
      post_.push_back(p.is_sum() ? std::nullopt : std::optional<UnaryFn>(UnaryFn(c.graph, *p.op)));
  }

  void run(const StepIo &io) const override {
    const RowRange rows = io.rows;
    const int r = kernel_ / 2, n = rows.size(), in_n = n + 2 * r;
    const RowLayout &lo = io.out.layout();  // planar: one plane per output channel
    // Input rows per plane, from whichever part holds the plane (a virtual concat's are aligned).
    std::vector<const float *> src(size_t(planes_) * size_t(in_n));
    for (const ChannelPart &part : io.inputs[0]) {
      XUNIT_CHECK(part.store->layout().block == block_ && part.offset % block_ == 0,
                  "internal error: conv_o4 input not plane-aligned");
      std::vector<const float *> rows_of_part =
          read_rows(*part.store, {rows.lo - r, rows.hi + r}, io.ctx.zero_row);
      std::copy(rows_of_part.begin(), rows_of_part.end(),
                src.begin() + long(part.offset / block_) * in_n);
    }
    std::vector<float *> dst = write_rows(io.out, rows);
    std::vector<const float *> addend;
    if (io.sum) addend = read_rows(*io.sum, rows, io.ctx.zero_row);
    const kernels::ConvO4Fn fn = kernels::select_conv_o4(block_);
    const int bands = std::min(n, 4 * io.ctx.threads);
#pragma omp parallel for num_threads(io.ctx.threads) \
    schedule(static) if (io.ctx.threads > 1 && bands > 1)
    for (int band = 0; band < bands; ++band) {
      const int y0 = int(long(n) * band / bands), y1 = int(long(n) * (band + 1) / bands);
      if (y0 == y1) continue;
      kernels::ConvO4Params p;
      p.in_rows = &src[size_t(y0)];
      p.in_stride = in_n;
      p.out_rows = &dst[size_t(y0)];
      p.out_stride = n;
      p.weights = weights_.data();
      p.bias = bias_.data();
      p.rows = y1 - y0;
      p.width = lo.width;
      p.kernel = kernel_;
      p.block = block_;
      p.planes = planes_;
      p.out_channels = out_channels_;
      fn(p);
      for (const std::optional<UnaryFn> &f : post_)
        for (int c = 0; c < lo.channels; ++c)
          for (int i = y0; i < y1; ++i) {
            float *d = dst[size_t(c) * n + size_t(i)];
            if (f) {
              f->apply_row(d, d, lo.width, 1, c, 1);
              continue;
            }
            ChannelRow s = channel(addend, io.sum->layout(), n, c, i);  // the Sum
            for (int x = 0; x < lo.width; ++x) d[x] += s.at[x * s.stride];
          }
    }
  }

 private:
  int kernel_ = 0, block_ = 0, planes_ = 0, out_channels_ = 0;
  std::vector<float> weights_, bias_;
  std::vector<std::optional<UnaryFn>> post_;  // nullopt: the Sum
};

}  // namespace

std::unique_ptr<StepProgram> compile_conv_o4_step(const StepCompile &c) {
  return std::make_unique<ConvO4Program>(c);
}

}  // namespace xunit
