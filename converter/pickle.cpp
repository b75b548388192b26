#include "converter/pickle.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "common/error.h"
#include "common/printable.h"
#include "converter/bytes_le.h"

namespace xunit::convert::pickle {
namespace {

// Globals that may appear in a state_dict pickle. Everything else (os.system, builtins.eval,
// _codecs.encode, model classes...) is refused before anything could be resolved.
const char *const kCallables[] = {
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
};
const char *const kInertGlobals[] = {
    "torch.FloatStorage",  "torch.HalfStorage", "torch.BFloat16Storage",
    "torch.DoubleStorage", "torch.LongStorage", "torch.IntStorage",
    "torch.ShortStorage",  "torch.CharStorage", "torch.ByteStorage",
    "torch.BoolStorage",   "torch.float32",     "torch.float",
    "torch.float16",       "torch.half",        "torch.bfloat16",
    "torch.float64",       "torch.double",      "torch.int64",
    "torch.long",          "torch.int32",       "torch.int",
    "torch.int16",         "torch.short",       "torch.int8",
    "torch.uint8",         "torch.bool",
};

// Names from the file go into one-line error messages: keep them printable and short.
std::string printable(const std::string &s) { return xunit::printable(s, 200); }

[[noreturn]] void fail(const std::string &what) { throw Error("malformed pickle: " + what); }

class Machine {
 public:
  Machine(const uint8_t *data, size_t size) : data_(data), size_(size) {}
  Unpickled run();

 private:
  // Input.
  void need(uint64_t n) const {
    if (!range_ok(pos_, n, size_)) fail("truncated data");
  }
  uint8_t u8() {
    need(1);
    return data_[pos_++];
  }
  uint16_t u16() {
    need(2);
    pos_ += 2;
    return load_u16le(data_ + pos_ - 2);
  }
  uint32_t u32() {
    need(4);
    pos_ += 4;
    return load_u32le(data_ + pos_ - 4);
  }
  uint64_t u64() {
    need(8);
    pos_ += 8;
    return load_u64le(data_ + pos_ - 8);
  }
  std::string bytes(uint64_t n) {
    need(n);
    std::string s(reinterpret_cast<const char *>(data_ + pos_), size_t(n));
    pos_ += size_t(n);
    return s;
  }
  std::string line();
  int64_t decimal(const std::string &text, const char *what) const;

  // Stack, marks and memo.
  ValueId make(Kind kind);
  void push(ValueId id);
  ValueId pop();
  ValueId top() const;
  std::vector<ValueId> pop_mark();
  void add_children(ValueId parent, const std::vector<ValueId> &children);
  ValueId make_container(Kind kind, const std::vector<ValueId> &children);
  void memo_put(uint64_t index);
  void memo_get(uint64_t index);

  // Opcode groups.
  bool step(uint8_t op);
  bool scalar_op(uint8_t op);
  bool container_op(uint8_t op);
  bool object_op(uint8_t op);
  void push_int(int64_t v);
  void push_long(const std::string &le_bytes);
  void push_text(Kind kind, std::string s);
  void push_global(const std::string &module, const std::string &name);
  void call(ValueId callable, ValueId args);
  ValueId build_tensor(const Value &args, size_t min_args, size_t max_args);
  std::vector<int64_t> int_tuple(ValueId id, const char *what) const;
  Value &val(ValueId id) { return g_.values[id]; }

