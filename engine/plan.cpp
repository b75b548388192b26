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
  explicit Planner(const Graph &g) : g_(g), uses_(count_uses(g)), fused_(g.ops.size(), false) {}

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
    assign_slots();
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
    Step &s = add(StepKind::Conv, op);
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
    Step &s = add(StepKind::PixelShuffle, op);
    const Op *next = sole_consumer(op.output);
    if (next && (is_activation(next->type) || next->type == OpType::PRelu)) {
      mark_fused(next);
      s.activation = next;
      s.output = next->output;
    }
  }

  // Liveness-based slot assignment. A conv whose Sum operand dies at that step writes into the
  // operand's slot (the residual is accumulated in place, no copy).
  void assign_slots() {
    const auto &steps = plan_.steps;
    std::vector<int> last_use(g_.values.size(), -1);
    for (size_t i = 0; i < steps.size(); ++i) {
      for (int v : steps[i].inputs) last_use[size_t(v)] = int(i);
      if (steps[i].sum_value >= 0) last_use[size_t(steps[i].sum_value)] = int(i);
    }
    last_use[size_t(g_.output)] = int(steps.size());
    auto &slot = plan_.slot_of_value;
    slot.assign(g_.values.size(), -1);
    std::vector<int> free_slots;
    auto take = [&]() {
      if (!free_slots.empty()) {
        int s = free_slots.back();
        free_slots.pop_back();
        return s;
      }
      return plan_.slot_count++;
    };
    slot[size_t(g_.input)] = take();
    for (size_t i = 0; i < steps.size(); ++i) {
      const Step &s = steps[i];
      const bool sum_is_input =
          std::find(s.inputs.begin(), s.inputs.end(), s.sum_value) != s.inputs.end();
      if (s.sum_value >= 0 && !sum_is_input && last_use[size_t(s.sum_value)] == int(i) &&
          channel_block(g_.values[size_t(s.sum_value)].channels) ==
              channel_block(g_.values[size_t(s.output)].channels) &&
          s.sum_value != g_.input) {
        slot[size_t(s.output)] = slot[size_t(s.sum_value)];
        last_use[size_t(s.sum_value)] = -2;  // ownership moved to the output
      } else {
        slot[size_t(s.output)] = take();
      }
      // Release inputs that die here (after choosing the output slot: no step works in place
      // except the Sum case above).
      std::vector<int> dying;
      for (int v : s.inputs) dying.push_back(v);
      if (s.sum_value >= 0) dying.push_back(s.sum_value);
      for (int v : dying)
        if (last_use[size_t(v)] == int(i)) {
          free_slots.push_back(slot[size_t(v)]);
          last_use[size_t(v)] = -2;
        }
    }
  }

  const Graph &g_;
  Uses uses_;
  std::vector<bool> fused_;
  Plan plan_;
};

}  // namespace

Plan make_plan(const Graph &graph) { return Planner(graph).run(); }

std::string Plan::describe(const Graph &g) const {
  static const char *kKinds[] = {"conv", "dwgate", "elementwise", "binary", "pixel_shuffle",
                                 "upsample", "concat"};
  std::ostringstream out;
  for (const Step &s : steps) {
    out << kKinds[int(s.kind)] << " " << s.op->name;
    for (const PostOp &p : s.post) {
      static const char *kPost[] = {"relu", "leaky_relu", "sigmoid", "affine", "sum"};
      out << " +" << kPost[p.kind];
    }
    if (s.post_affine) out << " +affine";
    if (s.activation) out << " +" << op_type_name(s.activation->type);
    out << " -> " << g.values[size_t(s.output)].name << " [slot " << slot_of_value[size_t(s.output)]
        << "]\n";
  }
  return out.str();
}

}  // namespace xunit
