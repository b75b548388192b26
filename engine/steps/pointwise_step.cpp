// StepKind::Pointwise: a 1x1 conv with the unary ops before it (affines, then at most one
// piecewise-linear activation) and after it (affines folded into the weights, one activation,
// affines) in one pass, kernels/pointwise: a DenseNet layer's BN -> ReLU -> conv1x1 -> BN ->
// ReLU without writing the pre-activated tensor.
#include <algorithm>

#include "common/error.h"
#include "engine/ops/unary.h"
#include "engine/steps/pre_activation.h"
#include "engine/steps/step_program.h"
#include "kernels/convert/convert.h"
#include "kernels/pointwise/pointwise.h"

namespace xunit {

namespace {

// Per-channel slopes of a piecewise-linear activation (0 on padded lanes).
std::vector<float> slopes(const UnaryFn &f, int channels, int padded) {
  std::vector<float> s(size_t(padded), 0.f);
  for (int c = 0; c < channels; ++c)
    XUNIT_CHECK(f.negative_slope(c, &s[size_t(c)]),
                "internal error: a pointwise step fuses only ReLU-like activations");
  return s;
}

class PointwiseProgram : public StepProgram {
 public:
  explicit PointwiseProgram(const StepCompile &c) : step_(c.step), graph_(c.graph) {
    const Graph &g = c.graph;
    const Op &conv = *c.step.op;
    const int C = conv.in_channels, O = conv.out_channels;
    block = c.plan.values[size_t(c.step.output)].block;
    in_planes = (C + block - 1) / block;
    out_planes = (O + block - 1) / block;
    gather_ = c.step.gather;
    src_block_ = conv_source_block(C, c.plan.simd_block);
    const size_t ldw = size_t(out_planes) * block, cp = size_t(in_planes) * block;
    weights.assign(cp * ldw, 0.f);  // [in channel][out channel]
    bias.assign(ldw, 0.f);
    const float *w = g.tensor(conv.weight).data;
    for (int o = 0; o < O; ++o) {
      for (int ch = 0; ch < C; ++ch)
        weights[size_t(ch) * ldw + size_t(o)] = w[size_t(o) * C + size_t(ch)];
      if (conv.bias >= 0) bias[size_t(o)] = g.tensor(conv.bias).data[o];
    }
    // Before: affines composed into one scale and shift, then the activation.
    PreActivation pre(g, c.step.pre, C, int(cp));
    pre_scale = std::move(pre.scale);
    pre_shift = std::move(pre.shift);
    pre_slope = pre.negative_slopes();
    // After: affines before the activation fold into weights and bias; those after it compose.
    std::vector<float> post_scale_v(ldw, 1.f), post_shift_v(ldw, 0.f);
    bool activated = false, any_post_affine = false;
    for (const PostOp &p : c.step.post) {
      XUNIT_CHECK(!p.is_sum(), "internal error: a pointwise step adds no Sum");
      const UnaryFn f(g, *p.op);
      float a, b;
      if (!f.affine(0, &a, &b)) {
        post_slope = slopes(f, O, int(ldw));
        activated = true;
        continue;
      }
      for (int o = 0; o < O; ++o) {
        f.affine(o, &a, &b);
        if (!activated) {
          for (size_t ch = 0; ch < cp; ++ch) weights[ch * ldw + size_t(o)] *= a;
          bias[size_t(o)] = bias[size_t(o)] * a + b;
        } else {
          post_scale_v[size_t(o)] *= a;
          post_shift_v[size_t(o)] = post_shift_v[size_t(o)] * a + b;
        }
      }
      any_post_affine = any_post_affine || activated;
    }
    if (any_post_affine) {
      for (size_t o = size_t(O); o < ldw; ++o) post_scale_v[o] = post_shift_v[o] = 0.f;
      post_scale = std::move(post_scale_v);
      post_shift = std::move(post_shift_v);
    }
    // bf16 products (the planner marks them only where a variant runs): the folded weights
    // rounded once, here.
    products = c.step.bf16_products ? kernels::Products::Bf16 : kernels::Products::F32;
    if (products == kernels::Products::Bf16) {
      weights_bf16 = kernels::pack_bf16_input_pairs(weights.data(), cp, ldw);
      std::vector<float>().swap(weights);  // the kernel reads only the bf16 copy
    }
    fn_ = kernels::select_pointwise(block, products);
  }

  // The kernel variant (its products say whether it computes in bf16), for the profile.
  std::string implementation(int, int) const override {
    for (const kernels::PointwiseVariant &v : kernels::pointwise_variants())
      if (v.fn == fn_) return std::string("pointwise_") + v.name;
    return fn_ == kernels::bf16_pointwise__scalar ? "pointwise_bf16__scalar"
                                                  : "pointwise_f32__scalar";
  }

  size_t pass_scratch_bytes(int rows, int width) const override {
    return gather_ ? RowStore::rows_bytes(source_layout(width), rows) : 0;
  }

