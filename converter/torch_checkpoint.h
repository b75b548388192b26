// PyTorch checkpoints: the zip format (torch >= 1.6) and the legacy sequence-of-pickles format
// (torch 1.0-1.5, or _use_new_zipfile_serialization=False). Both decode to an inert pickle graph
// whose tensors are materialized on request.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "converter/pickle.h"
#include "converter/state_dict.h"
#include "converter/tensor_view.h"
#include "converter/zip_reader.h"

namespace xunit::convert {

class TorchCheckpoint {
 public:
  // Both keep pointers into `data`, which must outlive the checkpoint. Throw xunit::Error.
  // Everything the checkpoint allocates from the file (inflated entries, float32 tensors) is
  // charged to one LoadBudget of the file's size (common/load_budget.h).
  static TorchCheckpoint open_zip(const uint8_t *data, size_t size);
  static TorchCheckpoint open_legacy(const uint8_t *data, size_t size);

  const pickle::Graph &graph() const { return object_.graph; }
  pickle::ValueId root() const { return object_.root; }

  // Converts the Tensor value `id` (named `name` in errors) to a contiguous float32 tensor.
  NamedTensor tensor(const std::string &name, pickle::ValueId id) const;

 private:
  // What a persistent id says about a storage (elements, not bytes).
  struct StorageRef {
    DType dtype = DType::F32;
    std::string key;       // the root storage
    size_t numel = 0;      // of the root storage
    bool is_view = false;  // legacy storage views: a slice of the root storage
    size_t view_offset = 0;
    size_t view_numel = 0;
  };
  StorageRef parse_persistent_id(pickle::ValueId ref) const;
  StorageSpan root_storage(const StorageRef &ref) const;
  void read_legacy_storages(const uint8_t *data, size_t size, size_t pos);

  pickle::Unpickled object_;
  // Zip: storages are archive entries, read (and CRC-checked) the first time a tensor needs one.
  std::optional<ZipReader> zip_;
  std::string zip_root_;
  mutable std::map<std::string, std::vector<uint8_t>> inflated_;
  // Root storage key -> bytes in place (legacy always; zip stored entries once checked).
  mutable std::map<std::string, StorageSpan> storages_;
  bool legacy_ = false;
  mutable LoadBudget budget_{0};
};

// True when the bytes start with the legacy format's pickled magic number.
bool looks_like_torch_legacy(const uint8_t *data, size_t size);

}  // namespace xunit::convert
