// Helpers shared by the family builders: typed access to state-dict tensors (shape-checked,
// tracking which keys were used) and graph-building steps with BatchNorm folding.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "converter/state_dict.h"
#include "engine/graph.h"

namespace xunit::convert {

class WeightSource {
 public:
  explicit WeightSource(const StateDict &dict);
  bool has(const std::string &key) const;
  // The tensor under `key`, marked used. `shape` entries of -1 match any size.
  const NamedTensor &take(const std::string &key, const std::vector<int64_t> &shape);
  // Shape of a tensor without marking it used (for inferring hyper-parameters).
  std::vector<int64_t> shape_of(const std::string &key) const;
  // The shape of a conv weight [out, in / groups, k, k]: rank 4 and square, or an error naming it.
  std::vector<int64_t> conv_shape(const std::string &key) const;
  // Errors on keys never taken (num_batches_tracked is ignored).
  void expect_all_used(const std::string &family) const;
  // Largest i such that "<prefix>.<i>." starts some key, or -1.
  int max_index(const std::string &prefix) const;

 private:
  const StateDict &dict_;
  std::set<std::string> used_;
};

struct BatchNorm {
  std::vector<float> scale, shift;  // y = x * scale + shift (inference mode)
};

// Reads "<prefix>.weight/bias/running_mean/running_var" of a BatchNorm with `channels` channels.
BatchNorm take_batchnorm(WeightSource &w, const std::string &prefix, int channels, float eps);

class GraphBuilder {
 public:
  GraphBuilder(Graph &graph, WeightSource &weights) : g_(graph), w_(weights) {}

  // conv k x k from "<prefix>.weight" (+ "<prefix>.bias" when present). A BatchNorm that follows
  // the conv is folded into its weights and bias (exact everywhere, borders included).
  int conv(const std::string &prefix, int input, int out_channels, int kernel, int groups = 1,
           const BatchNorm *fold_after = nullptr);
  // A BatchNorm before a conv cannot be folded exactly (zero padding comes after it), so it stays
  // an affine op; the engine fuses it into the producer of its input.
  int affine(const std::string &name, int input, const BatchNorm &bn);
  int unary(OpType type, int input, const std::string &name, float alpha = 0.f);
  int binary(OpType type, int a, int b, const std::string &name);
  // nn.PReLU from "<prefix>.weight": one shared slope [1] or one per channel [C].
  int prelu(const std::string &prefix, int input);
  int concat(const std::vector<int> &inputs, const std::string &name);
  // One channel of sigma/255 at `input`'s resolution, sigma being the run's noise level: the
  // conditioning channel of a noise-level-conditioned denoiser (models/xunit_models.py).
  int noise_level_map(int input, const std::string &name);
  int pixel_shuffle(int input, int factor, const std::string &name);
  // A pixel unshuffle (PixelUnshuffle, PixelUnshuffleEdge) of the graph's input by `factor`.
  int unshuffle_input(OpType type, int input, int factor, const std::string &name);
  int upsample_bilinear(int input, int factor, const std::string &name);
  // An xUnit module under "<prefix>.features.", the variant told by its keys (MODELS.md):
  //   xUnitS  x * sigmoid(BN(dw(x)))            slots 0 dw, 1 BN
  //   xUnit   x * sigmoid(BN(dw(relu(BN(x)))))  slots 0 BN, 2 dw, 3 BN
  // a BN slot without keys being an Identity (batch_norm=False). Returns the gated value.
  int xunit(const std::string &prefix, int input, float eps);
  // The depthwise kernel size of the xUnit module under `prefix`.
  int xunit_kernel(const std::string &prefix) const;

  int channels(int value) const { return g_.values[size_t(value)].channels; }

 private:
  std::string unique(const std::string &name);
  // An op of one input whose only attribute is its factor (shuffles, upsampling).
  int rescale(OpType type, int input, int factor, const std::string &name);
  Graph &g_;
  WeightSource &w_;
  std::map<std::string, int> name_count_;
};

}  // namespace xunit::convert
