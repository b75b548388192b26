// The non-executing pickle VM: opcodes, the global allow-list, limits and hostile input.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_io.h"
#include "converter/pickle.h"
#include "converter/zip_reader.h"

using xunit::Error;
using namespace xunit::convert::pickle;
using namespace std::string_literals;

namespace {

// Pickle assembly helpers.
std::string u32le(uint32_t v) {
  std::string s;
  for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
  return s;
}
std::string binunicode(const std::string &s) { return "X" + u32le(uint32_t(s.size())) + s; }
std::string short_unicode(const std::string &s) { return std::string("\x8c") + char(s.size()) + s; }
std::string global(const std::string &module, const std::string &name) {
  return "c" + module + "\n" + name + "\n";
}
const std::string kProto2 = std::string("\x80\x02", 2);

Unpickled run(const std::string &p) {
  return unpickle(reinterpret_cast<const uint8_t *>(p.data()), p.size());
}

std::string error_of(const std::string &p) {
  try {
    run(p);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

// The ('storage', FloatStorage, key, 'cpu', numel) persistent id torch's zip format uses.
std::string storage_pid(const std::string &key, int numel) {
  return "((" + binunicode("storage") + global("torch", "FloatStorage") + binunicode(key) +
         binunicode("cpu") + "K" + char(numel) + "tQ";
}

}  // namespace

TEST_CASE("pickle: scalars of every encoding") {
  const std::string p = kProto2 + "(" + "J" + u32le(uint32_t(-5)) +  // BININT
                        "K\xc8" +                                    // BININT1 200
                        "M\x34\x12" +                                // BININT2 0x1234
                        std::string("\x8a\x01\xff", 3) +             // LONG1 -1
                        "\x8a\x00"s +                                // LONG1 0
                        "\x8b\x02\x00\x00\x00\x00\x80"s +            // LONG4 -32768
                        "I123456789012\n" + "L-42L\n" + "I01\n" +
                        "G\x3f\xf8\x00\x00\x00\x00\x00\x00"s +  // BINFLOAT 1.5
                        "N\x88\x89" + binunicode("héllo") + short_unicode("k") +
                        std::string("U\x02hi", 4) + "T" + u32le(3) + "abc" + "C\x02\x00\x01"s +
                        "B" + u32le(1) + "z" + std::string("\x8d", 1) + "\x03\0\0\0\0\0\0\0"s +
                        "u8s" + std::string("\x8e", 1) + "\x01\0\0\0\0\0\0\0"s + "q" + "t.";
  const Unpickled u = run(p);
  const Value &t = u.graph.at(u.root);
  REQUIRE(t.kind == Kind::Tuple);
  REQUIRE(t.items.size() == 21);
  auto at = [&](size_t i) -> const Value & { return u.graph.at(t.items[i]); };
  CHECK(at(0).int_value == -5);
  CHECK(at(1).int_value == 200);
  CHECK(at(2).int_value == 0x1234);
  CHECK(at(3).int_value == -1);
  CHECK(at(4).int_value == 0);
  CHECK(at(5).int_value == -32768);
  CHECK(at(6).int_value == 123456789012LL);
  CHECK(at(7).int_value == -42);
  CHECK(at(8).kind == Kind::Bool);
  CHECK(at(8).int_value == 1);
  CHECK(at(9).float_value == 1.5);
  CHECK(at(10).kind == Kind::None);
  CHECK(at(11).int_value == 1);
  CHECK(at(12).int_value == 0);
  CHECK(at(13).text == "héllo");
  CHECK(at(14).text == "k");
  CHECK(at(15).text == "hi");
  CHECK(at(16).text == "abc");
  CHECK(at(17).kind == Kind::Bytes);
  CHECK(at(17).text == "\x00\x01"s);
  CHECK(at(18).text == "z");
  CHECK(at(19).text == "u8s");
  CHECK(at(20).kind == Kind::Bytes);
  CHECK(at(20).text == "q");
  CHECK(u.consumed == p.size());
}

TEST_CASE("pickle: LONG1 beyond 64 bits stays raw (the legacy magic number)") {
  const std::string magic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
  const Unpickled u = run(kProto2 + "\x8a\x0a" + magic + ".");
  CHECK(u.graph.at(u.root).kind == Kind::BigInt);
  CHECK(u.graph.at(u.root).text == magic);
  // Nine bytes that still fit: sign-extension bytes are dropped.
  const Unpickled v =
      run(kProto2 + std::string("\x8a\x09\xfe\xff\xff\xff\xff\xff\xff\xff\xff.", 12));
  CHECK(v.graph.at(v.root).int_value == -2);
}

TEST_CASE("pickle: containers, memo and stack manipulation") {
  const std::string p = kProto2 + "}q\x00("s + short_unicode("a") + "K\x01" + short_unicode("b") +
                        "]q\x01(K\x02K\x03"
                        "eu" +
                        short_unicode("c") + "h\x01s" +  // BINGET: the same list object
                        short_unicode("d") +
                        "(K\x01K\x02K\x03l"
                        "K\x04"
                        "a"
                        "s" +  // LIST + APPEND
                        short_unicode("e") +
                        "K\x01K\x02\x86"
                        "2"
                        "0"
                        "s" +  // TUPLE2, DUP, POP
                        short_unicode("f") +
                        "\x8f(K\x05K\x06\x90"
                        "s" +  // EMPTY_SET + ADDITEMS
                        short_unicode("g") +
                        "(K\x07\x91"
                        "s" +  // FROZENSET
                        short_unicode("h") +
                        "(K\x01K\x02"
                        "d"
                        "s" +  // DICT
                        short_unicode("i") +
                        "K\x09\x94"
                        "j" +
                        u32le(2) + "\x86s" +  // MEMOIZE, LONG_BINGET
                        short_unicode("j") +
                        "(K\x01"
                        "1"
                        "N"
                        "s" +  // POP_MARK
                        short_unicode("k") +
                        "K\x01"
                        "r" +
                        u32le(70000) +
                        "0"
                        "j" +
                        u32le(70000) + "s" + "(0" +  // POP with an empty frame pops the mark
                        ".";
  const Unpickled u = run(p);
  const Graph &g = u.graph;
  const Value &d = g.at(u.root);
  REQUIRE(d.kind == Kind::Dict);
  REQUIRE(d.items.size() == 22);
  auto value = [&](size_t i) -> const Value & { return g.at(d.items[2 * i + 1]); };
  CHECK(value(0).int_value == 1);
  CHECK(value(1).kind == Kind::List);
  CHECK(value(1).items.size() == 2);
  CHECK(d.items[3] == d.items[5]);  // memo returns the same object
  CHECK(value(3).items.size() == 4);
  CHECK(value(4).kind == Kind::Tuple);
  CHECK(value(5).kind == Kind::Set);
  CHECK(value(5).items.size() == 2);
  CHECK(value(6).items.size() == 1);
  CHECK(value(7).kind == Kind::Dict);
  CHECK(value(8).items.size() == 2);
  CHECK(g.at(value(8).items[0]).int_value == 9);
  CHECK(value(8).items[0] == value(8).items[1]);  // MEMOIZE stored 9 at the next index, 2
  CHECK(value(9).kind == Kind::None);
  CHECK(value(10).int_value == 1);
}

TEST_CASE("pickle: protocol 0 text opcodes") {
  const std::string p = "(lp0\nI1\naL7L\nag0\na(I00\ntp1\na.";
  const Unpickled u = run(p);
  const Value &l = u.graph.at(u.root);
  REQUIRE(l.kind == Kind::List);
  REQUIRE(l.items.size() == 4);
  CHECK(u.graph.at(l.items[0]).int_value == 1);
  CHECK(u.graph.at(l.items[1]).int_value == 7);
  CHECK(l.items[2] == u.root);  // the list contains itself: a cycle, harmless in the arena
  CHECK(u.graph.at(u.graph.at(l.items[3]).items[0]).kind == Kind::Bool);
}

TEST_CASE("pickle: a torch tensor record, OrderedDict, BUILD and Parameter") {
  const std::string tensor = global("torch._utils", "_rebuild_tensor_v2") + storage_pid("0", 12) +
                             "K\x02"
                             "K\x02K\x03\x86"
                             "K\x01K\x02\x86"
                             "\x89" +
                             global("collections", "OrderedDict") +
                             ")Rt"
                             "R";
  const std::string p = kProto2 + global("collections", "OrderedDict") + ")R" + "(" +
                        short_unicode("w") + tensor + short_unicode("p") +
                        global("torch._utils", "_rebuild_parameter") + "(" + tensor + "\x88" +
                        global("collections", "OrderedDict") +
                        ")Rt"
                        "R" +
                        "u" + "}b" + ".";
  const Unpickled u = run(p);
  const Graph &g = u.graph;
  const Value &d = g.at(u.root);
  REQUIRE(d.kind == Kind::Dict);
  REQUIRE(d.items.size() == 4);
  const Value &w = g.at(d.items[1]);
  REQUIRE(w.kind == Kind::Tensor);
  const TensorRecord &rec = g.tensor(w);
  CHECK(rec.offset == 2);
  CHECK(rec.shape == std::vector<int64_t>{2, 3});
  CHECK(rec.stride == std::vector<int64_t>{1, 2});
  const Value &ref = g.at(rec.storage);
  REQUIRE(ref.kind == Kind::PersistentRef);
  const Value &pid = g.at(ref.items[0]);
  CHECK(pid.items.size() == 5);
  CHECK(g.at(pid.items[1]).text == "torch.FloatStorage");
  CHECK(g.at(d.items[3]).kind == Kind::Tensor);  // the Parameter unwraps to its tensor
}

TEST_CASE("pickle: protocol 4 framing with STACK_GLOBAL and MEMOIZE") {
  const std::string body =
      short_unicode("collections") + "\x94" + short_unicode("OrderedDict") + "\x94\x93\x94)R\x94.";
  std::string p = std::string("\x80\x04\x95", 3);
  for (int i = 0; i < 8; ++i) p.push_back(char(i == 0 ? body.size() : 0));
  p += body;
  CHECK(run(p).graph.at(run(p).root).kind == Kind::Dict);
}

TEST_CASE("pickle: os.system via GLOBAL + REDUCE is refused, naming the global") {
  const std::string p =
      kProto2 + global("os", "system") + binunicode("touch /tmp/xunit_pickle_pwned") + "\x85R.";
  CHECK(error_of(p) ==
        "refusing to load: checkpoint references global 'os.system' (not on the allow-list)");
  CHECK(!xunit::file_exists("/tmp/xunit_pickle_pwned"));
}

TEST_CASE("pickle: a whole pickled module is refused, and the error says how to save its weights") {
  // What torch.save(model) writes: the model's class, rebuilt by Python code we never run.
  const std::string p = kProto2 + global("__main__", "DnCNN") + ")\x81.";
  const std::string e = error_of(p);
  CHECK(e.find("refusing to load: checkpoint references global '__main__.DnCNN'") == 0);
  CHECK(e.find("torch.save(model.state_dict(), 'weights.pt')") != std::string::npos);
  CHECK(e.find('\n') == std::string::npos);  // one line
  // A dangerous function gets no such advice.
  CHECK(error_of(kProto2 + global("os", "system") + ".").find("state_dict") == std::string::npos);
}

TEST_CASE("pickle: builtins.eval via STACK_GLOBAL, and other dangerous globals, are refused") {
  const std::string p = std::string("\x80\x04", 2) + short_unicode("builtins") +
                        short_unicode("eval") + "\x93" + short_unicode("1+1") + "\x85R.";
  CHECK(error_of(p) ==
        "refusing to load: checkpoint references global 'builtins.eval' (not on the allow-list)");
  for (const char *name : {"_codecs.encode", "builtins.getattr", "torch.load", "numpy.ndarray",
                           "torch._utils._rebuild_qtensor", "__builtin__.apply"}) {
    const std::string qualified = name;
    const size_t dot = qualified.rfind('.');
    CHECK(contains(
        error_of(kProto2 + global(qualified.substr(0, dot), qualified.substr(dot + 1)) + "."),
        "global '" + qualified + "'"));
  }
  // Names are sanitised before being printed.
  CHECK(contains(error_of(kProto2 + global("evil\x1b[31m", "x") + "."), "'evil\\x1b[31m.x'"));
}

TEST_CASE("pickle: calling an allowed but inert global, or a non-global, is refused") {
  CHECK(contains(error_of(kProto2 + global("torch", "FloatStorage") + ")R."),
                 "calls 'torch.FloatStorage', which is not an allowed constructor"));
  CHECK(contains(error_of(kProto2 + short_unicode("os") + ")R."), "call of a non-callable"));
  CHECK(contains(error_of(kProto2 + global("torch", "float32") + ")\x81."),
                 "not an allowed constructor"));
  CHECK(contains(error_of(kProto2 + global("collections", "OrderedDict") + "K\x01\x85R."),
                 "OrderedDict called with arguments"));
  // BUILD may only touch dicts and tensors.
  CHECK(contains(error_of(kProto2 + "]}b."), "BUILD on a list"));
}

TEST_CASE("pickle: malformed tensor arguments are refused") {
  const std::string fn = global("torch._utils", "_rebuild_tensor_v2");
  CHECK(contains(error_of(kProto2 + fn + "(K\x01K\x00)K\x01\x85\x89}tR."s),
                 "tensor storage is not a persistent id"));
  CHECK(contains(error_of(kProto2 + fn + storage_pid("0", 4) +
                          "K\x00"s
                          "K\x02\x85"
                          "K\x01K\x01\x86"
                          "tR."),
                 "size and stride differ"));
  CHECK(contains(error_of(kProto2 + fn + storage_pid("0", 4) + "K\x00"s +
                          "N\x85"
                          "K\x01\x85"
                          "tR."),
                 "tensor size holds a non-integer"));
}

TEST_CASE("pickle: memo limits and missing keys") {
  CHECK(error_of(kProto2 + "j" + u32le(0xFFFFFFFFu) + ".") ==
        "malformed pickle: memo key 4294967295 not found");
  CHECK(contains(error_of(kProto2 + "h\x05."), "memo key 5 not found"));
  CHECK(contains(error_of(kProto2 + "g99999999999999999999999\n."), "bad GET index"));
  std::string flood = kProto2 + "N";
  for (uint32_t i = 0; i <= kMaxMemo; ++i) flood += "r" + u32le(i);
  flood += ".";
  CHECK(contains(error_of(flood), "memo too large"));
}

TEST_CASE("pickle: deep nesting is bounded") {
  CHECK(contains(error_of(kProto2 + std::string(5000, '(') + "."), "too many nested MARKs"));
  std::string lists = kProto2 + std::string(100000, ']') + std::string(99999, 'a') + ".";
  CHECK(contains(error_of(lists), "nested too deeply"));
  std::string tuples = kProto2 + "N" + std::string(5000, '\x85') + ".";
  CHECK(contains(error_of(tuples), "nested too deeply"));
  // A list appended to itself over and over is a cycle, not deep nesting of distinct objects,
  // but its recorded depth still grows and is capped.
  std::string self = kProto2 + "]";
  for (int i = 0; i < 2000; ++i) self += "2a";
  self += ".";
  CHECK(contains(error_of(self), "nested too deeply"));
  CHECK(contains(error_of(kProto2 + std::string(kMaxStack + 1, 'N') + "."), "stack too deep"));
}

TEST_CASE("pickle: unknown opcodes are named in hex") {
  CHECK(error_of(kProto2 + "\xff.") == "malformed pickle: unsupported opcode 0xff at offset 2");
  CHECK(contains(error_of(kProto2 + "S'x'\n."), "unsupported opcode 0x53"));  // STRING
  CHECK(contains(error_of("\x80\x09."), "unsupported pickle protocol"));
}

TEST_CASE("pickle: stack discipline") {
  CHECK(contains(error_of(kProto2 + "a."), "stack underflow"));
  CHECK(contains(error_of(kProto2 + "N(a."), "stack underflow"));  // cannot reach below a MARK
  CHECK(contains(error_of(kProto2 + "t."), "no MARK"));
  CHECK(contains(error_of(kProto2 + "NN."), "unbalanced stack"));
  CHECK(contains(error_of(kProto2 + "."), "unbalanced stack"));
  CHECK(contains(error_of(kProto2 + "]K\x01K\x02s."), "cannot add items to a list"));
  CHECK(contains(error_of(kProto2 + "}(K\x01u."), "odd number"));
  CHECK(contains(error_of(kProto2 + "T" + u32le(0x80000000u) + "."), "negative BINSTRING"));
}

TEST_CASE("pickle: every truncation of a valid pickle throws") {
  const std::string tensor = global("torch._utils", "_rebuild_tensor_v2") + storage_pid("0", 12) +
                             "K\x02"
                             "K\x02K\x03\x86"
                             "K\x01K\x02\x86"
                             "\x89" +
                             global("collections", "OrderedDict") +
                             ")Rt"
                             "R";
  const std::string p = kProto2 + "}q\x00("s + binunicode("w") + tensor + "u.";
  REQUIRE(run(p).graph.at(run(p).root).kind == Kind::Dict);
  for (size_t n = 0; n < p.size(); ++n) CHECK_THROWS_AS(run(p.substr(0, n)), Error);
}

TEST_CASE("pickle: a real torch data.pkl decodes, and random damage never crashes it") {
  const auto file = xunit::read_file(std::string(XUNIT_TEST_DATA_DIR) + "/readers/zip_basic.pt");
  xunit::convert::ZipReader zip(file.data(), file.size());
  const auto pkl = zip.read(*zip.find("zip_basic/data.pkl"));
  const Unpickled u = unpickle(pkl.data(), pkl.size());
  const Value &root = u.graph.at(u.root);
  REQUIRE(root.kind == Kind::Dict);
  CHECK(root.items.size() == 2 * 16);
  for (size_t i = 1; i < root.items.size(); i += 2)
    CHECK(u.graph.at(root.items[i]).kind == Kind::Tensor);

  std::mt19937 rng(12345);
  size_t refused = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> bad = pkl;
    const int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) bad[rng() % bad.size()] = uint8_t(rng());
    try {
      unpickle(bad.data(), bad.size());
    } catch (const Error &) {
      ++refused;
    }
  }
  CHECK(refused > 0);
  refused = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> noise(1 + rng() % 64);
    for (auto &b : noise) b = uint8_t(rng());
    try {
      unpickle(noise.data(), noise.size());
    } catch (const Error &) {
      ++refused;
    }
  }
  CHECK(refused > 0);
}

TEST_CASE("pickle: the allow-list") {
  CHECK(is_allowed_global("torch._utils._rebuild_tensor_v2"));
  CHECK(is_allowed_global("torch.BFloat16Storage"));
  CHECK(is_allowed_global("collections.OrderedDict"));
  CHECK(!is_allowed_global("_codecs.encode"));
  CHECK(!is_allowed_global("os.system"));
  CHECK(!is_allowed_global("torch._utils._rebuild_tensor_v2x"));
}
