#include "converter/onnx/onnx_model.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/logging.h>
#include <onnx/onnx_pb.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <deque>

#include "common/error.h"
#include "common/half.h"

namespace xunit::convert::onnx_import {

namespace {

constexpr size_t kMaxElements = size_t(1) << 28;  // 1 GiB of float32 per tensor
constexpr int kMaxNodes = 20000;

std::string join(const std::vector<int64_t> &v) {
  std::string s;
  for (int64_t x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return "[" + s + "]";
}

const char *dtype_label(int t) {
  switch (t) {
    case onnx::TensorProto_DataType_FLOAT:
      return "float32";
    case onnx::TensorProto_DataType_FLOAT16:
      return "float16";
    case onnx::TensorProto_DataType_BFLOAT16:
      return "bfloat16";
    case onnx::TensorProto_DataType_DOUBLE:
      return "float64";
    case onnx::TensorProto_DataType_INT32:
      return "int32";
    case onnx::TensorProto_DataType_INT64:
      return "int64";
    default:
      return "an unsupported type";
  }
}

// What protobuf will build from a serialized message, counted from the wire format without
// building it: NodeProto messages (at any depth: subgraphs too) and an estimate of the memory.
struct WireCount {
  uint64_t nodes = 0;
  uint64_t bytes = 0;
};

// Conservative sizes of what protobuf allocates (64-bit, generated classes).
constexpr uint64_t kMessageBytes = 256;  // a message object (NodeProto is ~200 bytes)
constexpr uint64_t kStringBytes = 40;    // a std::string and its pointer in a repeated field
constexpr uint64_t kScalarBytes = 8;     // an element of a repeated number field
constexpr int kScanDepth = 100;          // protobuf's default recursion limit

// Stops (returns) at the first malformed byte: protobuf's own parse then reports it.
void scan_message(const uint8_t *p, size_t n, const google::protobuf::Descriptor *type, int depth,
                  WireCount *count) {
  using google::protobuf::FieldDescriptor;
  size_t i = 0;
  auto varint = [&](uint64_t *v) {
    *v = 0;
    for (int shift = 0; shift < 64 && i < n; shift += 7) {
      const uint8_t b = p[i++];
      *v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  };
  while (i < n) {
    uint64_t tag = 0, value = 0;
    if (!varint(&tag)) return;
    const int wire = int(tag & 7);
    const FieldDescriptor *field = type ? type->FindFieldByNumber(int(tag >> 3)) : nullptr;
    if (wire == 0) {
      if (!varint(&value)) return;
      count->bytes += kScalarBytes;
    } else if (wire == 1 || wire == 5) {
      const size_t width = wire == 1 ? 8 : 4;
      if (n - i < width) return;
      i += width;
      count->bytes += kScalarBytes;
    } else if (wire == 2) {
      if (!varint(&value) || value > n - i) return;
      const size_t len = size_t(value);
      if (field && field->type() == FieldDescriptor::TYPE_MESSAGE) {
        count->bytes += kMessageBytes;
        if (field->message_type() == onnx::NodeProto::descriptor()) ++count->nodes;
        if (depth < kScanDepth) scan_message(p + i, len, field->message_type(), depth + 1, count);
      } else if (field && field->is_packable()) {
        count->bytes += kScalarBytes * len;  // at most one element per byte
      } else {
        count->bytes += kStringBytes + len;
      }
      i += len;
    } else {
      return;  // groups (deprecated) and invalid wire types: protobuf refuses them
    }
  }
}

// Protobuf reports some parse failures on stderr; our tools print one line of their own.
void quiet_log(google::protobuf::LogLevel, const char *, int, const std::string &) {}

}  // namespace

std::string node_label(const onnx::NodeProto &node) {
  std::string name = node.name();
  if (name.empty() && node.output_size() > 0) name = node.output(0);
  return "node '" + name + "' (" + node.op_type() + "): ";
}

Constant read_tensor(const onnx::TensorProto &t, const std::string &where, LoadBudget *budget) {
  const std::string what = where + "tensor '" + t.name() + "'";
  XUNIT_CHECK(
      t.data_location() != onnx::TensorProto_DataLocation_EXTERNAL,
      what +
          " keeps its data in an external file, which is not supported (save the model with its "
          "weights inside)");
  XUNIT_CHECK(!t.has_segment(), what + " is segmented, which is not supported");
  Constant c;
  size_t n = 1;
  for (int64_t d : t.dims()) {
    XUNIT_CHECK(d >= 0 && d <= int64_t(kMaxElements),
                what + " has a bad dimension " + std::to_string(d));
    n *= size_t(d);
    XUNIT_CHECK(n <= kMaxElements, what + " is too large");
    c.dims.push_back(d);
  }
  const int type = t.data_type();
  size_t elem = 0;
  switch (type) {
    case onnx::TensorProto_DataType_FLOAT:
    case onnx::TensorProto_DataType_INT32:
      elem = 4;
      break;
    case onnx::TensorProto_DataType_FLOAT16:
    case onnx::TensorProto_DataType_BFLOAT16:
      elem = 2;
      break;
    case onnx::TensorProto_DataType_DOUBLE:
    case onnx::TensorProto_DataType_INT64:
      elem = 8;
      break;
    default:
      throw Error(what + " has element type " + std::to_string(type) +
                  ", not a supported number type");
  }
  if (budget) budget->charge(n, sizeof(float), what);
  c.values.resize(n);
  if (t.has_raw_data()) {
    const std::string &raw = t.raw_data();
    XUNIT_CHECK(raw.size() == n * elem, what + " holds " + std::to_string(raw.size()) +
                                            " bytes, its shape " + join(c.dims) + " of " +
                                            dtype_label(type) + " needs " +
                                            std::to_string(n * elem));
    const uint8_t *p = reinterpret_cast<const uint8_t *>(raw.data());
    for (size_t i = 0; i < n; ++i, p += elem) {
      uint64_t bits = 0;
      for (size_t b = 0; b < elem; ++b) bits |= uint64_t(p[b]) << (8 * b);  // little-endian
      float v = 0;
      switch (type) {
        case onnx::TensorProto_DataType_FLOAT: {
          uint32_t u = uint32_t(bits);
          std::memcpy(&v, &u, 4);
          break;
        }
        case onnx::TensorProto_DataType_FLOAT16:
          v = fp16_to_float(uint16_t(bits));
          break;
        case onnx::TensorProto_DataType_BFLOAT16:
          v = bf16_to_float(uint16_t(bits));
          break;
        case onnx::TensorProto_DataType_DOUBLE: {
          double d;
          std::memcpy(&d, &bits, 8);
          v = float(d);
          break;
        }
        case onnx::TensorProto_DataType_INT32:
          v = float(int32_t(uint32_t(bits)));
          break;
        case onnx::TensorProto_DataType_INT64:
          v = float(int64_t(bits));
          break;
      }
      c.values[i] = v;
    }
  } else {
    size_t have = 0;
    switch (type) {
      case onnx::TensorProto_DataType_FLOAT:
        have = size_t(t.float_data_size());
        if (have == n)
          for (size_t i = 0; i < n; ++i) c.values[i] = t.float_data(int(i));
        break;
      case onnx::TensorProto_DataType_FLOAT16:
      case onnx::TensorProto_DataType_BFLOAT16:
      case onnx::TensorProto_DataType_INT32:
        have = size_t(t.int32_data_size());
        if (have == n)
          for (size_t i = 0; i < n; ++i) {
            const int32_t b = t.int32_data(int(i));
            c.values[i] = type == onnx::TensorProto_DataType_INT32     ? float(b)
                          : type == onnx::TensorProto_DataType_FLOAT16 ? fp16_to_float(uint16_t(b))
                                                                       : bf16_to_float(uint16_t(b));
          }
        break;
      case onnx::TensorProto_DataType_DOUBLE:
        have = size_t(t.double_data_size());
        if (have == n)
          for (size_t i = 0; i < n; ++i) c.values[i] = float(t.double_data(int(i)));
        break;
      case onnx::TensorProto_DataType_INT64:
        have = size_t(t.int64_data_size());
        if (have == n)
          for (size_t i = 0; i < n; ++i) c.values[i] = float(t.int64_data(int(i)));
        break;
    }
    XUNIT_CHECK(have == n, what + " holds " + std::to_string(have) + " values, its shape " +
                               join(c.dims) + " needs " + std::to_string(n));
  }
  for (float v : c.values) XUNIT_CHECK(std::isfinite(v), what + " holds a non-finite value");
  return c;
}

Attributes::Attributes(const onnx::NodeProto &node, std::string where)
    : node_(node), where_(std::move(where)) {
  std::set<std::string> names;
  for (const auto &a : node.attribute())
    XUNIT_CHECK(names.insert(a.name()).second,
                where_ + "attribute '" + a.name() + "' is given twice");
}

const onnx::AttributeProto *Attributes::find(const std::string &name, int type) {
  for (const auto &a : node_.attribute()) {
    if (a.name() != name) continue;
    read_.insert(name);
    int have = a.type();
    if (have == onnx::AttributeProto_AttributeType_UNDEFINED) {  // very old exporters: infer it
      have = a.has_f()             ? onnx::AttributeProto_AttributeType_FLOAT
             : a.has_i()           ? onnx::AttributeProto_AttributeType_INT
             : a.has_s()           ? onnx::AttributeProto_AttributeType_STRING
             : a.has_t()           ? onnx::AttributeProto_AttributeType_TENSOR
             : a.floats_size() > 0 ? onnx::AttributeProto_AttributeType_FLOATS
             : a.ints_size() > 0   ? onnx::AttributeProto_AttributeType_INTS
                                   : onnx::AttributeProto_AttributeType_UNDEFINED;
    }
    XUNIT_CHECK(have == type, where_ + "attribute '" + name + "' has the wrong type");
    return &a;
  }
  return nullptr;
}

bool Attributes::has(const std::string &name) const {
  for (const auto &a : node_.attribute())
    if (a.name() == name) return true;
  return false;
}

int64_t Attributes::get_int(const std::string &name, int64_t fallback) {
  const auto *a = find(name, onnx::AttributeProto_AttributeType_INT);
  return a ? a->i() : fallback;
}

float Attributes::get_float(const std::string &name, float fallback) {
  const auto *a = find(name, onnx::AttributeProto_AttributeType_FLOAT);
  if (!a) return fallback;
  XUNIT_CHECK(std::isfinite(a->f()), where_ + "attribute '" + name + "' is not finite");
  return a->f();
}

std::string Attributes::get_string(const std::string &name, const std::string &fallback) {
  const auto *a = find(name, onnx::AttributeProto_AttributeType_STRING);
  return a ? a->s() : fallback;
}

std::vector<int64_t> Attributes::get_ints(const std::string &name,
                                          const std::vector<int64_t> &fallback) {
  const auto *a = find(name, onnx::AttributeProto_AttributeType_INTS);
  if (!a) return fallback;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

const onnx::TensorProto *Attributes::get_tensor(const std::string &name) {
  const auto *a = find(name, onnx::AttributeProto_AttributeType_TENSOR);
  return a ? &a->t() : nullptr;
}

void Attributes::expect_all_read() const {
  for (const auto &a : node_.attribute())
    XUNIT_CHECK(read_.count(a.name()) > 0,
                where_ + "attribute '" + a.name() + "' is not supported");
}

OnnxModel::OnnxModel(const uint8_t *bytes, size_t size, LoadBudget *budget)
    : model_(std::make_unique<onnx::ModelProto>()) {
  XUNIT_CHECK(size > 0, "not an ONNX model: the file is empty");
  XUNIT_CHECK(size <= size_t(INT_MAX), "the ONNX model is larger than 2 GB, protobuf's limit");
  // Bounded before protobuf builds a single node: 20 MB of empty nodes would otherwise become
  // 1.5 GB of NodeProto objects before the node count could be checked.
  WireCount wire;
  scan_message(bytes, size, onnx::ModelProto::descriptor(), 0, &wire);
  XUNIT_CHECK(wire.nodes <= uint64_t(kMaxNodes), "the ONNX graph has too many nodes (" +
                                                     std::to_string(wire.nodes) + "; at most " +
                                                     std::to_string(kMaxNodes) + " are read)");
  if (budget) budget->charge(wire.bytes, "parsing the ONNX protobuf");
  google::protobuf::LogHandler *previous = google::protobuf::SetLogHandler(quiet_log);
  google::protobuf::io::CodedInputStream in(bytes, int(size));
  in.SetTotalBytesLimit(INT_MAX);
  const bool parsed = model_->ParseFromCodedStream(&in) && in.ConsumedEntireMessage();
  google::protobuf::SetLogHandler(previous);
  XUNIT_CHECK(parsed, "not an ONNX model: the protobuf data is malformed");
  XUNIT_CHECK(model_->has_graph(), "not an ONNX model: it has no graph");
  XUNIT_CHECK(model_->ir_version() >= 3, "ONNX IR version " + std::to_string(model_->ir_version()) +
                                             " is too old (opset 11 or newer is supported)");
  for (const auto &o : model_->opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = o.version();
  XUNIT_CHECK(opset_ >= 11 && opset_ <= 18,
              "ONNX opset " + std::to_string(opset_) +
                  " is not supported (11 to 18 are; re-export with opset_version=17)");
  XUNIT_CHECK(
      model_->graph().node_size() <= kMaxNodes,
      "the ONNX graph has too many nodes (" + std::to_string(model_->graph().node_size()) + ")");
}

OnnxModel::~OnnxModel() = default;

const onnx::GraphProto &OnnxModel::graph() const { return model_->graph(); }

std::string OnnxModel::producer() const {
  std::string p = model_->producer_name();
  if (!model_->producer_version().empty()) p += " " + model_->producer_version();
  return p;
}

std::vector<int> OnnxModel::topological_order(const std::set<std::string> &defined_up_front) const {
  const auto &nodes = model_->graph().node();
  const int n = nodes.size();
  std::map<std::string, int> producer;
  for (int i = 0; i < n; ++i)
    for (const std::string &out : nodes[i].output()) {
      if (out.empty()) continue;
      XUNIT_CHECK(!defined_up_front.count(out) && producer.emplace(out, i).second,
                  node_label(nodes[i]) + "value '" + out + "' is defined twice");
    }
  // Dependencies; an input nobody defines is an error naming the node.
  std::vector<std::vector<int>> users(static_cast<size_t>(n));
  std::vector<int> pending(static_cast<size_t>(n), 0);
  bool in_order = true;
  for (int i = 0; i < n; ++i) {
    std::set<int> deps;
    for (const std::string &in : nodes[i].input()) {
      if (in.empty() || defined_up_front.count(in)) continue;
      auto it = producer.find(in);
      XUNIT_CHECK(it != producer.end(),
                  node_label(nodes[i]) + "input '" + in + "' is never defined");
      deps.insert(it->second);
    }
    for (int d : deps) {
      users[size_t(d)].push_back(i);
      ++pending[size_t(i)];
      if (d >= i) in_order = false;
    }
  }
  std::vector<int> order;
  if (in_order) {
    for (int i = 0; i < n; ++i) order.push_back(i);
    return order;
  }
  std::deque<int> ready;
  for (int i = 0; i < n; ++i)
    if (pending[size_t(i)] == 0) ready.push_back(i);
  while (!ready.empty()) {
    const int i = ready.front();
    ready.pop_front();
    order.push_back(i);
    for (int u : users[size_t(i)])
      if (--pending[size_t(u)] == 0) ready.push_back(u);
  }
  if (int(order.size()) != n)
    for (int i = 0; i < n; ++i)
      if (pending[size_t(i)] > 0)
        throw Error(node_label(nodes[i]) + "is on or after a cycle in the graph");
  return order;
}

}  // namespace xunit::convert::onnx_import
