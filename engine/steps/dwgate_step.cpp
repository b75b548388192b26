// StepKind::DwGate: the xUnit activation in one pass, kernels/dwgate: a depthwise conv, the
// gate it feeds (y = m * gate(dw(x))) and an optional affine after it.
#include <algorithm>

#include "common/error.h"
#include "engine/ops/unary.h"
#include "engine/steps/step_program.h"
#include "kernels/dwgate/dwgate.h"

namespace xunit {

namespace {

class DwGateProgram : public StepProgram {
 public:
  explicit DwGateProgram(const StepCompile &c) {
    const Op &conv = *c.step.op;
    XUNIT_CHECK(c.step.gate && (c.step.gate->type == OpType::Gate ||
                                c.step.gate->type == OpType::GateGaussian),
                "internal error: a dw gate step without its gate op");
    gate_ = c.step.gate->type == OpType::Gate ? kernels::GateFunction::Sigmoid
                                              : kernels::GateFunction::Gaussian;
    const int C = conv.out_channels, k = conv.kernel, taps = k * k;
    block_ = c.plan.values[size_t(c.step.output)].block;
    kernel_ = k;
    blocks_ = (C + block_ - 1) / block_;
    separate_multiplicand_ = c.step.inputs.size() > 1;
    const size_t lanes = size_t(blocks_) * block_;
    weights_.assign(lanes * taps, 0.f);  // [block][tap][lane], padded lanes zero
    bias_.assign(lanes, 0.f);
    const float *w = c.graph.tensor(conv.weight).data;
    const float *bias = conv.bias >= 0 ? c.graph.tensor(conv.bias).data : nullptr;
    for (int ch = 0; ch < C; ++ch) {
      const int b = ch / block_, l = ch % block_;
      for (int t = 0; t < taps; ++t)
        weights_[(size_t(b) * taps + t) * block_ + l] = w[size_t(ch) * taps + t];
      if (bias) bias_[size_t(ch)] = bias[ch];
    }
    XUNIT_CHECK(c.step.post.size() <= 1, "internal error: a dw gate takes one affine after it");
    for (const PostOp &p : c.step.post) {
      const UnaryFn f(c.graph, *p.op);
      post_scale_.assign(lanes, 0.f);
      post_shift_.assign(lanes, 0.f);
      for (int ch = 0; ch < C; ++ch)
        XUNIT_CHECK(f.affine(ch, &post_scale_[size_t(ch)], &post_shift_[size_t(ch)]),
                    "internal error: a dw gate takes only an affine after it");
    }
  }

  void run(const StepIo &io) const override {
    const RowRange rows = io.rows;
    const int r = kernel_ / 2, n = rows.size(), taps = kernel_ * kernel_;
    const int in_n = n + 2 * r;
    const RowStore &in = *io.inputs[0][0].store;
    std::vector<const float *> src = read_rows(in, {rows.lo - r, rows.hi + r}, io.ctx.zero_row);
    std::vector<const float *> mul;
    if (separate_multiplicand_) {
      const RowStore &m = *io.inputs[1][0].store;
      XUNIT_CHECK(same_layout(m.layout(), io.out.layout()),
                  "internal error: gate multiplicand in another layout");
      mul = read_rows(m, rows, io.ctx.zero_row);
    }
    std::vector<float *> dst = write_rows(io.out, rows);
    const kernels::DwGateFn fn = kernels::select_dwgate(block_, gate_);
    // Jobs of (plane, band of rows) so that one chunk keeps every thread busy.
    const int bands = std::max(1, std::min(n, (4 * io.ctx.threads + blocks_ - 1) / blocks_));
    const int jobs = blocks_ * bands;
#pragma omp parallel for num_threads(io.ctx.threads) \
    schedule(static) if (io.ctx.threads > 1 && jobs > 1)
    for (int job = 0; job < jobs; ++job) {
      const int b = job / bands, band = job % bands;
      const int y0 = int(long(n) * band / bands), y1 = int(long(n) * (band + 1) / bands);
      if (y0 == y1) continue;
      kernels::DwGateParams p;
      p.in_rows = &src[size_t(b) * size_t(in_n) + size_t(y0)];
      if (separate_multiplicand_) p.x_rows = &mul[size_t(b) * size_t(n) + size_t(y0)];
      p.out_rows = &dst[size_t(b) * size_t(n) + size_t(y0)];
      p.weights = weights_.data() + size_t(b) * taps * block_;
      p.bias = bias_.data() + size_t(b) * block_;
      if (!post_scale_.empty()) {
        p.post_scale = post_scale_.data() + size_t(b) * block_;
        p.post_shift = post_shift_.data() + size_t(b) * block_;
      }
      p.rows = y1 - y0;
      p.width = io.out.layout().width;
      p.kernel = kernel_;
      p.block = block_;
      fn(p);
    }
  }

 private:
  kernels::GateFunction gate_;
  int kernel_ = 0, block_ = 0, blocks_ = 0;
  bool separate_multiplicand_ = false;
  std::vector<float> weights_, bias_, post_scale_, post_shift_;
};

}  // namespace

std::unique_ptr<StepProgram> compile_dwgate_step(const StepCompile &c) {
  return std::make_unique<DwGateProgram>(c);
}

}  // namespace xunit
