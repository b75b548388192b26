#include "engine/plan.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "common/error.h"
#include "engine/dnnl_conv.h"
#include "engine/ops/footprint.h"
#include "engine/ops/unary.h"
#include "engine/steps/pre_activation.h"
#include "kernels/pointwise/pointwise.h"

namespace xunit {

namespace {

struct Uses {
  std::vector<int> count;           // consumers per value
  std::vector<int> single_user_op;  // op index of the only consumer, or -1
};

Uses count_uses(const Graph &g) {
  Uses u;
  u.count.assign(g.values.size(), 0);
  u.single_user_op.assign(g.values.size(), -1);
  for (size_t i = 0; i < g.ops.size(); ++i)
    for (int id : g.ops[i].inputs) {
      ++u.count[size_t(id)];
      u.single_user_op[size_t(id)] = int(i);
    }
  u.count[size_t(g.output)]++;  // the graph output is a use that cannot be fused away
  for (size_t v = 0; v < g.values.size(); ++v)
    if (u.count[v] != 1) u.single_user_op[v] = -1;
  return u;
}

class Planner {
 public:
  Planner(const Graph &g, int simd_block, Precision precision, ConvAlgorithm conv_algorithm)
      : g_(g),
        uses_(count_uses(g)),
        fused_(g.ops.size(), false),
        defined_by_(g.values.size(), -1),
        precision_(precision),
        conv_algorithm_(conv_algorithm) {
    plan_.simd_block = simd_block;
    for (size_t i = 0; i < g.ops.size(); ++i) defined_by_[size_t(g.ops[i].output)] = int(i);
  }

  Plan run() {
    for (size_t i = 0; i < g_.ops.size(); ++i) {
      if (fused_[i]) continue;
      const Op &op = g_.ops[i];
      switch (op_traits(op.type).op_class) {
        case OpClass::Conv:
          plan_conv(op);
          break;
        case OpClass::Resample:
          if (op.type == OpType::PixelShuffle || op.type == OpType::PixelShuffleDcr)
            plan_shuffle(op);
          else if (op.type == OpType::ConvTranspose2d)
            add(StepKind::ConvTranspose, op);
          else
            add(op.type == OpType::Resize ? StepKind::Resize : StepKind::Upsample, op);
          break;
        case OpClass::Concat:
          add(StepKind::Concat, op);
          break;
        case OpClass::Unshuffle:
          break;  // no step: the image runner loads the stream input unshuffled
        case OpClass::RunInput:
          add(StepKind::NoiseLevelMap, op);
          break;

        case OpClass::Binary:
          add(StepKind::Binary, op);
          break;
        case OpClass::Unary:
          plan_elementwise(op);
          break;
      }
    }
    virtualize_concats();
    fuse_pointwise();
    fuse_dwgate_pre();
    assign_values();
    mark_gathers();
    return std::move(plan_);
  }

 private:
  // The op that alone consumes value `v`, if it may be fused (v is not the graph output).
  const Op *sole_consumer(int v) {
    int i = uses_.single_user_op[size_t(v)];
    return i < 0 || fused_[size_t(i)] ? nullptr : &g_.ops[size_t(i)];
  }
  void mark_fused(const Op *op) { fused_[size_t(op - g_.ops.data())] = true; }

  Step &add(StepKind kind, const Op &op) {
    Step s;
    s.kind = kind;
    s.op = &op;
    s.inputs = op.inputs;
    s.output = op.output;
    plan_.steps.push_back(s);
    return plan_.steps.back();
  }

