#include "engine/dnnl_conv.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <dnnl.hpp>
#include <optional>

#include "common/error.h"
#include "engine/dnnl_context.h"
#include "engine/ops/unary.h"
#include "kernels/isa.h"

namespace xunit {

namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

// Primitives kept per conv: a few chunk heights for each stripe width in use.
constexpr size_t kMaxCachedShapes = 64;

dnnl::engine &cpu_engine() { return dnnl_cpu_engine(); }
dnnl::stream &thread_stream() { return dnnl_thread_stream(); }
tag layout_tag(int block) { return dnnl_layout(block); }

}  // namespace

struct DnnlConv::Instance {
  dnnl::convolution_forward primitive;
  dnnl::memory::desc src_md, dst_md, weights_md;
  dnnl::memory weights;
  dnnl::memory bias;
  std::vector<std::pair<int, dnnl::memory>> binary_args;  // post-op operands
  dnnl::memory::desc scratch_md;
  size_t scratch_bytes = 0;
  std::vector<PostOp> unfused;  // applied after oneDNN's conv
  std::string implementation;
  uint64_t last_use = 0;
};

bool conv_fuses(OpType type) {
  return type == OpType::Relu || type == OpType::LeakyRelu || type == OpType::Sigmoid ||
         type == OpType::Tanh || type == OpType::Exp || type == OpType::Clip ||
         type == OpType::Softplus || type == OpType::Affine;
}

DnnlConv::DnnlConv(const Graph &graph, const Step &step, int src_block, int dst_block,
                   ConvAlgorithm algorithm, std::vector<int> out_order)
    : step_(step),
      graph_(&graph),
      src_block_(src_block),
      dst_block_(dst_block),
      algorithm_(algorithm) {
  const Op &op = *step.op;
  const int oc = op.out_channels;
  if (out_order.empty())
    for (int i = 0; i < oc; ++i) out_order.push_back(i);
  XUNIT_CHECK(int(out_order.size()) == oc, "internal error: bad output channel order");
  const size_t per_out = graph.tensor(op.weight).numel() / size_t(oc);
  const float *w = graph.tensor(op.weight).data;
  weights_.resize(graph.tensor(op.weight).numel());
  bias_.assign(size_t(oc), 0.f);
  for (int i = 0; i < oc && op.groups > 1; ++i)  // a permutation would mix the groups
    XUNIT_CHECK(out_order[size_t(i)] == i,
                "internal error: output channels of a grouped conv cannot be reordered");
  for (int i = 0; i < oc; ++i) {
    const int from = out_order[size_t(i)];
    std::copy(w + size_t(from) * per_out, w + size_t(from + 1) * per_out,
              weights_.begin() + long(size_t(i) * per_out));
    if (op.bias >= 0) bias_[size_t(i)] = graph.tensor(op.bias).data[from];
  }
  for (const PostOp &p : step.post) {
    XUNIT_CHECK(p.is_sum() || conv_fuses(p.op->type),
                "internal error: a conv step cannot apply its post-op '" + p.op->name + "'");
    if (p.is_sum() || p.op->type != OpType::Affine) continue;
    const UnaryFn f(graph, *p.op);
    const size_t n = size_t(oc);
    std::vector<float> scale(n), shift(n);
    for (int i = 0; i < oc; ++i)
      f.affine(out_order[size_t(i)], &scale[size_t(i)], &shift[size_t(i)]);
    affine_.push_back(std::move(scale));
    affine_.push_back(std::move(shift));
  }
  // Our Winograd (oneDNN 2.6 has one for AVX-512 in float32 only, no faster than ours there).
  size_t sums = 0;
  for (const PostOp &p : step.post) sums += p.is_sum();
  if (our_winograd_fits(op, step.post, algorithm) && !step.bf16 && src_block == dst_block) {
    const kernels::Products products =
        step.bf16_products ? kernels::Products::Bf16 : kernels::Products::F32;
    winograd_ = kernels::select_winograd(dst_block, products);
    if (winograd_) {
      winograd_weights_ =
          kernels::winograd_pack(weights_.data(), oc, op.in_channels, dst_block, products);
      winograd_bias_.assign(size_t((oc + dst_block - 1) / dst_block * dst_block), 0.f);
      std::copy(bias_.begin(), bias_.end(), winograd_bias_.begin());
      winograd_post_.assign(step.post.begin() + (sums ? 1 : 0), step.post.end());
    }
  }
  XUNIT_CHECK(!step.bf16_products || winograd_,
              "internal error: conv '" + op.name + "' planned with bf16 products runs no Winograd");
}

