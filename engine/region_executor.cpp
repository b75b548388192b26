#include "engine/region_executor.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <new>

#include "common/error.h"
#include "engine/step_ops.h"
#include "kernels/dwgate/dwgate.h"

namespace xunit {

namespace {
constexpr size_t kAlign = 64;
size_t round_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

size_t conv_scratch_bytes(const CompiledModel &model, int h, int w) {
  size_t bytes = 0;
  const auto &steps = model.plan().steps;
  for (size_t i = 0; i < steps.size(); ++i)
    if (const DnnlConv *conv = model.conv(i)) {
      int s = model.graph().values[size_t(steps[i].inputs[0])].scale;
      bytes = std::max(bytes, conv->scratch_bytes(h * s, w * s));
    }
  return round_up(bytes);
}
}  // namespace

Arena::~Arena() { std::free(data_); }

void *Arena::get(size_t bytes) {
  if (bytes <= capacity_) return data_;
  std::free(data_);
  data_ = nullptr;
  capacity_ = 0;
  void *p = std::aligned_alloc(kAlign, round_up(std::max<size_t>(bytes, kAlign)));
  if (!p) throw std::bad_alloc();
  data_ = p;
  capacity_ = bytes;
  return p;
}

size_t RegionExecutor::arena_bytes(const CompiledModel &model, int h, int w) {
  size_t total = conv_scratch_bytes(model, h, w);
  for (size_t floats : model.slot_floats(h, w)) total += round_up(floats * sizeof(float));
  return total;
}

RegionExecutor::RegionExecutor(const CompiledModel &model, int h, int w, Arena &arena)
    : model_(model), h_(h), w_(w) {
  std::vector<size_t> sizes = model.slot_floats(h, w);
  size_t scratch = conv_scratch_bytes(model, h, w);
  size_t total = scratch;
  for (size_t floats : sizes) total += round_up(floats * sizeof(float));
  char *base = static_cast<char *>(arena.get(total));
  for (size_t floats : sizes) {
    slots_.push_back(reinterpret_cast<float *>(base));
    base += round_up(floats * sizeof(float));
  }
  scratch_ = {base, scratch};
}

BlockedTensor RegionExecutor::value(int id) const {
  const Value &v = model_.graph().values[size_t(id)];
  int slot = model_.plan().slot_of_value[size_t(id)];
  return BlockedTensor::make(slots_[size_t(slot)], v.channels, h_ * v.scale, w_ * v.scale);
}

void RegionExecutor::run(int threads, const std::function<bool(size_t, size_t)> &between_steps) {
  const size_t n = model_.plan().steps.size();
  for (size_t i = 0; i < n; ++i) {
    run_step(i, threads);
    if (between_steps && !between_steps(i + 1, n)) return;
  }
}

void RegionExecutor::run_step(size_t index, int threads) {
  const Graph &g = model_.graph();
  const Step &s = model_.plan().steps[index];
  BlockedTensor out = value(s.output);
  BlockedTensor in = value(s.inputs[0]);
  const bool parallel = threads > 1 && !omp_in_parallel();
  switch (s.kind) {
    case StepKind::Conv: {
      if (s.sum_value >= 0) {
        BlockedTensor addend = value(s.sum_value);
        if (addend.data != out.data) copy_tensor(addend, out);
      }
      model_.conv(index)->execute(in.height, in.width, in.data, out.data, scratch_);
      break;
    }
    case StepKind::DwGate: {
      const PackedGate &pg = *model_.gate(index);
      const kernels::DwGateFn fn = kernels::select_dwgate(pg.block);
      const int taps = pg.kernel * pg.kernel;
      // Parallel over (channel block, row band) so one big region still uses every core.
      const int bands = parallel ? std::max(1, std::min(in.height, 4 * threads / pg.blocks + 1)) : 1;
      const int jobs = pg.blocks * bands;
#pragma omp parallel for num_threads(threads) schedule(static) if (parallel && jobs > 1)
      for (int job = 0; job < jobs; ++job) {
        const int b = job / bands, band = job % bands;
        kernels::DwGateParams p;
        p.input = in.pixel(b, 0, 0);
        p.output = out.pixel(b, 0, 0);
        p.weights = pg.weights.data() + size_t(b) * taps * pg.block;
        p.bias = pg.bias.data() + size_t(b) * pg.block;
        if (!pg.post_scale.empty()) {
          p.post_scale = pg.post_scale.data() + size_t(b) * pg.block;
          p.post_shift = pg.post_shift.data() + size_t(b) * pg.block;
        }
        p.height = in.height;
        p.width = in.width;
        p.kernel = pg.kernel;
        p.block = pg.block;
        p.row_begin = int(long(in.height) * band / bands);
        p.row_end = int(long(in.height) * (band + 1) / bands);
        fn(p);
      }
      break;
    }
    case StepKind::Elementwise: run_elementwise(g, *s.op, in, out); break;
    case StepKind::Binary: run_binary(s.op->type, in, value(s.inputs[1]), out); break;
    case StepKind::PixelShuffle: run_pixel_shuffle(g, s.op->factor, s.activation, in, out); break;
    case StepKind::Upsample: run_upsample_bilinear(s.op->factor, in, out); break;
    case StepKind::Concat: {
      std::vector<BlockedTensor> inputs;
      for (int v : s.inputs) inputs.push_back(value(v));
      run_concat(inputs.data(), int(inputs.size()), out);
      break;
    }
  }
}

}  // namespace xunit
