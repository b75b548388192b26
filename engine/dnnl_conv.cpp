#include "engine/dnnl_conv.h"

#include <dnnl.hpp>

#include "common/error.h"

namespace xunit {

namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::engine &cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream &thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

tag layout_tag(int channels) { return channel_block(channels) == 16 ? tag::nChw16c : tag::nhwc; }

}  // namespace

struct DnnlConv::Instance {
  dnnl::convolution_forward primitive;
  dnnl::memory::desc src_md, dst_md;
  dnnl::memory weights;
  dnnl::memory bias;
  std::vector<std::pair<int, dnnl::memory>> binary_args;  // post-op operands
  dnnl::memory::desc scratch_md;
  size_t scratch_bytes = 0;
};

DnnlConv::DnnlConv(const Graph &graph, const Step &step) : graph_(graph), step_(step) {}
DnnlConv::~DnnlConv() = default;

std::shared_ptr<DnnlConv::Instance> DnnlConv::instance(int h, int w) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = cache_.find({h, w});
  if (it != cache_.end()) return it->second;

  const Op &op = *step_.op;
  const int ic = op.in_channels, oc = op.out_channels, k = op.kernel, g = op.groups;
  auto inst = std::make_shared<Instance>();
  inst->src_md = dnnl::memory::desc({1, ic, h, w}, dt::f32, layout_tag(ic));
  inst->dst_md = dnnl::memory::desc({1, oc, h, w}, dt::f32, layout_tag(oc));
  dnnl::memory::dims wdims = g == 1 ? dnnl::memory::dims{oc, ic, k, k}
                                    : dnnl::memory::dims{g, oc / g, ic / g, k, k};
  dnnl::memory::desc wany(wdims, dt::f32, tag::any);
  dnnl::memory::desc bias_md({oc}, dt::f32, tag::x);
  dnnl::memory::dims strides = {1, 1}, pad = {k / 2, k / 2};
  dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                       dnnl::algorithm::convolution_direct, inst->src_md, wany,
                                       bias_md, inst->dst_md, strides, pad, pad);
  dnnl::post_ops post;
  for (const PostOp &p : step_.post) {
    switch (p.kind) {
      case PostOp::Relu: post.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f); break;
      case PostOp::LeakyRelu:
        post.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, p.alpha, 0.f);
        break;
      case PostOp::Sigmoid:
        post.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f);
        break;
      case PostOp::Sum: post.append_sum(1.f); break;
      case PostOp::Affine: {
        dnnl::memory::desc md({1, oc, 1, 1}, dt::f32, tag::abcd);
        for (int which = 0; which < 2; ++which) {
          post.append_binary(which == 0 ? dnnl::algorithm::binary_mul : dnnl::algorithm::binary_add, md);
          const float *data = graph_.tensor(which == 0 ? p.scale : p.shift).data;
          int index = post.len() - 1;
          inst->binary_args.emplace_back(
              DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1,
              dnnl::memory(md, cpu_engine(), const_cast<float *>(data)));
        }
        break;
      }
    }
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(post);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::convolution_forward::primitive_desc pd(desc, attr, cpu_engine());
  inst->primitive = dnnl::convolution_forward(pd);
  inst->scratch_md = pd.scratchpad_desc();
  inst->scratch_bytes = inst->scratch_md.get_size();

  // Weights: reuse an existing instance's reordered copy when the layout matches.
  for (const auto &[shape, other] : cache_)
    if (other->weights.get_desc() == pd.weights_desc()) inst->weights = other->weights;
  if (!inst->weights) {
    dnnl::memory::desc user_md(wdims, dt::f32, g == 1 ? tag::oihw : tag::goihw);
    dnnl::memory user(user_md, cpu_engine(), const_cast<float *>(graph_.tensor(op.weight).data));
    inst->weights = dnnl::memory(pd.weights_desc(), cpu_engine());
    dnnl::stream stream(cpu_engine());
    dnnl::reorder(user, inst->weights).execute(stream, user, inst->weights);
    stream.wait();
  }
  if (op.bias >= 0) {
    inst->bias = dnnl::memory(bias_md, cpu_engine(), const_cast<float *>(graph_.tensor(op.bias).data));
  } else {
    inst->bias = dnnl::memory(bias_md, cpu_engine());
    float *b = static_cast<float *>(inst->bias.get_data_handle());
    for (int i = 0; i < oc; ++i) b[i] = 0.f;
  }
  cache_[{h, w}] = inst;
  return inst;
}

size_t DnnlConv::scratch_bytes(int h, int w) const { return instance(h, w)->scratch_bytes; }

void DnnlConv::execute(int h, int w, const float *src, float *dst, ConvScratch scratch) const {
  std::shared_ptr<Instance> inst = instance(h, w);
  check(scratch.bytes >= inst->scratch_bytes, "internal error: conv scratch too small");
  dnnl::engine &eng = cpu_engine();
  dnnl::memory src_mem(inst->src_md, eng, const_cast<float *>(src));
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
}

}  // namespace xunit