bool our_winograd_fits(const Op &op, const std::vector<PostOp> &post, ConvAlgorithm algorithm) {
  size_t sums = 0;
  for (const PostOp &p : post) sums += p.is_sum();
  const bool sum_first = sums == 0 || (sums == 1 && post[0].is_sum());
  return algorithm == ConvAlgorithm::Auto && op.type == OpType::Conv2d && op.kernel == 3 &&
         op.groups == 1 && op.in_channels >= 16 && op.out_channels >= 16 && sum_first;
}
DnnlConv::~DnnlConv() = default;

size_t DnnlConv::winograd_thread_floats() const {
  const int B = dst_block_;
  return kernels::winograd_scratch_floats((step_.op->in_channels + B - 1) / B,
                                          (step_.op->out_channels + B - 1) / B, B);
}

void DnnlConv::execute_winograd(int rows, int width, const float *src, float *dst,
                                ConvScratch scratch) const {
  const int B = dst_block_;
  const int in_planes = (step_.op->in_channels + B - 1) / B;
  const int out_planes = (step_.op->out_channels + B - 1) / B;
  const int tile_rows = (rows + 3) / 4, tile_cols = (width + 3) / 4;
  // Work items of one tile row x one batch of the kernel's tiles: enough for the threads
  // of a 32-row chunk, each item's transforms and products within L2.
  constexpr int kColsPerItem = kernels::kWinogradBatchTiles;
  const int col_items = (tile_cols + kColsPerItem - 1) / kColsPerItem;
  const int items = tile_rows * col_items;
  // Each thread's batch buffers come from the step's scratch (sized by scratch_bytes for the
  // thread count of the run, so that they are in the run's memory figure).
  const size_t per_thread = winograd_thread_floats();
  const int threads = int(std::min<size_t>(size_t(omp_get_max_threads()),
                                           scratch.bytes / (per_thread * sizeof(float))));
  XUNIT_CHECK(threads >= 1, "internal error: Winograd scratch too small");
#pragma omp parallel num_threads(threads) if (items > 1 && threads > 1)
  {
    kernels::WinogradParams p;
    p.src = src;
    p.dst = dst;
    p.weights = winograd_weights_.data();
    p.bias = winograd_bias_.data();
    p.rows = rows;
    p.width = width;
    p.block = B;
    p.in_planes = in_planes;
    p.out_planes = out_planes;
    p.accumulate = winograd_post_.size() < step_.post.size();
    p.scratch = static_cast<float *>(scratch.data) + size_t(omp_get_thread_num()) * per_thread;
#pragma omp for schedule(static)
    for (int item = 0; item < items; ++item) {
      p.tile_row_begin = item / col_items;
      p.tile_row_end = p.tile_row_begin + 1;
      p.tile_col_begin = (item % col_items) * kColsPerItem;
      p.tile_col_end = std::min(tile_cols, p.tile_col_begin + kColsPerItem);
      winograd_->fn(p);
    }
  }
  if (!winograd_post_.empty()) apply_post_ops(winograd_post_, rows, width, dst);
}