  void plan_conv(const Op &op) {
    if (op.type == OpType::BorderConv2d) {
      // oneDNN pads with zeros; the step then adds what the repeated border contributes, before
      // anything non-linear: no post-op is fused, and its channels stay in the op's order.
      Step &s = add(StepKind::Conv, op);
      s.radius = op_radius(op, 0);
      return;
    }
    // Our kernels take taps side by side: a dilated conv runs on oneDNN.
    const bool dilated = op.dilation != 1;
    const bool depthwise = !dilated && op.groups == op.in_channels && op.groups == op.out_channels;
    const int conv_index = int(&op - g_.ops.data());
    if (depthwise) {
      const Op *gate = sole_consumer(op.output);
      // The gate's multiplicand: the dw conv's own input (xUnitS) or a value that already exists
      // where the conv runs (xUnitD gates x by a dw conv of relu(conv1x1(x))). The kernel reads
      // both in one channel layout: wide values all use the SIMD block.
      const bool fusable =
          gate && (gate->type == OpType::Gate || gate->type == OpType::GateGaussian) &&
          gate->inputs[1] == op.output && gate->inputs[0] != op.output &&
          (gate->inputs[0] == op.inputs[0] ||
           (defined_by_[size_t(gate->inputs[0])] < conv_index && op.out_channels > 4));
      if (fusable) {
        mark_fused(gate);
        Step &s = add(StepKind::DwGate, op);
        s.gate = gate;
        if (gate->inputs[0] != op.inputs[0]) s.inputs.push_back(gate->inputs[0]);
        s.radius = op_radius(op, 0);
        s.output = gate->output;
        const Op *affine = sole_consumer(gate->output);
        if (affine && affine->type == OpType::Affine) {
          mark_fused(affine);
          s.post.push_back({affine});
          s.output = affine->output;
        }
        return;
      }
    }
    // oneDNN's kernels block over output channels: for a handful of them (RGB out) ours are
    // several times faster.
    const bool few_out = !dilated && op.groups == 1 && op.out_channels <= 4 && op.in_channels > 4;
    Step &s = add(few_out ? StepKind::ConvO4 : StepKind::Conv, op);
    s.radius = op_radius(op, 0);
    for (;;) {
      const Op *next = sole_consumer(s.output);
      if (!next) break;
      if (conv_fuses(next->type)) {
        s.post.push_back({next});
      } else if (next->type == OpType::Add && s.sum_value < 0) {
        int other = next->inputs[0] == s.output ? next->inputs[1] : next->inputs[0];
        if (other == s.output) break;  // x + x
        // The step runs where the conv is: the addend must already exist there.
        if (defined_by_[size_t(other)] > conv_index) break;
        s.post.push_back({nullptr, other});
        s.sum_value = other;
      } else {
        break;
      }
      mark_fused(next);
      s.output = next->output;
    }
    // The arithmetic, once the post-ops are known. bf16 for a conv our Winograd computes means
    // bf16 products there, where the CPU has them (AVX512-BF16; its source stays float32);
    // any other conv reads a bf16 source (oneDNN's bf16 conv), except under Auto a 3x3 conv
    // left to oneDNN's float32 Winograd, which beats its bf16 direct conv.
    const bool bf16 = !few_out && (precision_ == Precision::Bf16 || precision_ == Precision::Auto);
    const bool ours = s.kind == StepKind::Conv && plan_.simd_block == 16 &&
                      our_winograd_fits(op, s.post, conv_algorithm_);
    const bool onednn_winograd = !dilated && op.kernel == 3 && op.groups == 1 &&
                                 op.in_channels > 4 && conv_algorithm_ == ConvAlgorithm::Auto &&
                                 plan_.simd_block == 16;
    s.bf16_products =
        bf16 && ours && kernels::select_winograd(16, kernels::Products::Bf16) != nullptr;
    s.bf16 =
        bf16 && !s.bf16_products && (precision_ == Precision::Bf16 || !(ours || onednn_winograd));
  }

  // Unary ops applied one after the other run as one pass over the rows.
  void plan_elementwise(const Op &op) {
    Step &s = add(StepKind::Elementwise, op);
    for (const Op *next = sole_consumer(s.output); next && is_unary(next->type);
         next = sole_consumer(s.output)) {
      mark_fused(next);
      s.post.push_back({next});
      s.output = next->output;
    }
  }

  void plan_shuffle(const Op &op) {
    if (op.type == OpType::PixelShuffleDcr) {  // already sub-pixel-major: read whole channel blocks
      Step &s = add(StepKind::PixelShuffle, op);
      s.shuffled_input = true;
      fuse_shuffle_activation(s);
      return;
    }
    // A conv planned just before, read by this shuffle alone and adding nothing to its result,
    // can store its channels in the order the shuffle reads them.
    int conv = -1;
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      const Step &prev = plan_.steps[i];
      if (prev.output == op.inputs[0] && prev.kind == StepKind::Conv && prev.sum_value < 0 &&
          prev.op->groups == 1 && prev.op->type != OpType::BorderConv2d &&
          uses_.count[size_t(op.inputs[0])] == 1)
        conv = int(i);
    }
    if (conv >= 0) plan_.steps[size_t(conv)].subpixel_factor = op.factor;
    Step &s = add(StepKind::PixelShuffle, op);
    s.shuffled_input = conv >= 0;
    fuse_shuffle_activation(s);
  }

