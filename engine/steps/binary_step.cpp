// StepKind::Binary: an element-wise op of two tensors (engine/ops/binary.h).
#include "engine/ops/binary.h"
#include "engine/steps/step_program.h"

namespace xunit {

namespace {

class BinaryProgram : public StepProgram {
 public:
  explicit BinaryProgram(const StepCompile &c) : type_(c.step.op->type) {}

  void run(const StepIo &io) const override {
    const RowRange rows = io.rows;
    const RowStore &a = *io.inputs[0][0].store, &b = *io.inputs[1][0].store;
    const int n = rows.size();
    const RowLayout &la = a.layout(), &lb = b.layout(), &lo = io.out.layout();
    std::vector<const float *> sa = read_rows(a, rows, io.ctx.zero_row),
                               sb = read_rows(b, rows, io.ctx.zero_row);
    std::vector<float *> dst = write_rows(io.out, rows);
    const OpType type = type_;
    if (same_layout(la, lo) && same_layout(lb, lo) && binary_keeps_zero_lanes(type)) {
      // Whole rows: the padded lanes are zero in both sources and stay zero.
      const size_t floats = lo.row_elements();
      const int jobs = lo.planes() * n;
#pragma omp parallel for num_threads(io.ctx.threads) if (io.ctx.threads > 1 && jobs > 1)
      for (int job = 0; job < jobs; ++job)
        for (size_t k = 0; k < floats; ++k)
          dst[size_t(job)][k] = binary_eval(type, sa[size_t(job)][k], sb[size_t(job)][k]);
      return;
    }
#pragma omp parallel for num_threads(io.ctx.threads) if (io.ctx.threads > 1 && n > 1)
    for (int i = 0; i < n; ++i) {
      for (int c = 0; c < lo.channels; ++c) {
        ChannelRow u = channel(sa, la, n, c, i), v = channel(sb, lb, n, c, i);
        ChannelRowOut d = channel(dst, lo, n, c, i);
        for (int x = 0; x < lo.width; ++x)
          d.at[x * d.stride] = binary_eval(type, u.at[x * u.stride], v.at[x * v.stride]);
      }
      zero_padding(dst, lo, n, i);
    }
  }

 private:
  OpType type_;
};

}  // namespace

std::unique_ptr<StepProgram> compile_binary_step(const StepCompile &c) {
  return std::make_unique<BinaryProgram>(c);
}

}  // namespace xunit