std::shared_ptr<DnnlConv::Instance> DnnlConv::instance(int rows, int width) const {
  static std::atomic<uint64_t> clock{0};
  const std::array<int, 3> key = {rows, width, omp_get_max_threads()};
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    it->second->last_use = ++clock;
    return it->second;
  }

  const Op &op = *step_.op;
  const int ic = op.in_channels, oc = op.out_channels, k = op.kernel, g = op.groups;
  const int d = op.dilation, r = d * (k / 2);
  auto inst = std::make_shared<Instance>();
  // A bf16 conv reads a bf16 source with bf16 weights, accumulates and writes in float32.
  const dt src_type = step_.bf16 ? dt::bf16 : dt::f32;
  inst->src_md = dnnl::memory::desc({1, ic, rows + 2 * r, width}, src_type, layout_tag(src_block_));
  inst->dst_md = dnnl::memory::desc({1, oc, rows, width}, dt::f32, layout_tag(dst_block_));
  dnnl::memory::dims wdims =
      g == 1 ? dnnl::memory::dims{oc, ic, k, k} : dnnl::memory::dims{g, oc / g, ic / g, k, k};
  dnnl::memory::desc wany(wdims, src_type, tag::any);
  dnnl::memory::desc bias_md({oc}, dt::f32, tag::x);
  // Rows outside the image are zero rows in the source: pad only left and right.
  dnnl::memory::dims strides = {1, 1}, dilates = {d - 1, d - 1}, pad_l = {0, r}, pad_r = {0, r};

  // oneDNN's post-ops for the first `fused` of the step's post-ops.
  auto attributes = [&](size_t fused, std::vector<std::pair<int, dnnl::memory>> *binary_args) {
    dnnl::post_ops post;
    size_t affine = 0;
    for (size_t i = 0; i < fused; ++i) {
      const PostOp &p = step_.post[i];
      const OpType type = p.is_sum() ? OpType::kCount : p.op->type;
      if (p.is_sum()) {
        post.append_sum(1.f);
      } else if (type == OpType::Relu || type == OpType::LeakyRelu) {
        post.append_eltwise(1.f, dnnl::algorithm::eltwise_relu,
                            type == OpType::Relu ? 0.f : p.op->alpha, 0.f);
      } else if (type == OpType::Sigmoid) {
        post.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f);
      } else if (type == OpType::Tanh) {
        post.append_eltwise(1.f, dnnl::algorithm::eltwise_tanh, 0.f, 0.f);
      } else if (type == OpType::Exp) {
        post.append_eltwise(1.f, dnnl::algorithm::eltwise_exp, 0.f, 0.f);
      } else if (type == OpType::Clip) {
        post.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, p.op->alpha, p.op->beta);
      } else if (type == OpType::Softplus) {
        post.append_eltwise(1.f, dnnl::algorithm::eltwise_soft_relu, 0.f, 0.f);
      } else if (type == OpType::Affine) {
        dnnl::memory::desc md({1, oc, 1, 1}, dt::f32, tag::abcd);
        for (int which = 0; which < 2; ++which, ++affine) {
          post.append_binary(which == 0 ? dnnl::algorithm::binary_mul : dnnl::algorithm::binary_add,
                             md);
          binary_args->emplace_back(
              DNNL_ARG_ATTR_MULTIPLE_POST_OP(post.len() - 1) | DNNL_ARG_SRC_1,
              dnnl::memory(md, cpu_engine(), const_cast<float *>(affine_[affine].data())));
        }
      }
    }
    dnnl::primitive_attr attr;
    attr.set_post_ops(post);
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
  };
  auto make_pd = [&](dnnl::algorithm algo, size_t fused) {
    std::vector<std::pair<int, dnnl::memory>> args;
    dnnl::primitive_attr attr = attributes(fused, &args);
    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, algo, inst->src_md,
                                         wany, bias_md, inst->dst_md, strides, dilates, pad_l,
                                         pad_r);
    dnnl::convolution_forward::primitive_desc pd(desc, attr, cpu_engine());
    inst->binary_args = std::move(args);
    inst->unfused.assign(step_.post.begin() + long(fused), step_.post.end());
    return pd;
  };
  dnnl::convolution_forward::primitive_desc pd;
  bool have_pd = false;
  if (algorithm_ == ConvAlgorithm::Auto && k == 3 && g == 1 && d == 1 && !step_.bf16) {
    // Winograd does ~2.5x less arithmetic but fuses fewer post-ops: leave a tail of element-wise
    // post-ops to apply afterwards if that is what it takes (never a Sum: its operand is gone).
    for (size_t fused = step_.post.size() + 1; fused-- > 0 && !have_pd;) {
      bool sum_left = false;
      for (size_t i = fused; i < step_.post.size(); ++i) sum_left |= step_.post[i].is_sum();
      if (sum_left) break;
      try {
        pd = make_pd(dnnl::algorithm::convolution_winograd, fused);
        have_pd = true;
      } catch (const dnnl::error &) {
        // no Winograd implementation for this shape, CPU or post-ops
      }
    }
  }
  if (!have_pd) pd = make_pd(dnnl::algorithm::convolution_direct, step_.post.size());
  inst->primitive = dnnl::convolution_forward(pd);
  inst->scratch_md = pd.scratchpad_desc();
  inst->scratch_bytes = inst->scratch_md.get_size();
  inst->implementation = pd.impl_info_str();
  inst->weights_md = pd.weights_desc();

  // Weights: share the reordered copy of an instance whose layout matches.
  for (const auto &[shape, other] : cache_)
    if (other->weights_md == inst->weights_md) inst->weights = other->weights;
  if (!inst->weights) {
    dnnl::memory::desc user_md(wdims, dt::f32, g == 1 ? tag::oihw : tag::goihw);
    dnnl::memory user(user_md, cpu_engine(), const_cast<float *>(weights_.data()));
    inst->weights = dnnl::memory(inst->weights_md, cpu_engine());
    dnnl::stream stream(cpu_engine());
    dnnl::reorder(user, inst->weights).execute(stream, user, inst->weights);
    stream.wait();
  }
  inst->bias = dnnl::memory(bias_md, cpu_engine(), const_cast<float *>(bias_.data()));
  if (cache_.size() >= kMaxCachedShapes) {
    auto oldest = cache_.begin();
    for (auto i = cache_.begin(); i != cache_.end(); ++i)
      if (i->second->last_use < oldest->second->last_use) oldest = i;
    cache_.erase(oldest);  // running executions hold their own reference
  }
  inst->last_use = ++clock;
  cache_[key] = inst;
  return inst;
}

