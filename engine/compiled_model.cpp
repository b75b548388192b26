#include "engine/compiled_model.h"

#include <algorithm>

namespace xunit {

namespace {

std::unique_ptr<PackedGate> pack_gate(const Graph &g, const Step &s) {
  const Op &conv = *s.op;
  const int C = conv.out_channels, k = conv.kernel;
  auto pg = std::make_unique<PackedGate>();
  pg->kernel = k;
  pg->block = channel_block(C);
  pg->blocks = (C + pg->block - 1) / pg->block;
  const int B = pg->block, taps = k * k;
  pg->weights.assign(size_t(pg->blocks) * taps * B, 0.f);
  pg->bias.assign(size_t(pg->blocks) * B, 0.f);
  const float *w = g.tensor(conv.weight).data;
  const float *bias = conv.bias >= 0 ? g.tensor(conv.bias).data : nullptr;
  for (int c = 0; c < C; ++c) {
    const int b = c / B, l = c % B;
    for (int t = 0; t < taps; ++t) pg->weights[(size_t(b) * taps + t) * B + l] = w[size_t(c) * taps + t];
    if (bias) pg->bias[size_t(b) * B + l] = bias[c];
  }
  if (s.post_affine) {
    pg->post_scale.assign(pg->bias.size(), 0.f);
    pg->post_shift.assign(pg->bias.size(), 0.f);
    for (int c = 0; c < C; ++c) {
      pg->post_scale[c] = g.tensor(s.post_affine->scale).data[c];
      pg->post_shift[c] = g.tensor(s.post_affine->shift).data[c];
    }
  }
  return pg;
}

}  // namespace

CompiledModel::CompiledModel(Graph graph, std::shared_ptr<const void> storage)
    : storage_(std::move(storage)), graph_(std::move(graph)) {
  plan_ = make_plan(graph_);
  convs_.resize(plan_.steps.size());
  gates_.resize(plan_.steps.size());
  for (size_t i = 0; i < plan_.steps.size(); ++i) {
    const Step &s = plan_.steps[i];
    if (s.kind == StepKind::Conv) convs_[i] = std::make_unique<DnnlConv>(graph_, s);
    if (s.kind == StepKind::DwGate) gates_[i] = pack_gate(graph_, s);
  }
}

std::vector<size_t> CompiledModel::slot_floats(int h, int w) const {
  std::vector<size_t> sizes(size_t(plan_.slot_count), 0);
  for (size_t v = 0; v < graph_.values.size(); ++v) {
    int slot = plan_.slot_of_value[v];
    if (slot < 0) continue;
    const Value &val = graph_.values[v];
    size_t n = size_t(padded_channels(val.channels)) * size_t(h) * val.scale * size_t(w) * val.scale;
    sizes[size_t(slot)] = std::max(sizes[size_t(slot)], n);
  }
  return sizes;
}

}  // namespace xunit
