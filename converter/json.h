// A small strict JSON parser (RFC 8259) for untrusted headers such as safetensors': bounded
// nesting depth, no trailing garbage, no duplicate object keys.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/load_budget.h"

namespace xunit::convert::json {

enum class Type { Null, Bool, Number, String, Array, Object };

struct Value {
  Type type = Type::Null;
  bool boolean = false;
  double number = 0;
  bool is_integer = false;  // the literal had no fraction/exponent and fits int64
  int64_t integer = 0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;  // in document order

  const Value *get(const std::string &key) const;  // object member or nullptr
};

constexpr int kMaxDepth = 64;

// Parses a whole document; throws xunit::Error("invalid JSON: ... at offset N"). Every value
// built (sizeof(Value) plus its text) is charged to `budget`, when given, as it is built: a
// header of tiny values ("[0,0,0,...]" costs 2 bytes a value in the text and ~100 in memory) is
// refused once it passes the budget of the file that holds it.
Value parse(const char *text, size_t size, LoadBudget *budget = nullptr);
inline Value parse(const std::string &text) { return parse(text.data(), text.size()); }

}  // namespace xunit::convert::json
