// StepKind::Elementwise: a unary op and the unary ops fused after it, in one pass over the rows
// (engine/ops/unary.h). The input may be a virtual concat: its channels are gathered plane by
// plane where the parts were written.
#include <algorithm>

#include "engine/ops/unary.h"
#include "engine/steps/step_program.h"

namespace xunit {

namespace {

class ElementwiseProgram : public StepProgram {
 public:
  explicit ElementwiseProgram(const StepCompile &c) {
    ops_.emplace_back(c.graph, *c.step.op);
    for (const PostOp &p : c.step.post) ops_.emplace_back(c.graph, *p.op);
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
      for (const UnaryFn &f : ops_) f.apply_row(d, d, lo.width, B, c_lo, lanes);
    }
  }

 private:
  std::vector<UnaryFn> ops_;
};

}  // namespace

std::unique_ptr<StepProgram> compile_elementwise_step(const StepCompile &c) {
  return std::make_unique<ElementwiseProgram>(c);
}

}  // namespace xunit
