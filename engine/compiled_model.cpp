#include "engine/compiled_model.h"

#include <cstdlib>
#include <cstring>

#include "common/error.h"
#include "kernels/isa.h"

namespace xunit {

namespace {

std::unique_ptr<PackedGate> pack_gate(const Graph &g, const Step &s, int block) {
  const Op &conv = *s.op;
  const int C = conv.out_channels, k = conv.kernel, taps = k * k;
  auto pg = std::make_unique<PackedGate>();
  pg->kernel = k;
  pg->block = block;
  pg->blocks = (C + block - 1) / block;
  const size_t lanes = size_t(pg->blocks) * block;
  pg->weights.assign(lanes * taps, 0.f);
  pg->bias.assign(lanes, 0.f);
  const float *w = g.tensor(conv.weight).data;
  const float *bias = conv.bias >= 0 ? g.tensor(conv.bias).data : nullptr;
  for (int c = 0; c < C; ++c) {
    const int b = c / block, l = c % block;
    for (int t = 0; t < taps; ++t)
      pg->weights[(size_t(b) * taps + t) * block + l] = w[size_t(c) * taps + t];
    if (bias) pg->bias[size_t(c)] = bias[c];
  }
  if (s.post_affine) {
    pg->post_scale.assign(lanes, 0.f);
    pg->post_shift.assign(lanes, 0.f);
    for (int c = 0; c < C; ++c) {
      pg->post_scale[size_t(c)] = g.tensor(s.post_affine->scale).data[c];
      pg->post_shift[size_t(c)] = g.tensor(s.post_affine->shift).data[c];
    }
  }
  return pg;
}

std::unique_ptr<PackedConvO4> pack_conv_o4(const Graph &g, const Step &s, int block) {
  const Op &conv = *s.op;
  const int taps = conv.kernel * conv.kernel;
  auto pc = std::make_unique<PackedConvO4>();
  pc->kernel = conv.kernel;
  pc->block = block;
  pc->planes = (conv.in_channels + block - 1) / block;
  pc->out_channels = conv.out_channels;
  pc->weights.assign(size_t(conv.out_channels) * pc->planes * taps * block, 0.f);
  pc->bias.assign(size_t(conv.out_channels), 0.f);
  const float *w = g.tensor(conv.weight).data;
  for (int o = 0; o < conv.out_channels; ++o) {
    for (int c = 0; c < conv.in_channels; ++c)
      for (int t = 0; t < taps; ++t)
        pc->weights[((size_t(o) * pc->planes + c / block) * taps + t) * block + c % block] =
            w[(size_t(o) * conv.in_channels + c) * taps + t];
    if (conv.bias >= 0) pc->bias[size_t(o)] = g.tensor(conv.bias).data[o];
  }
  return pc;
}

// The slope of an activation op or post-op, per channel (ReLU 0, leaky alpha, PReLU its slopes).
std::vector<float> slopes(const Graph &g, OpType type, float alpha, int slope_tensor, int channels,
                          int padded) {
  std::vector<float> s(size_t(padded), 0.f);
  for (int c = 0; c < channels; ++c) {
    if (type == OpType::LeakyRelu) s[size_t(c)] = alpha;
    if (type == OpType::PRelu) {
      const Tensor &t = g.tensor(slope_tensor);
      s[size_t(c)] = t.data[t.numel() == 1 ? 0 : c];
    }
  }
  return s;
}

std::unique_ptr<PackedPointwise> pack_pointwise(const Graph &g, const Step &s, int block) {
  const Op &conv = *s.op;
  const int C = conv.in_channels, O = conv.out_channels;
  auto pp = std::make_unique<PackedPointwise>();
  pp->block = block;
  pp->in_planes = (C + block - 1) / block;
  pp->out_planes = (O + block - 1) / block;
  const size_t ldw = size_t(pp->out_planes) * block, cp = size_t(pp->in_planes) * block;
  pp->weights.assign(cp * ldw, 0.f);
  pp->bias.assign(ldw, 0.f);
  const float *w = g.tensor(conv.weight).data;
  for (int o = 0; o < O; ++o) {
    for (int c = 0; c < C; ++c)
      pp->weights[size_t(c) * ldw + size_t(o)] = w[size_t(o) * C + size_t(c)];
    if (conv.bias >= 0) pp->bias[size_t(o)] = g.tensor(conv.bias).data[o];
  }
  // Before: affines compose into one scale and shift, then the activation.
  std::vector<float> scale(cp, 1.f), shift(cp, 0.f);
  bool any_affine = false;
  for (const Op *op : s.pre) {
    if (op->type == OpType::Affine) {
      any_affine = true;
      for (int c = 0; c < C; ++c) {
        const float a = g.tensor(op->scale).data[c], b = g.tensor(op->shift).data[c];
        scale[size_t(c)] *= a;
        shift[size_t(c)] = shift[size_t(c)] * a + b;
      }
    } else {
      pp->pre_slope = slopes(g, op->type, op->alpha, op->slope, C, int(cp));
    }
  }
  if (any_affine) {
    for (size_t c = size_t(C); c < cp; ++c) scale[c] = shift[c] = 0.f;
    pp->pre_scale = std::move(scale);
    pp->pre_shift = std::move(shift);
  }
  // After: affines before the activation fold into weights and bias; those after it compose.
  std::vector<float> post_scale(ldw, 1.f), post_shift(ldw, 0.f);
  bool activated = false, any_post_affine = false;
  for (const PostOp &p : s.post) {
    if (p.kind == PostOp::Affine) {
      const float *a = g.tensor(p.scale).data, *b = g.tensor(p.shift).data;
      for (int o = 0; o < O; ++o) {
        if (!activated) {
          for (size_t c = 0; c < cp; ++c) pp->weights[c * ldw + size_t(o)] *= a[o];
          pp->bias[size_t(o)] = pp->bias[size_t(o)] * a[o] + b[o];
        } else {
          post_scale[size_t(o)] *= a[o];
          post_shift[size_t(o)] = post_shift[size_t(o)] * a[o] + b[o];
        }
      }
      any_post_affine = any_post_affine || activated;
    } else {
      const OpType type = p.kind == PostOp::Relu        ? OpType::Relu
                          : p.kind == PostOp::LeakyRelu ? OpType::LeakyRelu
                                                        : OpType::PRelu;
      pp->post_slope = slopes(g, type, p.alpha, p.slope, O, int(ldw));
      activated = true;
    }
  }
  if (any_post_affine) {
    for (size_t o = size_t(O); o < ldw; ++o) post_scale[o] = post_shift[o] = 0.f;
    pp->post_scale = std::move(post_scale);
    pp->post_shift = std::move(post_shift);
  }
  return pp;
}

}  // namespace

int default_simd_block() { return kernels::active_isa() >= kernels::Isa::Avx512 ? 16 : 8; }

CompiledModel::CompiledModel(Graph graph, std::shared_ptr<const void> storage,
                             CompileOptions options)
    : storage_(std::move(storage)), graph_(std::make_shared<const Graph>(std::move(graph))) {
  compile(options);
}

CompiledModel::CompiledModel(const CompiledModel &other, CompileOptions options)
    : storage_(other.storage_), graph_(other.graph_) {
  compile(options);
}

void CompiledModel::compile(CompileOptions options) {
  const Graph &graph = *graph_;
  const int block = options.simd_block ? options.simd_block : default_simd_block();
  XUNIT_CHECK(block == 8 || block == 16, "internal error: channel block must be 8 or 16");
  if (const char *algo = std::getenv("XUNIT_CONV_ALGORITHM"))
    if (std::strcmp(algo, "direct") == 0) options.conv_algorithm = ConvAlgorithm::Direct;
  const kernels::Isa isa = kernels::active_isa();
  if (options.precision == Precision::Bf16 && (isa < kernels::Isa::Avx512 || block != 16))
    throw UnsupportedError("bf16 precision needs an AVX-512 CPU (this one runs " +
                           std::string(kernels::isa_name(isa)) + ")");
  if (options.precision == Precision::Auto && (isa < kernels::Isa::Avx512Bf16 || block != 16))
    options.precision = Precision::Fp32;
  precision_ = options.precision;
  plan_ = make_plan(graph, block, options.precision);
  convs_.resize(plan_.steps.size());
  gates_.resize(plan_.steps.size());
  convs_o4_.resize(plan_.steps.size());
  pointwise_.resize(plan_.steps.size());
  for (size_t i = 0; i < plan_.steps.size(); ++i) {
    const Step &s = plan_.steps[i];
    if (s.kind == StepKind::Conv) {
      std::vector<int> order;  // result channel i = op channel order[i]
      if (const int f = s.subpixel_factor) {
        const int c = s.op->out_channels / (f * f);
        for (int sub = 0; sub < f * f; ++sub)
          for (int ch = 0; ch < c; ++ch) order.push_back(ch * f * f + sub);
      }
      convs_[i] = std::make_unique<DnnlConv>(graph, s, conv_source_block(i),
                                             plan_.values[size_t(s.output)].block,
                                             options.conv_algorithm, std::move(order));
    }
    if (s.kind == StepKind::DwGate)
      gates_[i] = pack_gate(graph, s, plan_.values[size_t(s.output)].block);
    if (s.kind == StepKind::Pointwise)
      pointwise_[i] = pack_pointwise(graph, s, plan_.values[size_t(s.output)].block);
    if (s.kind == StepKind::ConvO4)
      convs_o4_[i] = pack_conv_o4(graph, s,
                                  plan_.values[size_t(s.inputs[0])].is_virtual()
                                      ? plan_.simd_block
                                      : plan_.values[size_t(s.inputs[0])].block);
  }
}

int CompiledModel::conv_source_block(size_t step) const {
  const Step &s = plan_.steps[step];
  return xunit::conv_source_block(graph_->values[size_t(s.inputs[0])].channels, plan_.simd_block);
}

}  // namespace xunit
