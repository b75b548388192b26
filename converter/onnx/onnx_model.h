// Reading an ONNX model with the protobuf library and the ONNX schema Debian ships
// (libonnx-dev): the parsed ModelProto, its constants as float tensors, typed attribute access
// and a checked topological order. Everything that is malformed or outside what the importer
// understands is an xunit::Error naming the node, attribute or tensor.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/load_budget.h"

namespace onnx {
class ModelProto;
class GraphProto;
class NodeProto;
class TensorProto;
class AttributeProto;
}  // namespace onnx

namespace xunit::convert::onnx_import {

// A constant (initializer or Constant node), widened to float.
struct Constant {
  std::vector<int64_t> dims;
  std::vector<float> values;
};

// Decodes an initializer or attribute tensor: float32/float16/bfloat16/float64 (and int32/int64
// for shape-like constants); raw or typed storage; external data is refused. The float values
// are charged to `budget` (when given) before they are allocated.
Constant read_tensor(const onnx::TensorProto &t, const std::string &where,
                     LoadBudget *budget = nullptr);

// The attributes of one node, each read at most once with its type checked. `where` prefixes
// errors ("node 'x' (Conv): ").
class Attributes {
 public:
  Attributes(const onnx::NodeProto &node, std::string where);
  bool has(const std::string &name) const;
  int64_t get_int(const std::string &name, int64_t fallback);
  float get_float(const std::string &name, float fallback);
  std::string get_string(const std::string &name, const std::string &fallback);
  std::vector<int64_t> get_ints(const std::string &name, const std::vector<int64_t> &fallback);
  const onnx::TensorProto *get_tensor(const std::string &name);
  // Errors on an attribute never asked for: its meaning is unknown to the importer.
  void expect_all_read() const;

 private:
  const onnx::AttributeProto *find(const std::string &name, int type);
  const onnx::NodeProto &node_;
  std::string where_;
  std::set<std::string> read_;
};

class OnnxModel {
 public:
  // Parses the serialized ModelProto; refuses anything that is not one. Before protobuf builds
  // anything, a scan of the wire format counts the nodes (refused above 20 000) and what the
  // parsed messages, strings and repeated numbers will occupy, charged to `budget` when given.
  OnnxModel(const uint8_t *bytes, size_t size, LoadBudget *budget = nullptr);
  ~OnnxModel();
  const onnx::GraphProto &graph() const;
  int64_t opset() const { return opset_; }  // of the default domain
  std::string producer() const;
  // Node indices in an order where every input is defined before use: the graph's own order
  // when it is topological (the ONNX rule), else a sorted one. Names in `defined` (the graph
  // input, initializers) exist up front; "" is an omitted optional input.
  std::vector<int> topological_order(const std::set<std::string> &defined) const;

 private:
  std::unique_ptr<onnx::ModelProto> model_;
  int64_t opset_ = 0;
};

// "node 'name' (OpType): " for error messages (the first output's name when the node has none).
std::string node_label(const onnx::NodeProto &node);

}  // namespace xunit::convert::onnx_import
