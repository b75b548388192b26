#include "engine/dnnl_conv.h"

#include <dnnl.hpp>
#include <omp.h>

#include <atomic>

#include <cstdlib>

#include "common/error.h"
#include "kernels/isa.h"

namespace xunit {

namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

// Primitives kept per conv: a few chunk heights for each stripe width in use.
constexpr size_t kMaxCachedShapes = 64;

dnnl::engine &cpu_engine() {
  static dnnl::engine engine = [] {
    // XUNIT_ISA lowers oneDNN's instruction set as well as ours, so that a forced path is the
    // whole path. It must happen before oneDNN generates any code.
    kernels::Isa isa;
    const char *forced = std::getenv("XUNIT_ISA");
    if (forced && kernels::parse_isa(forced, &isa) && isa != kernels::Isa::Avx512)
      dnnl::set_max_cpu_isa(isa == kernels::Isa::Avx2 ? dnnl::cpu_isa::avx2 : dnnl::cpu_isa::sse41);
    return dnnl::engine(dnnl::engine::kind::cpu, 0);
  }();
  return engine;
}

dnnl::stream &thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

tag layout_tag(int block) {
  switch (block) {
    case 16: return tag::nChw16c;
    case 8: return tag::nChw8c;
    case 1: return tag::nchw;
    default: throw Error("internal error: no oneDNN layout for channel block " + std::to_string(block));
  }
}

}  // namespace

struct DnnlConv::Instance {
  dnnl::convolution_forward primitive;
  dnnl::memory::desc src_md, dst_md, weights_md;
  dnnl::memory weights;
  dnnl::memory bias;
  std::vector<std::pair<int, dnnl::memory>> binary_args;  // post-op operands
  dnnl::memory::desc scratch_md;
  size_t scratch_bytes = 0;
  std::string implementation;
  uint64_t last_use = 0;
};

DnnlConv::DnnlConv(const Graph &graph, const Step &step, int src_block, int dst_block, ConvAlgorithm algorithm)
    : graph_(graph), step_(step), src_block_(src_block), dst_block_(dst_block), algorithm_(algorithm) {}
DnnlConv::~DnnlConv() = default;

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
  const int ic = op.in_channels, oc = op.out_channels, k = op.kernel, g = op.groups, r = k / 2;
  auto inst = std::make_shared<Instance>();
  inst->src_md = dnnl::memory::desc({1, ic, rows + 2 * r, width}, dt::f32, layout_tag(src_block_));
  inst->dst_md = dnnl::memory::desc({1, oc, rows, width}, dt::f32, layout_tag(dst_block_));
  dnnl::memory::dims wdims = g == 1 ? dnnl::memory::dims{oc, ic, k, k}
                                    : dnnl::memory::dims{g, oc / g, ic / g, k, k};
  dnnl::memory::desc wany(wdims, dt::f32, tag::any);
  dnnl::memory::desc bias_md({oc}, dt::f32, tag::x);
  // Rows outside the image are zero rows in the source: pad only left and right.
  dnnl::memory::dims strides = {1, 1}, pad_l = {0, r}, pad_r = {0, r};

  dnnl::post_ops post;
  std::vector<std::pair<int, dnnl::memory>> binary_args;
  for (const PostOp &p : step_.post) {
    switch (p.kind) {
      case PostOp::Relu: post.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f); break;
      case PostOp::LeakyRelu: post.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, p.alpha, 0.f); break;
      case PostOp::Sigmoid: post.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f); break;
      case PostOp::Sum: post.append_sum(1.f); break;
      case PostOp::Affine: {
        dnnl::memory::desc md({1, oc, 1, 1}, dt::f32, tag::abcd);
        for (int which = 0; which < 2; ++which) {
          post.append_binary(which == 0 ? dnnl::algorithm::binary_mul : dnnl::algorithm::binary_add, md);
          const float *data = graph_.tensor(which == 0 ? p.scale : p.shift).data;
          binary_args.emplace_back(DNNL_ARG_ATTR_MULTIPLE_POST_OP(post.len() - 1) | DNNL_ARG_SRC_1,
                                   dnnl::memory(md, cpu_engine(), const_cast<float *>(data)));
        }
        break;
      }
    }
  }
  inst->binary_args = std::move(binary_args);
  dnnl::primitive_attr attr;
  attr.set_post_ops(post);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

  auto make_pd = [&](dnnl::algorithm algo) {
    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, algo, inst->src_md, wany,
                                         bias_md, inst->dst_md, strides, pad_l, pad_r);
    return dnnl::convolution_forward::primitive_desc(desc, attr, cpu_engine());
  };
  dnnl::convolution_forward::primitive_desc pd;
  bool have_pd = false;
  if (algorithm_ == ConvAlgorithm::Auto && k == 3 && g == 1) {
    try {
      pd = make_pd(dnnl::algorithm::convolution_winograd);
      have_pd = true;
    } catch (const dnnl::error &) {
      // no Winograd implementation for this shape or CPU: use the direct conv
    }
  }
  if (!have_pd) pd = make_pd(dnnl::algorithm::convolution_direct);
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
    dnnl::memory user(user_md, cpu_engine(), const_cast<float *>(graph_.tensor(op.weight).data));
    inst->weights = dnnl::memory(inst->weights_md, cpu_engine());
    dnnl::stream stream(cpu_engine());
    dnnl::reorder(user, inst->weights).execute(stream, user, inst->weights);
    stream.wait();
  }
  for (const auto &[shape, other] : cache_)
    if (other->bias) inst->bias = other->bias;
  if (!inst->bias) {
    if (op.bias >= 0) {
      inst->bias = dnnl::memory(bias_md, cpu_engine(), const_cast<float *>(graph_.tensor(op.bias).data));
    } else {
      inst->bias = dnnl::memory(bias_md, cpu_engine());
      float *b = static_cast<float *>(inst->bias.get_data_handle());
      for (int i = 0; i < oc; ++i) b[i] = 0.f;
    }
  }
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

size_t DnnlConv::scratch_bytes(int rows, int width) const { return instance(rows, width)->scratch_bytes; }

std::string DnnlConv::implementation(int rows, int width) const { return instance(rows, width)->implementation; }

void DnnlConv::execute(int rows, int width, const float *src, float *dst, ConvScratch scratch) const {
  std::shared_ptr<Instance> inst = instance(rows, width);
  check(scratch.bytes >= inst->scratch_bytes, "internal error: conv scratch too small");
  dnnl::engine &eng = cpu_engine();
  dnnl::memory src_mem(inst->src_md, eng, const_cast<float *>(src));
  dnnl::memory dst_mem(inst->dst_md, eng, dst);
  std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, src_mem},
                                                {DNNL_ARG_WEIGHTS, inst->weights},
                                                {DNNL_ARG_BIAS, inst->bias},
                                                {DNNL_ARG_DST, dst_mem}};
  if (inst->scratch_bytes > 0) args[DNNL_ARG_SCRATCHPAD] = dnnl::memory(inst->scratch_md, eng, scratch.data);
  for (const auto &[arg, mem] : inst->binary_args) args[arg] = mem;
  dnnl::stream &stream = thread_stream();
  inst->primitive.execute(stream, args);
  stream.wait();
}

}  // namespace xunit