  const uint8_t *data_;
  size_t size_;
  size_t pos_ = 0;
  Graph g_;
  std::vector<ValueId> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, ValueId> memo_;
};

std::string Machine::line() {
  if (pos_ >= size_) fail("truncated data");
  const void *nl = std::memchr(data_ + pos_, '\n', size_ - pos_);
  if (!nl) fail("truncated data (unterminated line)");
  const size_t end = size_t(static_cast<const uint8_t *>(nl) - data_);
  std::string s(reinterpret_cast<const char *>(data_ + pos_), end - pos_);
  pos_ = end + 1;
  return s;
}

int64_t Machine::decimal(const std::string &text, const char *what) const {
  if (text.empty() || text.size() > 20)
    fail(std::string("bad ") + what + " '" + printable(text) + "'");
  errno = 0;
  char *end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size())
    fail(std::string("bad ") + what + " '" + printable(text) + "'");
  return v;
}

ValueId Machine::make(Kind kind) {
  if (g_.values.size() >= kMaxValues) fail("too many objects");
  g_.values.emplace_back();
  g_.values.back().kind = kind;
  return ValueId(g_.values.size() - 1);
}

void Machine::push(ValueId id) {
  if (stack_.size() >= kMaxStack) fail("stack too deep");
  stack_.push_back(id);
}

// Items below the innermost MARK belong to an enclosing frame and cannot be popped.
ValueId Machine::pop() {
  if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("stack underflow");
  const ValueId id = stack_.back();
  stack_.pop_back();
  return id;
}

ValueId Machine::top() const {
  if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("stack underflow");
  return stack_.back();
}

std::vector<ValueId> Machine::pop_mark() {
  if (marks_.empty()) fail("no MARK on the stack");
  const size_t mark = marks_.back();
  marks_.pop_back();
  std::vector<ValueId> items(stack_.begin() + long(mark), stack_.end());
  stack_.resize(mark);
  return items;
}

// Depth is tracked as values are put into containers, so nesting is bounded without any
// recursive walk.
void Machine::add_children(ValueId parent, const std::vector<ValueId> &children) {
  uint32_t depth = val(parent).depth;
  for (ValueId c : children) depth = std::max(depth, val(c).depth + 1);
  if (depth > kMaxDepth) fail("objects nested too deeply");
  Value &p = val(parent);
  p.depth = depth;
  p.items.insert(p.items.end(), children.begin(), children.end());
}

ValueId Machine::make_container(Kind kind, const std::vector<ValueId> &children) {
  const ValueId id = make(kind);
  val(id).depth = 1;
  add_children(id, children);
  return id;
}

void Machine::memo_put(uint64_t index) {
  const ValueId v = top();
  if (memo_.size() >= kMaxMemo && memo_.find(index) == memo_.end()) fail("memo too large");
  memo_[index] = v;
}

void Machine::memo_get(uint64_t index) {
  const auto it = memo_.find(index);
  if (it == memo_.end()) fail("memo key " + std::to_string(index) + " not found");
  push(it->second);
}

void Machine::push_int(int64_t v) {
  const ValueId id = make(Kind::Int);
  val(id).int_value = v;
  push(id);
}

// LONG1/LONG4 payloads are little-endian two's complement of any length; keep the ones that fit
// 64 bits as plain ints (everything torch needs), the rest as raw bytes (the legacy magic).
void Machine::push_long(const std::string &le) {
  const bool negative = !le.empty() && (uint8_t(le.back()) & 0x80);
  size_t n = le.size();
  while (n > 0 && uint8_t(le[n - 1]) == (negative ? 0xff : 0x00)) --n;
  const bool fits = n < 8 || (n == 8 && bool(uint8_t(le[7]) & 0x80) == negative);
  if (!fits) {
    const ValueId id = make(Kind::BigInt);
    val(id).text = le;
    push(id);
    return;
  }
  uint64_t u = negative ? ~uint64_t(0) : 0;
  for (size_t i = 0; i < std::min<size_t>(le.size(), 8); ++i) {
    u &= ~(uint64_t(0xff) << (8 * i));
    u |= uint64_t(uint8_t(le[i])) << (8 * i);
  }
  push_int(int64_t(u));
}

void Machine::push_text(Kind kind, std::string s) {
  const ValueId id = make(kind);
  val(id).text = std::move(s);
  push(id);
}

// A class of the user's own code or of torch.nn (a capitalised name outside the modules whose
// globals run things): what torch.save(model) pickles. Only Python can rebuild it, so the
// refusal says how to save the weights instead.
bool looks_like_module_class(const std::string &module, const std::string &name) {
  static const char *const kSystem[] = {"builtins",   "__builtin__", "os",      "posix",  "nt",
                                        "subprocess", "sys",         "shutil",  "socket", "runpy",
                                        "importlib",  "pickle",      "_codecs", "codecs", "ctypes"};
  for (const char *m : kSystem)
    if (module == m) return false;
  return !name.empty() && name[0] >= 'A' && name[0] <= 'Z';
}

void Machine::push_global(const std::string &module, const std::string &name) {
  const std::string qualified = module + "." + name;
  if (!is_allowed_global(qualified)) {
    std::string hint;
    if (looks_like_module_class(module, name))
      hint =
          ": a whole model saved with torch.save(model), which only its Python code can "
          "rebuild; save its weights instead, in PyTorch: model = torch.load(path); "
          "torch.save(model.state_dict(), 'weights.pt') (or torch.onnx.export it)";
    throw Error("refusing to load: checkpoint references global '" + printable(qualified) +
                "' (not on the allow-list)" + hint);
  }
  push_text(Kind::Global, qualified);
}

std::vector<int64_t> Machine::int_tuple(ValueId id, const char *what) const {
  const Value &v = g_.values[id];
  if (v.kind != Kind::Tuple && v.kind != Kind::List) fail(std::string(what) + " is not a tuple");
  if (v.items.size() > 64) fail(std::string(what) + " has too many dimensions");
  std::vector<int64_t> out;
  for (ValueId i : v.items) {
    if (g_.values[i].kind != Kind::Int) fail(std::string(what) + " holds a non-integer");
    out.push_back(g_.values[i].int_value);
  }
  return out;
}

ValueId Machine::build_tensor(const Value &args, size_t min_args, size_t max_args) {
  if (args.items.size() < min_args || args.items.size() > max_args)
    fail("wrong number of arguments to _rebuild_tensor");
  TensorRecord t;
  t.storage = args.items[0];
  if (val(t.storage).kind != Kind::PersistentRef) fail("tensor storage is not a persistent id");
  if (val(args.items[1]).kind != Kind::Int) fail("tensor storage offset is not an integer");
  t.offset = val(args.items[1]).int_value;
  t.shape = int_tuple(args.items[2], "tensor size");
  t.stride = int_tuple(args.items[3], "tensor stride");
  if (t.shape.size() != t.stride.size()) fail("tensor size and stride differ in length");
  const ValueId id = make(Kind::Tensor);
  val(id).int_value = int64_t(g_.tensors.size());
  g_.tensors.push_back(std::move(t));
  return id;
}

// REDUCE and NEWOBJ: the only "calls" that exist are these symbolic constructions.
void Machine::call(ValueId callable, ValueId args_id) {
  const Value &fn = val(callable);
  if (fn.kind != Kind::Global) fail("call of a non-callable " + describe(fn.kind));
  const Value args = val(args_id);  // copy: make() below may reallocate the arena
  if (args.kind != Kind::Tuple) fail("call arguments are not a tuple");
  const std::string name = fn.text;  // copy: the arena may grow below
  if (name == "collections.OrderedDict") {
    if (!args.items.empty()) fail("OrderedDict called with arguments");
    push(make_container(Kind::Dict, {}));
  } else if (name == "torch._utils._rebuild_tensor_v2") {
    push(build_tensor(args, 4, 7));
  } else if (name == "torch._utils._rebuild_tensor") {
    push(build_tensor(args, 4, 4));
  } else if (name == "torch._utils._rebuild_parameter" ||
             name == "torch._utils._rebuild_parameter_with_state") {
    // A Parameter is its data tensor as far as a state dict is concerned.
    if (args.items.size() < 3 || args.items.size() > 4 || val(args.items[0]).kind != Kind::Tensor)
      fail("bad arguments to " + name);
    push(args.items[0]);
  } else {
    throw Error("refusing to load: checkpoint calls '" + printable(name) +
                "', which is not an allowed constructor");
  }
}

bool Machine::scalar_op(uint8_t op) {
  switch (op) {
    case 'N':
      push(make(Kind::None));
      return true;
    case 0x88:
    case 0x89: {  // NEWTRUE, NEWFALSE
      const ValueId id = make(Kind::Bool);
      val(id).int_value = op == 0x88;
      push(id);
      return true;
    }
    case 'J':
      push_int(int32_t(u32()));
      return true;  // BININT
    case 'K':
      push_int(u8());
      return true;  // BININT1
    case 'M':
      push_int(u16());
      return true;  // BININT2
    case 0x8a:
      push_long(bytes(u8()));
      return true;  // LONG1
    case 0x8b: {    // LONG4
      const int32_t n = int32_t(u32());
      if (n < 0 || n > 1024) fail("LONG4 length out of range");
      push_long(bytes(uint32_t(n)));
      return true;
    }
    case 'I': {  // INT (text); "01"/"00" are protocol 0's True/False
      const std::string s = line();
      if (s == "01" || s == "00") {
        const ValueId id = make(Kind::Bool);
        val(id).int_value = s == "01";
        push(id);
      } else {
        push_int(decimal(s, "INT"));
      }
      return true;
    }
    case 'L': {  // LONG (text), with Python 2's optional trailing 'L'
      std::string s = line();
      if (!s.empty() && s.back() == 'L') s.pop_back();
      push_int(decimal(s, "LONG"));
      return true;
    }
    case 'G': {  // BINFLOAT: big-endian IEEE double
      need(8);
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits = (bits << 8) | data_[pos_++];
      const ValueId id = make(Kind::Float);
      std::memcpy(&val(id).float_value, &bits, 8);
      push(id);
      return true;
    }
    case 0x8c:
      push_text(Kind::String, bytes(u8()));
      return true;  // SHORT_BINUNICODE
    case 'X':
      push_text(Kind::String, bytes(u32()));
      return true;  // BINUNICODE
    case 0x8d:
      push_text(Kind::String, bytes(u64()));
      return true;  // BINUNICODE8
    case 'U':
      push_text(Kind::String, bytes(u8()));
      return true;  // SHORT_BINSTRING
    case 'T': {     // BINSTRING
      const int32_t n = int32_t(u32());
      if (n < 0) fail("negative BINSTRING length");
      push_text(Kind::String, bytes(uint32_t(n)));
      return true;
    }
    case 'C':
      push_text(Kind::Bytes, bytes(u8()));
      return true;  // SHORT_BINBYTES
    case 'B':
      push_text(Kind::Bytes, bytes(u32()));
      return true;  // BINBYTES
    case 0x8e:
      push_text(Kind::Bytes, bytes(u64()));
      return true;  // BINBYTES8
    default:
      return false;
  }
}

bool Machine::container_op(uint8_t op) {
  switch (op) {
    case '}':
      push(make_container(Kind::Dict, {}));
      return true;  // EMPTY_DICT
    case ']':
      push(make_container(Kind::List, {}));
      return true;  // EMPTY_LIST
    case ')':
      push(make_container(Kind::Tuple, {}));
      return true;  // EMPTY_TUPLE
    case 0x8f:
      push(make_container(Kind::Set, {}));
      return true;  // EMPTY_SET
    case 't':
      push(make_container(Kind::Tuple, pop_mark()));
      return true;  // TUPLE
    case 'l':
      push(make_container(Kind::List, pop_mark()));
      return true;  // LIST
    case 0x91:
      push(make_container(Kind::Set, pop_mark()));
      return true;  // FROZENSET
    case 0x85:
    case 0x86:
    case 0x87: {  // TUPLE1..3
      std::vector<ValueId> items(size_t(op - 0x84));
      for (size_t i = items.size(); i-- > 0;) items[i] = pop();
      push(make_container(Kind::Tuple, items));
      return true;
    }
    case 'd': {  // DICT
      const auto items = pop_mark();
      if (items.size() % 2) fail("DICT with an odd number of items");
      push(make_container(Kind::Dict, items));
      return true;
    }
    case 'a':
    case 'e':
    case 's':
    case 'u':
    case 0x90: {  // APPEND(S), SETITEM(S), ADDITEMS
      std::vector<ValueId> items;
      if (op == 'a')
        items = {pop()};
      else if (op == 's') {
        const ValueId v = pop();
        items = {pop(), v};
      } else
        items = pop_mark();
      const Kind want = (op == 'a' || op == 'e') ? Kind::List
                        : (op == 0x90)           ? Kind::Set
                                                 : Kind::Dict;
      const ValueId target = top();
      if (val(target).kind != want) fail("cannot add items to " + describe(val(target).kind));
      if (want == Kind::Dict && items.size() % 2) fail("SETITEMS with an odd number of items");
      add_children(target, items);
      return true;
    }
    default:
      return false;
  }
}

bool Machine::object_op(uint8_t op) {
  switch (op) {
    case 'q':
      memo_put(u8());
      return true;  // BINPUT
    case 'r':
      memo_put(u32());
      return true;  // LONG_BINPUT
    case 0x94:
      memo_put(memo_.size());
      return true;  // MEMOIZE
    case 'p': {     // PUT (text)
      const int64_t i = decimal(line(), "PUT index");
      if (i < 0) fail("negative memo index");
      memo_put(uint64_t(i));
      return true;
    }
    case 'h':
      memo_get(u8());
      return true;  // BINGET
    case 'j':
      memo_get(u32());
      return true;  // LONG_BINGET
    case 'g': {     // GET (text)
      const int64_t i = decimal(line(), "GET index");
      if (i < 0) fail("negative memo index");
      memo_get(uint64_t(i));
      return true;
    }
    case 'c': {  // GLOBAL
      const std::string module = line();
      push_global(module, line());
      return true;
    }
    case 0x93: {  // STACK_GLOBAL
      const ValueId name = pop(), module = pop();
      if (val(name).kind != Kind::String || val(module).kind != Kind::String)
        fail("STACK_GLOBAL operands are not strings");
      push_global(val(module).text, val(name).text);
      return true;
    }
    case 'R':
    case 0x81: {  // REDUCE, NEWOBJ
      const ValueId args = pop(), callable = pop();
      call(callable, args);
      return true;
    }
    case 'b': {  // BUILD: torch sets attributes such as _metadata this way; they carry nothing
      pop();
      const Kind k = val(top()).kind;
      if (k != Kind::Dict && k != Kind::Tensor) fail("BUILD on " + describe(k));
      return true;
    }
    case 'Q':
    case 'P': {  // BINPERSID, PERSID: resolved later by the checkpoint reader
      ValueId pid;
      if (op == 'Q') {
        pid = pop();
      } else {
        pid = make(Kind::String);
        val(pid).text = line();
      }
      push(make_container(Kind::PersistentRef, {pid}));
      return true;
    }
    default:
      return false;
  }
}

// Returns false on STOP.
bool Machine::step(uint8_t op) {
  switch (op) {
    case 0x80: {  // PROTO
      if (u8() > 5) fail("unsupported pickle protocol");
      return true;
    }
    case 0x95: {  // FRAME: a length prefix for buffering; only checked
      const uint64_t n = u64();
      need(n);
      return true;
    }
    case '.':
      return false;  // STOP
    case '(': {      // MARK
      if (marks_.size() >= kMaxDepth) fail("too many nested MARKs");
      marks_.push_back(stack_.size());
      return true;
    }
    case '0': {  // POP: pops the item, or the mark when the current frame is empty
      if (!marks_.empty() && stack_.size() == marks_.back())
        pop_mark();
      else
        pop();
      return true;
    }
    case '1':
      pop_mark();
      return true;  // POP_MARK
    case '2':
      push(top());
      return true;  // DUP
    default:
      break;
  }
  if (scalar_op(op) || container_op(op) || object_op(op)) return true;
  static const char *hex = "0123456789abcdef";
  throw Error(std::string("malformed pickle: unsupported opcode 0x") + hex[op >> 4] + hex[op & 15] +
              " at offset " + std::to_string(pos_ - 1));
}

Unpickled Machine::run() {
  while (step(u8())) {
  }
  if (!marks_.empty() || stack_.size() != 1) fail("STOP with an unbalanced stack");
  Unpickled out;
  out.root = stack_.back();
  out.consumed = pos_;
  out.graph = std::move(g_);
  return out;
}

}  // namespace

bool is_allowed_global(const std::string &name) {
  for (const char *n : kCallables)
    if (name == n) return true;
  for (const char *n : kInertGlobals)
    if (name == n) return true;
  return false;
}

std::string describe(Kind kind) {
  switch (kind) {
    case Kind::None:
      return "None";
    case Kind::Bool:
      return "a bool";
    case Kind::Int:
    case Kind::BigInt:
      return "an int";
    case Kind::Float:
      return "a float";
    case Kind::String:
      return "a string";
    case Kind::Bytes:
      return "a bytes object";
    case Kind::Tuple:
      return "a tuple";
    case Kind::List:
      return "a list";
    case Kind::Dict:
      return "a dict";
    case Kind::Set:
      return "a set";
    case Kind::Global:
      return "a global";
    case Kind::PersistentRef:
      return "a storage";
    case Kind::Tensor:
      return "a tensor";
  }
  return "an unknown object";
}

Unpickled unpickle(const uint8_t *data, size_t size) { return Machine(data, size).run(); }

}  // namespace xunit::convert::pickle
