#include "converter/json.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "common/error.h"

namespace xunit::convert::json {
namespace {

class Parser {
 public:
  Parser(const char *text, size_t size, LoadBudget *budget) : s_(text), n_(size), budget_(budget) {}

  Value document() {
    Value v = value(0);
    skip_space();
    if (i_ != n_) fail("trailing characters after the document");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string &what) const {
    throw Error("invalid JSON: " + what + " at offset " + std::to_string(i_));
  }
  void skip_space() {
    while (i_ < n_ && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  char peek() {
    skip_space();
    if (i_ >= n_) fail("unexpected end of input");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  bool literal(const char *word) {
    const size_t len = std::strlen(word);
    if (n_ - i_ < len || std::memcmp(s_ + i_, word, len) != 0) return false;
    i_ += len;
    return true;
  }

  // Recursion is bounded by kMaxDepth.
  Value value(int depth) {
    if (depth > kMaxDepth) fail("nesting too deep");
    // A value (or an object member: its key and value) costs at most this much, plus its text.
    account(sizeof(std::pair<std::string, Value>));
    Value v;
    const char c = peek();
    if (c == '{') {
      object(&v, depth);
    } else if (c == '[') {
      array(&v, depth);
    } else if (c == '"') {
      v.type = Type::String;
      v.string = string();
    } else if (literal("true")) {
      v.type = Type::Bool;
      v.boolean = true;
    } else if (literal("false")) {
      v.type = Type::Bool;
    } else if (literal("null")) {
      v.type = Type::Null;
    } else {
      number(&v);
    }
    return v;
  }

  void object(Value *v, int depth) {
    v->type = Type::Object;
    expect('{');
    std::set<std::string> keys;
    if (peek() == '}') {
      ++i_;
      return;
    }
    for (;;) {
      if (peek() != '"') fail("expected a string key");
      std::string key = string();
      if (!keys.insert(key).second) fail("duplicate key \"" + key.substr(0, 100) + "\"");
      expect(':');
      v->object.emplace_back(std::move(key), value(depth + 1));
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect('}');
      return;
    }
  }

  void array(Value *v, int depth) {
    v->type = Type::Array;
    expect('[');
    if (peek() == ']') {
      ++i_;
      return;
    }
    for (;;) {
      v->array.push_back(value(depth + 1));
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect(']');
      return;
    }
  }

  unsigned hex4() {
    if (n_ - i_ < 4) fail("truncated \\u escape");
    unsigned u = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      u <<= 4;
      if (h >= '0' && h <= '9')
        u |= unsigned(h - '0');
      else if (h >= 'a' && h <= 'f')
        u |= unsigned(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        u |= unsigned(h - 'A' + 10);
      else
        fail("bad \\u escape");
    }
    return u;
  }

  static void append_utf8(std::string *out, unsigned cp) {
    if (cp < 0x80) {
      *out += char(cp);
    } else if (cp < 0x800) {
      *out += char(0xC0 | (cp >> 6));
      *out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += char(0xE0 | (cp >> 12));
      *out += char(0x80 | ((cp >> 6) & 0x3F));
      *out += char(0x80 | (cp & 0x3F));
    } else {
      *out += char(0xF0 | (cp >> 18));
      *out += char(0x80 | ((cp >> 12) & 0x3F));
      *out += char(0x80 | ((cp >> 6) & 0x3F));
      *out += char(0x80 | (cp & 0x3F));
    }
  }

  unsigned escaped_code_point() {
    unsigned cp = hex4();
    if (cp >= 0xDC00 && cp <= 0xDFFF) fail("unpaired surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (n_ - i_ < 2 || s_[i_] != '\\' || s_[i_ + 1] != 'u') fail("unpaired surrogate");
      i_ += 2;
      const unsigned low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail("unpaired surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    return cp;
  }

  std::string string() {
    ++i_;  // opening quote
    std::string out;
    for (;;) {
      if (i_ >= n_) fail("unterminated string");
      const char c = s_[i_++];
      if (c == '"') {
        account(out.size());
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= n_) fail("unterminated string");
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u':
          append_utf8(&out, escaped_code_point());
          break;
        default:
          fail("bad escape");
      }
    }
  }

  bool digit() const { return i_ < n_ && s_[i_] >= '0' && s_[i_] <= '9'; }

  // Validates the RFC grammar first, then converts; integers are kept exact when they fit.
  void number(Value *v) {
    const size_t start = i_;
    bool integral = true;
    if (i_ < n_ && s_[i_] == '-') ++i_;
    if (!digit()) fail("unexpected character");
    if (s_[i_] == '0')
      ++i_;
    else
      while (digit()) ++i_;
    if (i_ < n_ && s_[i_] == '.') {
      integral = false;
      ++i_;
      if (!digit()) fail("bad number");
      while (digit()) ++i_;
    }
    if (i_ < n_ && (s_[i_] == 'e' || s_[i_] == 'E')) {
      integral = false;
      ++i_;
      if (i_ < n_ && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digit()) fail("bad number");
      while (digit()) ++i_;
    }
    const std::string text(s_ + start, i_ - start);
    v->type = Type::Number;
    v->number = std::strtod(text.c_str(), nullptr);
    if (integral) {
      errno = 0;
      const long long x = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == 0) {
        v->is_integer = true;
        v->integer = x;
      }
    }
  }

  // Charged to the budget a batch at a time (a charge builds a message string).
  void account(size_t bytes) {
    if (!budget_) return;
    pending_ += bytes;
    if (pending_ >= kChargeBatch) {
      budget_->charge(pending_, "the JSON header's values");
      pending_ = 0;
    }
  }
  static constexpr size_t kChargeBatch = size_t(1) << 20;

  const char *s_;
  size_t n_;
  size_t i_ = 0;
  LoadBudget *budget_ = nullptr;
  size_t pending_ = 0;
};

}  // namespace

const Value *Value::get(const std::string &key) const {
  for (const auto &kv : object)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

Value parse(const char *text, size_t size, LoadBudget *budget) {
  return Parser(text, size, budget).document();
}

}  // namespace xunit::convert::json
