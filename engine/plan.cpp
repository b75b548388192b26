#include "engine/plan.h"

#include <algorithm>
#include <sstream>

#include "common/error.h"

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

bool is_activation(OpType t) {
  return t == OpType::Relu || t == OpType::LeakyRelu || t == OpType::Sigmoid;
}

PostOp activation_post(const Op &op) {
  PostOp p;
  p.kind = op.type == OpType::Relu        ? PostOp::Relu
           : op.type == OpType::LeakyRelu ? PostOp::LeakyRelu
                                          : PostOp::Sigmoid;
  p.alpha = op.alpha;
  return p;
}

class Planner {
 public:
  Planner(const Graph &g, int simd_block, Precision precision)
      : g_(g), uses_(count_uses(g)), fused_(g.ops.size(), false), defined_by_(g.values.size(), -1),
        precision_(precision) {
    plan_.simd_block = simd_block;
    for (size_t i = 0; i < g.ops.size(); ++i) defined_by_[size_t(g.ops[i].output)] = int(i);
  }

  Plan run() {
    for (size_t i = 0; i < g_.ops.size(); ++i) {
      if (fused_[i]) continue;
      const Op &op = g_.ops[i];
      switch (op.type) {
        case OpType::Conv2d: plan_conv(op); break;
        case OpType::PixelShuffle: plan_shuffle(op); break;
        case OpType::UpsampleBilinear: add(StepKind::Upsample, op); break;
        case OpType::Concat: add(StepKind::Concat, op); break;
        case OpType::Gate:
        case OpType::Add:
        case OpType::Mul: add(StepKind::Binary, op); break;
        default: add(StepKind::Elementwise, op); break;
      }
    }
    assign_values();
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
    const bool depthwise = op.groups == op.in_channels && op.groups == op.out_channels;
    if (depthwise) {
      const Op *gate = sole_consumer(op.output);
      if (gate && gate->type == OpType::Gate && gate->inputs[0] == op.inputs[0] &&
          gate->inputs[1] == op.output) {
        mark_fused(gate);
        Step &s = add(StepKind::DwGate, op);
        s.radius = op.kernel / 2;
        s.output = gate->output;
        const Op *affine = sole_consumer(gate->output);
        if (affine && affine->type == OpType::Affine) {
          mark_fused(affine);
          s.post_affine = affine;
          s.output = affine->output;
        }
        return;
      }
    }
    // oneDNN's kernels block over output channels: for a handful of them (RGB out) ours are
    // several times faster.
    const bool few_out = op.groups == 1 && op.out_channels <= 4 && op.in_channels > 4;
    Step &s = add(few_out ? StepKind::ConvO4 : StepKind::Conv, op);
    s.radius = op.kernel / 2;
    const bool winograd = op.kernel == 3 && op.groups == 1 && op.in_channels > 4 && plan_.simd_block == 16;
    s.bf16 = !few_out && (precision_ == Precision::Bf16 || (precision_ == Precision::Auto && !winograd));
    const int conv_index = int(&op - g_.ops.data());
    for (;;) {
      const Op *next = sole_consumer(s.output);
      if (!next) break;
      if (is_activation(next->type)) {
        s.post.push_back(activation_post(*next));
      } else if (next->type == OpType::Affine) {
        PostOp p{PostOp::Affine};
        p.scale = next->scale;
        p.shift = next->shift;
        s.post.push_back(p);
      } else if (next->type == OpType::Add && s.sum_value < 0) {
        int other = next->inputs[0] == s.output ? next->inputs[1] : next->inputs[0];
        if (other == s.output) break;  // x + x
        // The step runs where the conv is: the addend must already exist there.
        if (defined_by_[size_t(other)] > conv_index) break;
        PostOp p{PostOp::Sum};
        p.value = other;
        s.post.push_back(p);
        s.sum_value = other;
      } else {
        break;
      }
      mark_fused(next);
      s.output = next->output;
    }
  }

  void plan_shuffle(const Op &op) {
    // A conv planned just before, read by this shuffle alone and adding nothing to its result,
    // can store its channels in the order the shuffle reads them.
    int conv = -1;
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      const Step &prev = plan_.steps[i];
      if (prev.output == op.inputs[0] && prev.kind == StepKind::Conv && prev.sum_value < 0 &&
          prev.op->groups == 1 && uses_.count[size_t(op.inputs[0])] == 1)
        conv = int(i);
    }
    if (conv >= 0) plan_.steps[size_t(conv)].subpixel_factor = op.factor;
    Step &s = add(StepKind::PixelShuffle, op);
    s.shuffled_input = conv >= 0;
    const Op *next = sole_consumer(op.output);
    if (next && (is_activation(next->type) || next->type == OpType::PRelu)) {
      mark_fused(next);
      s.activation = next;
      s.output = next->output;
    }
  }

  // Layout and storage of every computed value (see ValuePlan).
  void assign_values() {
    auto &vals = plan_.values;
    vals.assign(g_.values.size(), ValuePlan{});
    vals[size_t(g_.input)].computed = true;
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      const Step &s = plan_.steps[i];
      vals[size_t(s.output)].computed = true;
      vals[size_t(s.output)].producer = int(i);
      std::vector<int> read = s.inputs;
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
      if (producer && producer->kind == StepKind::DwGate) vp.block = vals[size_t(producer->inputs[0])].block;
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
  Plan plan_;
};

}  // namespace

Plan make_plan(const Graph &graph, int simd_block, Precision precision) {
  return Planner(graph, simd_block, precision).run();
}

std::string Plan::describe(const Graph &g) const {
  static const char *kKinds[] = {"conv", "conv_o4", "dwgate", "elementwise", "binary", "pixel_shuffle",
                                 "upsample", "concat"};
  std::ostringstream out;
  for (const Step &s : steps) {
    out << kKinds[int(s.kind)] << " " << s.op->name;
    for (const PostOp &p : s.post) {
      static const char *kPost[] = {"relu", "leaky_relu", "sigmoid", "affine", "sum"};
      out << " +" << kPost[p.kind];
    }
    if (s.post_affine) out << " +affine";
    if (s.bf16) out << " (bf16)";
    if (s.activation) out << " +" << op_type_name(s.activation->type);
    const ValuePlan &v = values[size_t(s.output)];
    out << " -> " << g.values[size_t(s.output)].name << " [" << (v.storage == Storage::Ring ? "ring" : "window")
        << ", block " << v.block << "]\n";
  }
  return out.str();
}

}  // namespace xunit
