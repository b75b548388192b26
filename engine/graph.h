// The graph IR shared by the converter (which builds it) and the engine (which plans and runs
// it). Ops are stored in topological order; every op defines exactly one new value (SSA).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/ops/op_type.h"

namespace xunit {

enum class DType : uint32_t { F32 = 0, F16 = 1, BF16 = 2 };
const char *dtype_name(DType dtype);
size_t dtype_size(DType dtype);

// A parameter tensor. `data` always points at float32 values: into the file's bytes for fp32
// storage straight from parse_model, or into `owned` (fp16/bf16 storage widened, built graphs,
// and every tensor of a model loaded through the C API: see own_weights in model_file.h).
struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  DType storage = DType::F32;
  const float *data = nullptr;
  std::vector<float> owned;
  size_t numel() const;
  void set_owned(std::vector<float> values) {
    owned = std::move(values);
    data = owned.data();
  }
};

struct Value {
  std::string name;
  int channels = 0;
  int scale = 1;   // resolution relative to the graph input (SR upsampling multiplies it)
  int radius = 0;  // receptive-field radius in this value's own pixels
};

struct Op {
  OpType type = OpType::Relu;
  std::string name;
  std::vector<int> inputs;  // value ids
  int output = -1;          // value id
  // Attributes (which ones are meaningful depends on `type`).
  int kernel = 0;
  int dilation = 1;  // DilatedConv2d, BorderConv2d: the distance between taps (1 for a plain conv)
  int border = 0;    // BorderConv2d: BorderMode (Reflect or Edge)
  int padding = 0;   // ConvTranspose2d: the padding cropped from each side of the full output
  int groups = 1;
  int in_channels = 0;
  int out_channels = 0;
  int factor = 1;
  float alpha = 0.f;  // leaky_relu: the slope; clip: the lower bound
  float beta = 0.f;   // clip: the upper bound
  // Resize: how source pixels are chosen and weighted (see engine/resize_taps.h).
  int resize_mode = 0;       // ResizeMode
  int coordinates = 0;       // ResizeCoordinates
  int nearest_rounding = 0;  // NearestRounding
  float cubic_a = -0.75f;
  // NoiseLevelMap: the map holds level_scale * sigma (attribute `scale` in files; PyTorch's
  // conditioned denoisers feed sigma / 255).
  float level_scale = 1.f / 255.f;
  // Tensor ids (-1 when absent): conv weight [O, I/groups, k, k] and bias [O]; affine scale and
  // shift [C]; prelu slope.
  int weight = -1;
  int bias = -1;
  int scale = -1;
  int shift = -1;
  int slope = -1;
};

struct Graph {
  std::vector<Tensor> tensors;
  std::vector<Value> values;
  std::vector<Op> ops;
  int input = -1;
  int output = -1;
  std::map<std::string, std::string> metadata;

  // Building helpers (used by the converter and tests).
  int add_input(const std::string &name, int channels);
  int add_tensor(const std::string &name, std::vector<int64_t> shape, std::vector<float> values);
  int add_op(Op op, const std::string &output_name);  // returns the new value id

  // Hashed lookups (constant time) for graphs built with the add_* helpers; a graph whose
  // vectors were changed directly falls back to a scan. Renaming an added tensor or value in
  // place is not supported (its new name would not be found).
  int find_tensor(const std::string &name) const;
  int find_value(const std::string &name) const;
  // Appends a tensor built elsewhere (the model reader), keeping the name index. Throws on a
  // duplicate name.
  int append_tensor(Tensor tensor);
  const Tensor &tensor(int id) const { return tensors.at(size_t(id)); }

  // Checks arity, tensor shapes and channel counts, and fills Value::channels/scale/radius.
  // Throws xunit::Error naming the op on the first inconsistency.
  void validate_and_infer();

  // A graph whose first op unshuffles its input by r (pixel_unshuffle / space_to_depth) is run
  // on the unshuffled image, the "stream": Value::scale and radius are relative to it, and
  // everything the engine streams is in its pixels. Without one, the stream is the input.
  int input_factor() const { return input_factor_; }
  int stream_input() const { return stream_input_ >= 0 ? stream_input_ : input; }
  // Radius of the receptive field in stream pixels (the halo a stripe needs).
  int halo() const;
  // ... and in input pixels (what a user is told).
  int receptive_radius() const;
  // Output resolution relative to the stream, and relative to the input (a whole number).
  int stream_scale() const { return values.at(size_t(output)).scale; }
  int output_scale() const { return stream_scale() / input_factor_; }
  int in_channels() const { return values.at(size_t(input)).channels; }
  // Whether a run must give the noise level (RunParams): the graph has a noise_level_map op.
  bool noise_level_input() const;
  int out_channels() const { return values.at(size_t(output)).channels; }
  size_t parameter_count() const;

 private:
  // Checks one op against the values defined so far and fills its output value. Without
  // `defined`, a value counts as defined when its channels are known (add_op).
  void infer(const Op &op, std::vector<bool> *defined);
  // name -> first id; each covers the first *_indexed_ entries of its vector.
  std::unordered_map<std::string, int> tensor_index_, value_index_;
  int input_factor_ = 1, stream_input_ = -1;  // set by infer (see input_factor())
  size_t tensors_indexed_ = 0, values_indexed_ = 0;
  void index_value(int id);
};

}  // namespace xunit
