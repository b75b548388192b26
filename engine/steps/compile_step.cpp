#include <iterator>

#include "common/error.h"
#include "engine/steps/step_program.h"

namespace xunit {

namespace {
constexpr const char *kStepKindNames[] = {
    "conv",     "conv_o4", "dwgate", "elementwise", "binary",         "pixel_shuffle",
    "upsample", "concat",  "resize", "pointwise",   "conv_transpose", "noise_level_map"};
static_assert(std::size(kStepKindNames) == size_t(StepKind::kCount), "one name per step kind");
}  // namespace

const char *step_kind_name(StepKind kind) {
  XUNIT_CHECK(size_t(kind) < std::size(kStepKindNames), "internal error: bad step kind");
  return kStepKindNames[size_t(kind)];
}

std::unique_ptr<StepProgram> compile_step(const StepCompile &c) {
  switch (c.step.kind) {
    case StepKind::Conv:
      return compile_conv_step(c);
    case StepKind::ConvO4:
      return compile_conv_o4_step(c);
    case StepKind::DwGate:
      return compile_dwgate_step(c);
    case StepKind::Elementwise:
      return compile_elementwise_step(c);
    case StepKind::Binary:
      return compile_binary_step(c);
    case StepKind::PixelShuffle:
      return compile_pixel_shuffle_step(c);
    case StepKind::Upsample:
      return compile_upsample_step(c);
    case StepKind::Concat:
      return compile_concat_step(c);
    case StepKind::Resize:
      return compile_resize_step(c);
    case StepKind::Pointwise:
      return compile_pointwise_step(c);
    case StepKind::ConvTranspose:
      return compile_conv_transpose_step(c);
    case StepKind::NoiseLevelMap:
      return compile_noise_level_map_step(c);
    case StepKind::kCount:
      break;
  }
  throw Error("internal error: no program for step kind " + std::to_string(int(c.step.kind)));
}

}  // namespace xunit
