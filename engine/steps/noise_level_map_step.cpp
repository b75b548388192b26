// StepKind::NoiseLevelMap: the noise_level_map op, the rows of a pass filled with one constant,
// scale * sigma (the run's noise level, StepIo::params). No image-sized map is ever made.
//
// Zero padding comes out as PyTorch's conv of the concatenated map has it: a stripe's columns
// all lie inside the image (its halo is clipped at the image's sides; past an inner side, the
// halo's own columns absorb what the conv's padding there gets wrong, as for every value), and
// rows outside the image are never written, readers get zero rows there (row_access.h).
#include "engine/steps/step_program.h"

namespace xunit {

namespace {

class NoiseLevelMapProgram : public StepProgram {
 public:
  explicit NoiseLevelMapProgram(const StepCompile &c) : scale_(c.step.op->level_scale) {}

  void run(const StepIo &io) const override {
    const float level = scale_ * io.params.noise_level;
    const RowLayout &lo = io.out.layout();  // one channel: one plane, lane 0 (others padding)
    std::vector<float *> dst = write_rows(io.out, io.rows);
    for (float *row : dst)
      for (int x = 0; x < lo.width; ++x)
        for (int lane = 0; lane < lo.block; ++lane)
          row[size_t(x) * lo.block + lane] = lane == 0 ? level : 0.f;
  }

 private:
  float scale_;
};

}  // namespace

std::unique_ptr<StepProgram> compile_noise_level_map_step(const StepCompile &c) {
  return std::make_unique<NoiseLevelMapProgram>(c);
}

}  // namespace xunit
