#include "converter/checkpoint.h"

#include <unordered_map>

#include "common/error.h"
#include "converter/safetensors.h"
#include "converter/torch_checkpoint.h"
#include "converter/zip_reader.h"

namespace xunit::convert {
namespace {

using pickle::Kind;
using pickle::ValueId;

// Training scripts save {"state_dict": ..., "epoch": ..., "optimizer": ...} and similar; the
// xUnit code uses "g_model" for the generator. Checked in this order.
const char *const kWrapperKeys[] = {"state_dict", "model", "g_model", "generator", "net", "params"};

const pickle::Value *dict_lookup(const pickle::Graph &g, const pickle::Value &dict,
                                 const std::string &key) {
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const pickle::Value &k = g.at(dict.items[i]);
    if (k.kind == Kind::String && k.text == key) return &g.at(dict.items[i + 1]);
  }
  return nullptr;
}

bool is_tensor_dict(const pickle::Graph &g, const pickle::Value &v) {
  if (v.kind != Kind::Dict || v.items.empty()) return false;
  for (size_t i = 1; i < v.items.size(); i += 2)
    if (g.at(v.items[i]).kind != Kind::Tensor) return false;
  return true;
}

// The dict that holds the tensors: the root itself, else the first wrapper entry that is a dict
// of tensors. When none qualifies, the closest candidate is returned so that the caller's error
// names its first non-tensor entry.
const pickle::Value &select_state_dict(const pickle::Graph &g, const pickle::Value &root) {
  if (root.kind != Kind::Dict)
    throw Error("checkpoint does not hold a state dict (it holds " + pickle::describe(root.kind) +
                ")");
  if (is_tensor_dict(g, root)) return root;
  for (const char *key : kWrapperKeys) {
    const pickle::Value *v = dict_lookup(g, root, key);
    if (v && is_tensor_dict(g, *v)) return *v;
  }
  for (const char *key : kWrapperKeys) {
    const pickle::Value *v = dict_lookup(g, root, key);
    if (v && v->kind == Kind::Dict) return *v;
  }
  return root;
}

// Python dict semantics: a repeated key keeps its first position and its last value.
StateDict tensors_of(const TorchCheckpoint &ckpt, const pickle::Value &dict) {
  const pickle::Graph &g = ckpt.graph();
  if (dict.items.empty()) throw Error("checkpoint holds no tensors");
  std::vector<std::pair<std::string, ValueId>> entries;
  std::unordered_map<std::string, size_t> position;
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const pickle::Value &k = g.at(dict.items[i]);
    if (k.kind != Kind::String)
      throw Error("state dict has a key that is not a string (it is " + pickle::describe(k.kind) +
                  ")");
    const auto it = position.emplace(k.text, entries.size());
    if (it.second)
      entries.emplace_back(k.text, dict.items[i + 1]);
    else
      entries[it.first->second].second = dict.items[i + 1];
  }
  StateDict sd;
  for (const auto &e : entries) sd.tensors.push_back(ckpt.tensor(e.first, e.second));
  return sd;
}

StateDict load_torch(const TorchCheckpoint &ckpt) {
  return tensors_of(ckpt, select_state_dict(ckpt.graph(), ckpt.graph().at(ckpt.root())));
}

// nn.DataParallel saves every key as "module.<key>".
void strip_module_prefix(StateDict *sd) {
  const std::string prefix = "module.";
  if (sd->tensors.empty()) return;
  for (const auto &t : sd->tensors)
    if (t.name.compare(0, prefix.size(), prefix) != 0) return;
  for (auto &t : sd->tensors) t.name.erase(0, prefix.size());
}

}  // namespace

StateDict load_checkpoint(const std::vector<uint8_t> &bytes, CheckpointFormat *format_out) {
  const uint8_t *data = bytes.data();
  const size_t size = bytes.size();
  CheckpointFormat format;
  StateDict sd;
  if (looks_like_zip(data, size)) {
    format = CheckpointFormat::TorchZip;
    sd = load_torch(TorchCheckpoint::open_zip(data, size));
  } else if (looks_like_torch_legacy(data, size)) {
    format = CheckpointFormat::TorchLegacy;
    sd = load_torch(TorchCheckpoint::open_legacy(data, size));
  } else if (looks_like_safetensors(data, size)) {
    format = CheckpointFormat::Safetensors;
    sd = read_safetensors(data, size);
  } else {
    throw Error(
        "unrecognised checkpoint format (expected a PyTorch .pt/.pth or .safetensors file)");
  }
  strip_module_prefix(&sd);
  if (format_out) *format_out = format;
  return sd;
}

}  // namespace xunit::convert
