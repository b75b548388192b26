// One kernel registry per family: a single list of the family's SIMD variants, ordered best
// first, from which the family's select_* function chooses and which its tester and
// microbenchmark iterate, so that a new variant is added in exactly one place (the family's
// *_select.cpp). Every variant names the least ISA it needs (kernels/isa.h) and the keys it
// serves (channel block, and per family any other key); the scalar reference serves every key.
#pragma once

#include <cstddef>

#include "kernels/isa.h"

namespace xunit::kernels {

// The arithmetic of a variant's multiplications, a key for the families that have both: float32,
// or bfloat16 operands (rounded to nearest even) with float32 sums (AVX512-BF16's vdpbf16ps:
// twice float32's multiplications per instruction). Each kind has its own scalar reference.
enum class Products { F32, Bf16 };

// A read-only view of a family's variant list (begin/end for range-for).
template <class T>
struct VariantList {
  const T *first = nullptr;
  size_t count = 0;
  const T *begin() const { return first; }
  const T *end() const { return first + count; }
  size_t size() const { return count; }
};

// The first variant of `list` whose ISA is at most `isa` and for which keys_match(variant)
// holds; null when none does (the caller then uses its scalar reference).
template <class T, class KeysMatch>
const T *first_variant(VariantList<T> list, Isa isa, KeysMatch keys_match) {
  for (const T &v : list)
    if (int(v.isa) <= int(isa) && keys_match(v)) return &v;
  return nullptr;
}

}  // namespace xunit::kernels