  void fuse_shuffle_activation(Step &s) {
    const Op *next = sole_consumer(s.output);
    if (next && is_unary(next->type) && next->type != OpType::Affine) {
      mark_fused(next);
      s.post.push_back({next});
      s.output = next->output;
    }
  }

  // A concat read only by steps that can gather channels from several values (element-wise
  // steps, other concats, conv source windows, which are copied anyway) is never materialized:
  // DenseNet-style blocks then concatenate without copying (each layer reads the block's
  // outputs where they were written). Materialized concats read the parts directly.
  // Whether values laid side by side each start on a channel-block boundary of the SIMD block
  // (so that a reader can take every plane from its part in place).
  bool plane_aligned(const std::vector<int> &parts) const {
    int offset = 0;
    for (int v : parts) {
      const int c = g_.values[size_t(v)].channels;
      if (c <= 4 || offset % plan_.simd_block != 0) return false;
      offset += c;
    }
    return true;
  }

  void virtualize_concats() {
    std::vector<std::vector<int>> readers(g_.values.size());
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      const Step &s = plan_.steps[i];
      for (int v : s.inputs) readers[size_t(v)].push_back(int(i));
      if (s.sum_value >= 0) readers[size_t(s.sum_value)].push_back(int(i));
    }
    parts_.assign(g_.values.size(), {});
    std::vector<bool> removed(plan_.steps.size(), false);
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      Step &s = plan_.steps[i];
      if (s.kind != StepKind::Concat) continue;
      std::vector<int> flat;  // virtual inputs replaced by their parts
      for (int v : s.inputs) {
        if (parts_[size_t(v)].empty())
          flat.push_back(v);
        else
          flat.insert(flat.end(), parts_[size_t(v)].begin(), parts_[size_t(v)].end());
      }
      s.inputs = flat;
      bool gather_only = s.output != g_.output && !readers[size_t(s.output)].empty();
      for (int r : readers[size_t(s.output)]) {
        const Step &c = plan_.steps[size_t(r)];
        const bool as_source = c.inputs[0] == s.output && c.sum_value != s.output &&
                               std::count(c.inputs.begin(), c.inputs.end(), s.output) == 1;
        gather_only =
            gather_only && ((c.kind == StepKind::Elementwise && as_source) ||
                            c.kind == StepKind::Concat || (c.kind == StepKind::Conv && as_source) ||
                            (c.kind == StepKind::ConvO4 && as_source && plane_aligned(flat)));
      }
      if (!gather_only) continue;
      parts_[size_t(s.output)] = flat;
      removed[i] = true;
    }
    // Drop the virtual concats' steps (step indices of the others shift down).
    remove_steps(removed);
  }

  // The step that writes each value (-1: none).
  std::vector<int> producers() const {
    std::vector<int> producer(g_.values.size(), -1);
    for (size_t i = 0; i < plan_.steps.size(); ++i)
      producer[size_t(plan_.steps[i].output)] = int(i);
    return producer;
  }
  // An element-wise step's ops, in order.
  static std::vector<const Op *> unary_chain(const Step &s) {
    std::vector<const Op *> ops{s.op};
    for (const PostOp &p : s.post) ops.push_back(p.op);
    return ops;
  }
  void remove_steps(const std::vector<bool> &removed) {
    std::vector<Step> kept;
    for (size_t i = 0; i < plan_.steps.size(); ++i)
      if (!removed[i]) kept.push_back(std::move(plan_.steps[i]));
    plan_.steps = std::move(kept);
  }

  // Steps that read each value (as an input, a Sum operand, or through a virtual concat), plus
  // one for the graph output.
  std::vector<int> count_readers() const {
    std::vector<std::set<int>> readers(g_.values.size());
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      const Step &s = plan_.steps[i];
      std::vector<int> read = s.inputs;
      if (s.sum_value >= 0) read.push_back(s.sum_value);
      for (int v : read) {
        readers[size_t(v)].insert(int(i));
        for (int part : parts_[size_t(v)]) readers[size_t(part)].insert(int(i));
      }
    }
    std::vector<int> n(g_.values.size());
    for (size_t v = 0; v < n.size(); ++v) n[v] = int(readers[v].size()) + (int(v) == g_.output);
    return n;
  }

  // A 1x1 conv whose input is an element-wise step's output read by nothing else becomes one
  // Pointwise step that applies those element-wise ops on the fly (kernels/pointwise): a
  // DenseNet layer's BN -> ReLU then never writes the pre-activated tensor (as wide as the whole
  // block's concatenation) and reads it back. An element-wise step that alone reads the conv's
  // result joins as a post-op.
  void fuse_pointwise() {
    const std::vector<int> readers = count_readers(), producer = producers();
    std::vector<bool> removed(plan_.steps.size(), false);
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      Step &s = plan_.steps[i];
      const Op &op = *s.op;
      if (s.kind != StepKind::Conv || op.kernel != 1 || op.groups != 1 || op.in_channels <= 4 ||
          op.out_channels <= 4 || s.sum_value >= 0 || s.subpixel_factor || !pointwise_post(s.post))
        continue;
      const int e = producer[size_t(s.inputs[0])];
      if (e < 0 || removed[size_t(e)] || readers[size_t(s.inputs[0])] != 1) continue;
      const Step &pre = plan_.steps[size_t(e)];
      const std::vector<const Op *> ops = unary_chain(pre);
      if (pre.kind != StepKind::Elementwise || !is_pre_activation(ops)) continue;
      s.kind = StepKind::Pointwise;
      s.pre = ops;
      s.inputs = pre.inputs;
      // A conv the precision wanted in bf16 keeps bf16 as products of our kernel, where the CPU
      // has a variant for them; its source stays float32.
      s.bf16_products =
          s.bf16 && kernels::has_pointwise_variant(plan_.simd_block, kernels::Products::Bf16);
      s.bf16 = false;
      s.radius = 0;
      removed[size_t(e)] = true;
      // An element-wise step after it (the SR variant's PReLU) joins the post-ops if it fits.
      for (size_t j = i + 1; j < plan_.steps.size(); ++j) {
        const Step &next = plan_.steps[j];
        if (next.kind != StepKind::Elementwise || next.inputs[0] != s.output ||
            readers[size_t(s.output)] != 1)
          continue;
        std::vector<PostOp> post = s.post;
        post.push_back({next.op});
        post.insert(post.end(), next.post.begin(), next.post.end());
        if (!pointwise_post(post)) break;
        s.post = post;
        s.output = next.output;
        removed[j] = true;
        break;
      }
    }
    remove_steps(removed);
  }

  // An element-wise step of affines and at most one activation read only as a dw gate's source
  // (the 2018 cell: x1 * gaussian(BN(dw(relu(BN(x1)))))) runs inside the gate step on the rows
  // it reads: its tensor, written and read back once per layer, is never stored.
  void fuse_dwgate_pre() {
    const std::vector<int> readers = count_readers(), producer = producers();
    std::vector<bool> removed(plan_.steps.size(), false);
    for (Step &s : plan_.steps) {
      if (s.kind != StepKind::DwGate) continue;
      const int e = producer[size_t(s.inputs[0])];
      if (e < 0 || removed[size_t(e)] || readers[size_t(s.inputs[0])] != 1) continue;
      const Step &pre = plan_.steps[size_t(e)];
      const std::vector<const Op *> ops = unary_chain(pre);
      if (pre.kind != StepKind::Elementwise || !is_pre_activation(ops) || pre.inputs.size() != 1 ||
          !parts_[size_t(pre.inputs[0])].empty())
        continue;
      s.pre = ops;
      s.inputs[0] = pre.inputs[0];
      if (s.inputs.size() > 1 && s.inputs[1] == s.inputs[0]) {  // it gates its own source
        s.inputs.pop_back();
        s.gate_multiplies_source = true;
      }
      removed[size_t(e)] = true;
    }
    remove_steps(removed);
  }

  // ... and after: affines (folded into the weights), at most one activation, affines.
  static bool pointwise_post(const std::vector<PostOp> &post) {
    int activations = 0;
    for (const PostOp &p : post) {
      if (p.is_sum() || (p.op->type != OpType::Affine && !is_relu_like(p.op->type))) return false;
      activations += p.op->type != OpType::Affine;
    }
    return activations <= 1;
  }

  // Pointwise steps read their input's planes in place when every part of it starts on a
  // channel-block boundary in the SIMD block; otherwise they gather the channels first.
  void mark_gathers() {
    for (Step &s : plan_.steps) {
      if (s.kind != StepKind::Pointwise) continue;
      const ValuePlan &in = plan_.values[size_t(s.inputs[0])];
      std::vector<int> parts = in.is_virtual() ? in.parts : std::vector<int>{s.inputs[0]};
      int offset = 0;
      for (int v : parts) {
        if (plan_.values[size_t(v)].block != plan_.simd_block || offset % plan_.simd_block != 0)
          s.gather = true;
        offset += g_.values[size_t(v)].channels;
      }
    }
  }

  // Layout and storage of every computed value (see ValuePlan).
  void assign_values() {
    auto &vals = plan_.values;
    vals.assign(g_.values.size(), ValuePlan{});
    vals[size_t(g_.stream_input())].computed = true;
    for (size_t v = 0; v < vals.size(); ++v) vals[v].parts = parts_[v];
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      const Step &s = plan_.steps[i];
      vals[size_t(s.output)].computed = true;
      vals[size_t(s.output)].producer = int(i);
      std::vector<int> read;
      for (int v : s.inputs) {
        if (parts_[size_t(v)].empty())
          read.push_back(v);
        else
          read.insert(read.end(), parts_[size_t(v)].begin(), parts_[size_t(v)].end());
      }
      if (s.sum_value >= 0) read.push_back(s.sum_value);
      for (int v : read) {
        auto &c = vals[size_t(v)].consumers;
        if (std::find(c.begin(), c.end(), int(i)) == c.end()) c.push_back(int(i));
      }
    }
    for (size_t v = 0; v < vals.size(); ++v) {
      ValuePlan &vp = vals[v];
      if (!vp.computed) continue;
      const int channels = g_.values[v].channels;
      const Step *producer = vp.producer >= 0 ? &plan_.steps[size_t(vp.producer)] : nullptr;
      const bool conv_output = producer && producer->kind == StepKind::Conv;
      // oneDNN's fast convs want blocked destinations (padded for few channels) and planar
      // sources when there are few channels (the first layer of a network). The dw gate
      // kernels write the layout they read.
      vp.block = channels > 4 || conv_output ? plan_.simd_block : 1;
      if (producer && producer->kind == StepKind::DwGate)
        vp.block = vals[size_t(producer->inputs[0])].block;
      if (vp.consumers.size() == 1 && int(v) != g_.output && !conv_output &&
          vp.block == conv_source_block(channels, plan_.simd_block)) {
        const Step &c = plan_.steps[size_t(vp.consumers[0])];
        // The window is exactly the rows the conv reads only if nothing else (an addend with a
        // longer receptive field) holds the conv back.
        const bool in_step = g_.values[size_t(c.output)].radius == g_.values[v].radius + c.radius;
        if (c.kind == StepKind::Conv && c.inputs[0] == int(v) && c.sum_value != int(v) && in_step) {
          vp.storage = Storage::Window;
          vp.bf16 = c.bf16;
        }
      }
    }
  }

  const Graph &g_;
  Uses uses_;
  std::vector<bool> fused_;
  std::vector<int> defined_by_;  // value -> index of the op that defines it (-1: graph input)
  Precision precision_;
  ConvAlgorithm conv_algorithm_;
  std::vector<std::vector<int>> parts_;  // per value: the parts of a virtual concat
  Plan plan_;
};

}  // namespace

