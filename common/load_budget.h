// One memory budget per load of an untrusted file (docs/hostile-inputs.md): every reader charges
// what it allocates from what the file says (decoded tensors, inflated zip entries, JSON nodes,
// protobuf messages) before it allocates it, and the load is refused with one line once the
// total would pass a fixed multiple of the file's size plus a small constant. A crafted file
// therefore cannot make a load need more memory than a fixed factor of its own size, however it
// aliases, broadcasts or compresses its contents.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace xunit {

class LoadBudget {
 public:
  // 8 x the file + 64 MiB: room for fp16 -> fp32 widening (x2), a deflated entry and its
  // widened copy, and a file's parsed structure; a crafted file needs far more.
  static constexpr uint64_t kMultiple = 8;
  static constexpr uint64_t kConstant = uint64_t(64) << 20;

  // `what` names the input in the refusal ("checkpoint", "model", "ONNX model").
  explicit LoadBudget(uint64_t file_size, std::string what = "file");

  // Records `bytes` about to be allocated for `purpose` ("tensor 'conv.weight'"); throws
  // xunit::Error("... needs N bytes more ...") when the total would pass the limit.
  void charge(uint64_t bytes, const std::string &purpose);
  // Two factors whose product is charged (a count times a size), overflow-checked.
  void charge(uint64_t count, uint64_t size, const std::string &purpose);

  uint64_t used() const { return used_; }
  uint64_t limit() const { return limit_; }

 private:
  uint64_t file_size_;
  uint64_t limit_;
  uint64_t used_ = 0;
  std::string what_;
};

// "1.5 GiB", "12.0 MiB", "737 bytes": for messages.
std::string format_bytes(uint64_t bytes);

}  // namespace xunit
