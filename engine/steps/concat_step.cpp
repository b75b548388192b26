// StepKind::Concat: a channel concatenation that is materialized (most are not: the planner
// lets their readers gather the parts in place, see engine/plan.h).
#include "engine/steps/step_program.h"

namespace xunit {

namespace {

class ConcatProgram : public StepProgram {
 public:
  void run(const StepIo &io) const override {
    Parts parts;
    int offset = 0;
    for (const Parts &in : io.inputs)
      for (const ChannelPart &p : in) {
        parts.push_back({p.store, offset});
        offset += p.store->layout().channels;
      }
    copy_rows(io.ctx, parts, io.out, io.rows);
  }
};

}  // namespace

std::unique_ptr<StepProgram> compile_concat_step(const StepCompile &) {
  return std::make_unique<ConcatProgram>();
}

}  // namespace xunit
