#include "converter/torch_checkpoint.h"

#include <cstring>
#include <set>

#include "common/error.h"
#include "converter/bytes_le.h"

namespace xunit::convert {
namespace {

using pickle::Kind;
using pickle::ValueId;

// 0x1950a86a20f9469cfc6c, the legacy format's magic number, as LONG1 payload bytes.
const uint8_t kLegacyMagic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr int64_t kLegacyProtocolVersion = 1001;

[[noreturn]] void fail(const std::string &what) { throw Error("bad PyTorch checkpoint: " + what); }

struct StorageType {
  const char *global;
  DType dtype;
};
const StorageType kStorageTypes[] = {
    {"torch.FloatStorage", DType::F32},     {"torch.HalfStorage", DType::F16},
    {"torch.BFloat16Storage", DType::BF16}, {"torch.DoubleStorage", DType::F64},
    {"torch.LongStorage", DType::I64},      {"torch.IntStorage", DType::I32},
    {"torch.ShortStorage", DType::I16},     {"torch.CharStorage", DType::I8},
    {"torch.ByteStorage", DType::U8},       {"torch.BoolStorage", DType::Bool},
};

const pickle::Value &item(const pickle::Graph &g, const pickle::Value &tuple, size_t i) {
  return g.at(tuple.items.at(i));
}

// A value from the file that must be a non-negative int fitting size_t.
size_t non_negative(const pickle::Value &v, const char *what) {
  if (v.kind != Kind::Int || v.int_value < 0)
    fail(std::string(what) + " is not a non-negative int");
  return size_t(v.int_value);
}

// Entry "<root>/data.pkl", with no other '/' in <root>: torch names <root> after the file
// (1.6-1.13) or "archive" (2.x).
std::string find_zip_root(const ZipReader &zip) {
  const std::string suffix = "/data.pkl";
  std::string root;
  int found = 0;
  for (const auto &e : zip.entries()) {
    const std::string &n = e.name;
    if (n.size() <= suffix.size() || n.compare(n.size() - suffix.size(), suffix.size(), suffix))
      continue;
    const std::string prefix = n.substr(0, n.size() - suffix.size());
    if (prefix.find('/') != std::string::npos) continue;
    root = prefix;
    ++found;
  }
  if (found == 0) fail("zip archive has no <name>/data.pkl (not a PyTorch checkpoint?)");
  if (found > 1) fail("zip archive has more than one data.pkl");
  return root;
}

void check_byteorder(const ZipReader &zip, const std::string &root, LoadBudget *budget) {
  const ZipEntry *e = zip.find(root + "/byteorder");
  if (!e) return;  // torch < 2.0 wrote only little-endian files and no marker
  const std::vector<uint8_t> order = zip.read(*e, budget);
  const std::string s(order.begin(), order.end());
  if (s == "big") throw Error("big-endian PyTorch checkpoints are not supported");
  if (s != "little") fail("unknown byteorder '" + s.substr(0, 16) + "'");
}

pickle::Unpickled unpickle_at(const uint8_t *data, size_t size, size_t *pos) {
  pickle::Unpickled u = pickle::unpickle(data + *pos, size - *pos);
  *pos += u.consumed;
  return u;
}

void check_legacy_header(const uint8_t *data, size_t size, size_t *pos) {
  const pickle::Unpickled magic = unpickle_at(data, size, pos);
  const pickle::Value &m = magic.graph.at(magic.root);
  if (m.kind != Kind::BigInt || m.text.size() != sizeof(kLegacyMagic) ||
      std::memcmp(m.text.data(), kLegacyMagic, sizeof(kLegacyMagic)) != 0)
    fail("legacy magic number missing");
  const pickle::Unpickled proto = unpickle_at(data, size, pos);
  const pickle::Value &p = proto.graph.at(proto.root);
  if (p.kind != Kind::Int || p.int_value != kLegacyProtocolVersion)
    fail("unsupported legacy protocol version");
  const pickle::Unpickled info = unpickle_at(data, size, pos);
  const pickle::Value &d = info.graph.at(info.root);
  if (d.kind != Kind::Dict) fail("legacy sys_info is not a dict");
  for (size_t i = 0; i + 1 < d.items.size(); i += 2) {
    const pickle::Value &k = item(info.graph, d, i), &v = item(info.graph, d, i + 1);
    if (k.kind != Kind::String || k.text != "little_endian") continue;
    if (v.kind != Kind::Bool) fail("legacy sys_info little_endian is not a bool");
    if (!v.int_value) throw Error("big-endian PyTorch checkpoints are not supported");
    return;
  }
  fail("legacy sys_info does not say whether the file is little-endian");
}

}  // namespace

bool looks_like_torch_legacy(const uint8_t *data, size_t size) {
  return size >= 14 && data[0] == 0x80 && data[2] == 0x8a && data[3] == sizeof(kLegacyMagic) &&
         std::memcmp(data + 4, kLegacyMagic, sizeof(kLegacyMagic)) == 0;
}

TorchCheckpoint TorchCheckpoint::open_zip(const uint8_t *data, size_t size) {
  TorchCheckpoint c;
  c.budget_ = LoadBudget(size, "checkpoint");
  c.zip_.emplace(data, size);
  c.zip_root_ = find_zip_root(*c.zip_);
  check_byteorder(*c.zip_, c.zip_root_, &c.budget_);
  const std::vector<uint8_t> pkl =
      c.zip_->read(*c.zip_->find(c.zip_root_ + "/data.pkl"), &c.budget_);
  c.object_ = pickle::unpickle(pkl.data(), pkl.size());
  if (c.object_.consumed != pkl.size()) fail("data.pkl has bytes after its STOP opcode");
  return c;
}

TorchCheckpoint TorchCheckpoint::open_legacy(const uint8_t *data, size_t size) {
  TorchCheckpoint c;
  c.budget_ = LoadBudget(size, "checkpoint");
  c.legacy_ = true;
  size_t pos = 0;
  check_legacy_header(data, size, &pos);
  c.object_ = unpickle_at(data, size, &pos);
  c.read_legacy_storages(data, size, pos);
  return c;
}

// After the object pickle: a pickled list of root storage keys, then for each key its element
// count (int64) and raw bytes. Element sizes come from the storage types in the persistent ids.
void TorchCheckpoint::read_legacy_storages(const uint8_t *data, size_t size, size_t pos) {
  std::map<std::string, StorageRef> roots;
  const pickle::Graph &g = object_.graph;
  for (ValueId id = 0; id < g.values.size(); ++id) {
    if (g.values[id].kind != Kind::PersistentRef) continue;
    const StorageRef ref = parse_persistent_id(id);
    const auto it = roots.emplace(ref.key, ref).first;
    if (it->second.dtype != ref.dtype || it->second.numel != ref.numel)
      fail("storage '" + ref.key + "' is referenced with conflicting types or sizes");
  }
  const pickle::Unpickled keys = unpickle_at(data, size, &pos);
  const pickle::Value &list = keys.graph.at(keys.root);
  if (list.kind != Kind::List) fail("legacy storage key list is not a list");
  for (ValueId k : list.items) {
    const pickle::Value &key = keys.graph.at(k);
    if (key.kind != Kind::String) fail("legacy storage key is not a string");
    const auto it = roots.find(key.text);
    if (it == roots.end()) fail("storage '" + key.text + "' is not used by any tensor");
    if (storages_.count(key.text)) fail("storage '" + key.text + "' is stored twice");
    if (!range_ok(pos, 8, size)) fail("storage '" + key.text + "' is truncated");
    const uint64_t count = load_u64le(data + pos);
    pos += 8;
    if (count != it->second.numel)
      fail("storage '" + key.text + "' holds " + std::to_string(count) + " elements, expected " +
           std::to_string(it->second.numel));
    size_t nbytes = 0;
    if (!checked_mul(size_t(count), element_size(it->second.dtype), &nbytes) ||
        !range_ok(pos, nbytes, size))
      fail("storage '" + key.text + "' runs past the end of the file");
    storages_[key.text] = StorageSpan{it->second.dtype, data + pos, size_t(count)};
    pos += nbytes;
  }
}

// Zip: ('storage', storage_type, key, location, numel).
// Legacy: the same plus view_metadata: None or (view_key, offset, view_numel).
TorchCheckpoint::StorageRef TorchCheckpoint::parse_persistent_id(ValueId ref_id) const {
  const pickle::Graph &g = object_.graph;
  const pickle::Value &pid = g.at(g.at(ref_id).items.at(0));
  const size_t expected = legacy_ ? 6 : 5;
  if (pid.kind != Kind::Tuple || pid.items.size() != expected)
    fail("unexpected persistent id (expected a " + std::to_string(expected) + "-tuple)");
  const pickle::Value &tag = item(g, pid, 0), &type = item(g, pid, 1), &key = item(g, pid, 2);
  if (tag.kind != Kind::String || tag.text != "storage") fail("persistent id is not a storage");
  if (key.kind != Kind::String) fail("storage key is not a string");
  StorageRef ref;
  ref.key = key.text;
  bool known = false;
  for (const auto &st : kStorageTypes) {
    if (type.kind == Kind::Global && type.text == st.global) {
      ref.dtype = st.dtype;
      known = true;
    }
  }
  if (!known) fail("storage '" + ref.key + "' has an unsupported storage type");
  ref.numel = non_negative(item(g, pid, 4), "storage size");
  if (legacy_ && item(g, pid, 5).kind != Kind::None) {
    const pickle::Value &view = item(g, pid, 5);
    if (view.kind != Kind::Tuple || view.items.size() != 3)
      fail("storage view metadata is not a 3-tuple");
    ref.is_view = true;
    ref.view_offset = non_negative(item(g, view, 1), "storage view offset");
    ref.view_numel = non_negative(item(g, view, 2), "storage view size");
  }
  return ref;
}

// The whole root storage, checked against what the persistent id claims.
StorageSpan TorchCheckpoint::root_storage(const StorageRef &ref) const {
  auto cached = storages_.find(ref.key);
  if (cached == storages_.end()) {
    if (legacy_) fail("storage '" + ref.key + "' has no data in the file");
    const ZipEntry *e = zip_->find(zip_root_ + "/data/" + ref.key);
    size_t nbytes = 0;
    if (!checked_mul(ref.numel, element_size(ref.dtype), &nbytes))
      fail("storage '" + ref.key + "' size overflows");
    if (!e && nbytes != 0) fail("storage '" + ref.key + "' is missing from the archive");
    if (e && e->uncompressed_size != nbytes)
      fail("storage '" + ref.key + "' holds " + std::to_string(e->uncompressed_size) +
           " bytes, expected " + std::to_string(nbytes));
    const uint8_t *bytes = nullptr;
    if (e) bytes = zip_->stored_data(*e);
    if (e && !bytes) bytes = (inflated_[ref.key] = zip_->read(*e, &budget_)).data();
    cached = storages_.emplace(ref.key, StorageSpan{ref.dtype, bytes, ref.numel}).first;
  }
  if (cached->second.dtype != ref.dtype || cached->second.numel != ref.numel)
    fail("storage '" + ref.key + "' is referenced with conflicting types or sizes");
  return cached->second;
}

NamedTensor TorchCheckpoint::tensor(const std::string &name, ValueId id) const {
  const pickle::Value &v = graph().at(id);
  if (v.kind != Kind::Tensor)
    throw Error("state dict entry '" + name + "' is not a tensor (it is " +
                pickle::describe(v.kind) + ")");
  const pickle::TensorRecord &rec = graph().tensor(v);
  const StorageRef ref = parse_persistent_id(rec.storage);
  StorageSpan span = root_storage(ref);
  if (ref.is_view) {
    size_t end = 0;
    if (!checked_add(ref.view_offset, ref.view_numel, &end) || end > span.numel)
      fail("storage view of '" + ref.key + "' lies outside its storage");
    span.data += ref.view_offset * element_size(span.dtype);
    span.numel = ref.view_numel;
  }
  return materialize_view(name, span, rec.offset, rec.shape, rec.stride, &budget_);
}

}  // namespace xunit::convert
