// A pickle reader that never executes anything: it decodes the opcodes a torch state_dict uses
// (protocols 0-5) into an inert object graph. Globals are checked against a fixed allow-list and
// become symbolic values; calling one (REDUCE/NEWOBJ) only ever builds a dict or a tensor record.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xunit::convert::pickle {

using ValueId = uint32_t;

enum class Kind : uint8_t {
  None,
  Bool,
  Int,
  BigInt,
  Float,
  String,
  Bytes,
  Tuple,
  List,
  Dict,
  Set,
  Global,         // an allow-listed global, by qualified name ("torch.FloatStorage")
  PersistentRef,  // result of BINPERSID/PERSID: items[0] is the persistent id object
  Tensor,         // a torch._utils._rebuild_tensor* call: see Graph::tensors
};

struct Value {
  Kind kind = Kind::None;
  int64_t int_value = 0;       // Bool, Int; for Tensor: index into Graph::tensors
  double float_value = 0;      // Float
  std::string text;            // String, Bytes, Global name; BigInt: little-endian 2's complement
  std::vector<ValueId> items;  // Tuple/List/Set elements; Dict: key, value, key, value...
  uint32_t depth = 0;          // container nesting depth (bounded; nothing walks it recursively)
};

// Arguments of torch._utils._rebuild_tensor(_v2): a view into a storage, in elements.
// Not validated here (the storage size is unknown to the pickle layer).
struct TensorRecord {
  ValueId storage = 0;  // a PersistentRef value
  int64_t offset = 0;
  std::vector<int64_t> shape;
  std::vector<int64_t> stride;
};

// All values live in one arena and refer to each other by index: shared references, memo reuse
// and even cycles need no ownership graph, and destroying the graph never recurses.
struct Graph {
  std::vector<Value> values;
  std::vector<TensorRecord> tensors;

  const Value &at(ValueId id) const { return values.at(id); }
  const TensorRecord &tensor(const Value &v) const { return tensors.at(size_t(v.int_value)); }
};

struct Unpickled {
  Graph graph;
  ValueId root = 0;
  size_t consumed = 0;  // bytes up to and including STOP (pickles may be concatenated)
};

// Limits on untrusted input.
constexpr size_t kMaxMemo = 1000000;
constexpr size_t kMaxStack = 1000000;
constexpr uint32_t kMaxDepth = 1000;
constexpr size_t kMaxValues = 4000000;

// Decodes one pickle that starts at data[0]. Throws xunit::Error on anything malformed, on an
// unknown opcode (named in hex) or on a global that is not on the allow-list (named).
Unpickled unpickle(const uint8_t *data, size_t size);

// "a dict", "an int", ... for error messages.
std::string describe(Kind kind);

// True when `name` (e.g. "os.system") is on the allow-list.
bool is_allowed_global(const std::string &name);

}  // namespace xunit::convert::pickle