Plan make_plan(const Graph &graph, int simd_block, Precision precision,
               ConvAlgorithm conv_algorithm) {
  return Planner(graph, simd_block, precision, conv_algorithm).run();
}

std::string Plan::describe(const Graph &g) const {
  std::ostringstream out;
  for (const Step &s : steps) {
    out << step_kind_name(s.kind) << " " << s.op->name;
    if (s.gate) out << " +" << op_type_name(s.gate->type);
    for (const PostOp &p : s.post) out << " +" << (p.is_sum() ? "sum" : op_type_name(p.op->type));
    if (!s.pre.empty()) {
      out << " (after";
      for (const Op *op : s.pre) out << " " << op_type_name(op->type);
      out << (s.gather ? ", gathered)" : ")");
    }
    if (s.kind == StepKind::DwGate && s.inputs.size() > 1)
      out << " (gating " << g.values[size_t(s.inputs[1])].name << ")";
    if (s.gate_multiplies_source) out << " (gating its source)";
    if (s.bf16) out << " (bf16)";
    if (s.bf16_products) out << " (bf16 products)";
    const ValuePlan &v = values[size_t(s.output)];
    for (int v : s.inputs)
      if (values[size_t(v)].is_virtual())
        out << " (reads virtual " << g.values[size_t(v)].name << ")";
    out << " -> " << g.values[size_t(s.output)].name << " ["
        << (v.storage == Storage::Ring ? "ring" : "window") << ", block " << v.block << "]\n";
  }
  return out.str();
}

}  // namespace xunit