size_t DnnlConv::scratch_bytes(int rows, int width) const {
  return winograd_ ? winograd_thread_floats() * sizeof(float) * size_t(omp_get_max_threads())
                   : instance(rows, width)->scratch_bytes;
}

std::string DnnlConv::implementation(int rows, int width) const {
  return winograd_ ? std::string("xunit_wino_") + winograd_->name
                   : instance(rows, width)->implementation;
}

void DnnlConv::execute(int rows, int width, const void *src, float *dst,
                       ConvScratch scratch) const {
  if (winograd_)
    return execute_winograd(rows, width, static_cast<const float *>(src), dst, scratch);
  std::shared_ptr<Instance> inst = instance(rows, width);
  XUNIT_CHECK(scratch.bytes >= inst->scratch_bytes, "internal error: conv scratch too small");
  dnnl::engine &eng = cpu_engine();
  dnnl::memory src_mem(inst->src_md, eng, const_cast<void *>(src));
  dnnl::memory dst_mem(inst->dst_md, eng, dst);
  std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, src_mem},
                                                {DNNL_ARG_WEIGHTS, inst->weights},
                                                {DNNL_ARG_BIAS, inst->bias},
                                                {DNNL_ARG_DST, dst_mem}};
  if (inst->scratch_bytes > 0)
    args[DNNL_ARG_SCRATCHPAD] = dnnl::memory(inst->scratch_md, eng, scratch.data);
  for (const auto &[arg, mem] : inst->binary_args) args[arg] = mem;
  dnnl::stream &stream = thread_stream();
  inst->primitive.execute(stream, args);
  stream.wait();
  if (!inst->unfused.empty()) apply_post_ops(inst->unfused, rows, width, dst);
}

void DnnlConv::apply_post_ops(const std::vector<PostOp> &ops, int rows, int width,
                              float *dst) const {
  const int oc = step_.op->out_channels, B = dst_block_, planes = (oc + B - 1) / B;
  const size_t plane_floats = size_t(rows) * size_t(width) * B;
  size_t affine = 0;  // affine_ holds (scale, shift) for every Affine post-op of the step
  for (size_t i = 0; i + ops.size() < step_.post.size(); ++i)
    affine += step_.post[i].op && step_.post[i].op->type == OpType::Affine ? 2 : 0;
  for (const PostOp &p : ops) {
    XUNIT_CHECK(!p.is_sum(), "internal error: a Sum left unfused");
    const bool is_affine = p.op->type == OpType::Affine;
    // Affine: per-lane parameters in result channel order (zero on padded lanes); the other
    // post-ops act on each value alone.
    std::vector<float> scale(size_t(planes) * B, 0.f), shift(size_t(planes) * B, 0.f);
    if (is_affine) {
      std::copy(affine_[affine].begin(), affine_[affine].end(), scale.begin());
      std::copy(affine_[affine + 1].begin(), affine_[affine + 1].end(), shift.begin());
      affine += 2;
    }
    const std::optional<UnaryFn> f =
        is_affine ? std::nullopt : std::optional<UnaryFn>(UnaryFn(*graph_, *p.op));
#pragma omp parallel for if (plane_floats * planes > (1 << 16))
    for (int plane = 0; plane < planes; ++plane) {
      float *v = dst + size_t(plane) * plane_floats;
      if (is_affine) {
        const float *a = scale.data() + size_t(plane) * B, *b = shift.data() + size_t(plane) * B;
        for (size_t i = 0; i < plane_floats; i += size_t(B))
          for (int l = 0; l < B; ++l) v[i + size_t(l)] = v[i + size_t(l)] * a[l] + b[l];
      } else {  // padded lanes stay zero (sigmoid(0) is not 0)
        const int lanes = std::min(oc, (plane + 1) * B) - plane * B;
        f->apply_row(v, v, rows * width, B, plane * B, lanes);
      }
    }
  }
}

}  // namespace xunit
