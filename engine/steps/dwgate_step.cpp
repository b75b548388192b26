// StepKind::DwGate: the xUnit activation in one pass, kernels/dwgate: a depthwise conv, the
// gate it feeds (y = m * gate(dw(x))) and an optional affine after it; with pre ops (affines and
// an activation before the dw conv, engine/plan.cpp) the source rows are pre-activated into a
// ring of `kernel` rows per thread as the kernel walks down, one row at a time.
#include <omp.h>

#include <algorithm>

#include "common/error.h"
#include "engine/ops/unary.h"
#include "engine/steps/pre_activation.h"
#include "engine/steps/step_program.h"
#include "kernels/dwgate/dwgate.h"

namespace xunit {

namespace {

class DwGateProgram : public StepProgram {
 public:
  explicit DwGateProgram(const StepCompile &c)
      : pre_(c.graph, c.step.pre, c.step.op->out_channels, padded_channels(c)),
        gate_multiplies_source_(c.step.gate_multiplies_source),
        scale_(c.graph.values[size_t(c.step.output)].scale) {
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

  size_t pass_scratch_bytes(int rows, int width) const override {
    return pre_.empty()
               ? 0
               : ring_floats(width * scale_) * sizeof(float) * size_t(omp_get_max_threads());
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
    const int width = io.out.layout().width;
    XUNIT_CHECK(
        pre_.empty() || (in.layout().block == block_ && io.ctx.threads <= omp_get_max_threads()),
        "internal error: dw gate pre-activation scratch");
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
      p.width = width;
      p.kernel = kernel_;
      p.block = block_;
      if (pre_.empty()) {
        fn(p);
      } else {
        float *ring =
            static_cast<float *>(io.scratch) + size_t(omp_get_thread_num()) * ring_floats(width);
        run_pre_activated(fn, p, b, io.ctx.zero_row, ring);
      }
    }
  }

 private:
  static int padded_channels(const StepCompile &c) {
    const int B = c.plan.values[size_t(c.step.output)].block;
    return (c.step.op->out_channels + B - 1) / B * B;
  }
  size_t ring_floats(int width) const { return size_t(kernel_) * size_t(width) * size_t(block_); }

  // `p` as for the plain run, its source rows raw: each source row is pre-activated once into
  // the ring (rows of zeros, the padding above and below the image, stay zero) and the kernel
  // runs one output row at a time on the ring's window.
  void run_pre_activated(kernels::DwGateFn fn, kernels::DwGateParams p, int plane,
                         const float *zero_row, float *ring) const {
    const int k = kernel_, r = k / 2, rows = p.rows;
    const size_t row_floats = size_t(p.width) * size_t(block_);
    const float *const *raw = p.in_rows;  // rows + k - 1 source rows
    const float *const *mul = p.x_rows;
    float *const *out = p.out_rows;
    std::vector<const float *> window(static_cast<size_t>(k));
    int next = 0;  // the next source row to pre-activate
    p.rows = 1;
    for (int y = 0; y < rows; ++y) {
      for (; next < y + k; ++next)
        if (raw[next] != zero_row)
          pre_.apply_row(raw[next], ring + size_t(next % k) * row_floats, p.width, block_,
                         plane * block_);
      for (int t = 0; t < k; ++t)
        window[t] = raw[y + t] == zero_row ? zero_row : ring + size_t((y + t) % k) * row_floats;
      p.in_rows = window.data();
      // The multiplicand: its own rows, the raw source (the 2018 cell) or, when neither, the
      // pre-activated centre row (the kernel's default).
      p.x_rows = mul ? mul + y : gate_multiplies_source_ ? raw + y + r : nullptr;
      p.out_rows = out + y;
      fn(p);
    }
  }

  PreActivation pre_;
  bool gate_multiplies_source_ = false;
  int scale_ = 1;
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