  void run(const StepIo &io) const override {
    Parts parts = io.inputs[0];
    RowStore gathered;
    if (gather_) {  // the input's channels copied together into whole planes first
      gathered.init_dense(source_layout(io.out.layout().width / scale()), parts[0].store->height(),
                          io.scratch);
      gathered.set_dense_rows(io.rows);
      copy_rows(io.ctx, parts, gathered, io.rows);
      parts = {{&gathered, 0}};
    }
    run_aligned(io.ctx, parts, io.out, io.rows);
  }

  // Packed as kernels/pointwise expects (channels padded to whole blocks).
  int block = 0, in_planes = 0, out_planes = 0;
  std::vector<float> weights;  // [in_planes * block][out_planes * block]
  kernels::Products products = kernels::Products::F32;
  std::vector<uint16_t> weights_bf16;  // Bf16 products: weights packed by pack_bf16_input_pairs
  std::vector<float> bias;
  std::vector<float> pre_scale, pre_shift, pre_slope;     // empty when absent
  std::vector<float> post_slope, post_scale, post_shift;  // empty when absent

 private:
  int scale() const { return graph_.values[size_t(step_.output)].scale; }
  RowLayout source_layout(int width) const {
    const Value &in = graph_.values[size_t(step_.inputs[0])];
    return {in.channels, src_block_, width * in.scale, 4};
  }
  // `in` is plane-aligned in the block (gathered first otherwise).
  void run_aligned(const RowOpContext &ctx, const Parts &in, RowStore &out, RowRange rows) const {
    const PointwiseProgram &pp = *this;
    const int n = rows.size(), B = pp.block;
    // Row pointers of every input plane, found in whichever part holds it.
    std::vector<const float *> src(size_t(pp.in_planes) * size_t(n));
    for (const ChannelPart &part : in) {
      const RowLayout &l = part.store->layout();
      XUNIT_CHECK(l.block == B && part.offset % B == 0,
                  "internal error: pointwise input not plane-aligned");
      for (int pl = 0; pl < l.planes(); ++pl)
        for (int i = 0; i < n; ++i)
          src[size_t(part.offset / B + pl) * size_t(n) + size_t(i)] =
              part.store->row(pl, rows.lo + i);
    }
    std::vector<float *> dst = write_rows(out, rows);
    const int width = out.layout().width;
    // Jobs of (row, band of columns): enough to keep every thread busy on a short chunk.
    const int bands = std::max(1, std::min(width / 16, (2 * ctx.threads + n - 1) / n));
    const int jobs = n * bands;
#pragma omp parallel for num_threads(ctx.threads) schedule(static) if (ctx.threads > 1 && jobs > 1)
    for (int job = 0; job < jobs; ++job) {
      const int i = job / bands, band = job % bands;
      const int x0 = int(long(width) * band / bands), x1 = int(long(width) * (band + 1) / bands);
      if (x0 == x1) continue;
      std::vector<const float *> in_rows(size_t(pp.in_planes));
      std::vector<float *> out_rows(size_t(pp.out_planes));
      for (int pl = 0; pl < pp.in_planes; ++pl)
        in_rows[size_t(pl)] = src[size_t(pl) * size_t(n) + size_t(i)] + size_t(x0) * B;
      for (int q = 0; q < pp.out_planes; ++q)
        out_rows[size_t(q)] = dst[size_t(q) * size_t(n) + size_t(i)] + size_t(x0) * B;
      kernels::PointwiseParams p;
      p.in_rows = in_rows.data();
      p.out_rows = out_rows.data();
      p.weights = pp.products == kernels::Products::Bf16
                      ? static_cast<const void *>(pp.weights_bf16.data())
                      : static_cast<const void *>(pp.weights.data());
      p.bias = pp.bias.data();
      if (!pp.pre_scale.empty())
        p.pre_scale = pp.pre_scale.data(), p.pre_shift = pp.pre_shift.data();
      if (!pp.pre_slope.empty()) p.pre_slope = pp.pre_slope.data();
      if (!pp.post_slope.empty()) p.post_slope = pp.post_slope.data();
      if (!pp.post_scale.empty())
        p.post_scale = pp.post_scale.data(), p.post_shift = pp.post_shift.data();
      p.rows = 1;
      p.width = x1 - x0;
      p.block = B;
      p.in_planes = pp.in_planes;
      p.out_planes = pp.out_planes;
      thread_local std::vector<float> scratch;
      scratch.resize(size_t(kernels::pointwise_scratch_floats(p)));
      p.scratch = scratch.data();
      fn_(p);
    }
  }

  const Step &step_;
  const Graph &graph_;
  bool gather_ = false;
  int src_block_ = 0;
  kernels::PointwiseFn fn_ = nullptr;
};

}  // namespace

std::unique_ptr<StepProgram> compile_pointwise_step(const StepCompile &c) {
  return std::make_unique<PointwiseProgram>(c);
}

}  // namespace xunit
