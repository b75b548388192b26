// StepKind::Elementwise: a unary op and the unary ops fused after it, in one pass over the rows
// (engine/ops/unary.h); a BatchNorm -> ReLU-like chain composed into one affine and activation
// (engine/steps/pre_activation.h, kernels/affine_act). The input may be a virtual concat: its
// channels are gathered plane by plane where the parts were written.
#include <algorithm>
#include <optional>

#include "engine/ops/unary.h"
#include "engine/steps/pre_activation.h"
#include "engine/steps/step_program.h"

namespace xunit {

namespace {

class ElementwiseProgram : public StepProgram {
 public:
  explicit ElementwiseProgram(const StepCompile &c) {
    std::vector<const Op *> chain{c.step.op};
    for (const PostOp &p : c.step.post) chain.push_back(p.op);
    for (const Op *op : chain) ops_.emplace_back(c.graph, *op);
    if (is_pre_activation(chain)) {
      const int C = c.graph.values[size_t(c.step.output)].channels;
      const int B = c.plan.values[size_t(c.step.output)].block;
      composed_.emplace(c.graph, chain, C, (C + B - 1) / B * B);
    }
  }

  void run(const StepIo &io) const override {
    const Parts &in = io.inputs[0];
    const RowRange rows = io.rows;
    const int n = rows.size();
    const RowLayout &lo = io.out.layout();
    const int B = lo.block;
    std::vector<std::vector<const float *>> src;
    for (const ChannelPart &p : in) src.push_back(read_rows(*p.store, rows, io.ctx.zero_row));
    std::vector<float *> dst = write_rows(io.out, rows);
    // One job per output plane row: it gathers that plane's channels from whichever parts hold
    // them (a concat read in place), then applies the ops there, while the row is in L1.
    const int jobs = lo.planes() * n;
#pragma omp parallel for num_threads(io.ctx.threads) if (io.ctx.threads > 1 && jobs > 1)
    for (int job = 0; job < jobs; ++job) {
      const int plane = job / n, c_lo = plane * B;
      float *d = dst[size_t(job)];
      gather_plane_row(in, src, lo, n, plane, job % n, d);
      const int lanes = std::min(lo.channels, c_lo + B) - c_lo;  // padded lanes stay zero
      if (composed_)  // (padded lanes: scale and shift 0 keep them 0)
        composed_->apply_row(d, d, lo.width, B, c_lo);
      else
        for (const UnaryFn &f : ops_) f.apply_row(d, d, lo.width, B, c_lo, lanes);
    }
  }

 private:
  std::vector<UnaryFn> ops_;
  std::optional<PreActivation> composed_;  // the ops as one affine and activation, if they are
};

}  // namespace

std::unique_ptr<StepProgram> compile_elementwise_step(const StepCompile &c) {
  return std::make_unique<ElementwiseProgram>(c);
}

}  // namespace xunit
