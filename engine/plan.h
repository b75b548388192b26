// The execution plan: the graph's ops fused into steps, each step bound to an implementation,
// plus the buffer slots the steps read and write. Shape-independent: one plan per model serves
// every tile size.
#pragma once
#include <string>
#include <vector>

#include "engine/graph.h"

namespace xunit {

enum class StepKind {
  Conv,          // dense/grouped conv via oneDNN, with fused post-ops
  DwGate,        // depthwise conv + bias + sigmoid + multiply (+ affine), kernels/dwgate
  Elementwise,   // affine / relu / leaky relu / prelu / sigmoid on one input
  Binary,        // add / mul / gate on two inputs
  PixelShuffle,  // optionally followed by an activation
  Upsample,      // bilinear
  Concat,
};

// Post-operations applied in order to a conv's result (they become oneDNN post-ops).
struct PostOp {
  enum Kind { Relu, LeakyRelu, Sigmoid, Affine, Sum } kind;
  float alpha = 0.f;  // LeakyRelu slope
  int scale = -1, shift = -1;  // Affine tensors
  int value = -1;              // Sum: the value added
};

struct Step {
  StepKind kind = StepKind::Elementwise;
  const Op *op = nullptr;     // the main op: conv, dw conv, elementwise, binary, ...
  std::vector<int> inputs;    // value ids read
  int output = -1;            // value id written
  std::vector<PostOp> post;   // Conv: fused post-ops
  int sum_value = -1;         // Conv: the value a Sum post-op adds (its data is copied into the
                              // output buffer first, unless the output reuses its slot)
  const Op *post_affine = nullptr;  // DwGate: an Affine fused after the gate
  const Op *activation = nullptr;   // PixelShuffle: an activation fused after the shuffle
};

struct Plan {
  std::vector<Step> steps;
  std::vector<int> slot_of_value;  // value id -> buffer slot (-1: not materialised)
  int slot_count = 0;
  std::string describe(const Graph &graph) const;  // one line per step, for --verbose / tests
};

Plan make_plan(const Graph &graph);

// Channel blocking of a value in the engine's layout: values with more than 4 channels are
// stored nChw16c (channels padded to 16); smaller ones are plain interleaved (nhwc), which is
// the same formula with a single block of `channels` lanes.
inline int channel_block(int channels) { return channels > 4 ? 16 : channels; }
inline int padded_channels(int channels) {
  int b = channel_block(channels);
  return (channels + b - 1) / b * b;
}

}  // namespace xunit
