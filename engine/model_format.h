// Constants of the .xunit file format, version 1.x. The normative description is
// docs/xunit-format.md.
#pragma once
#include <cstdint>

namespace xunit::format {

constexpr uint8_t kMagic[8] = {0x89, 'X', 'U', 'N', 'I', 'T', '\r', '\n'};
constexpr uint16_t kVersionMajor = 1;
// The newest minor version written (1.1: resize, pixel_shuffle_dcr; 1.2: tanh, gate_gaussian, sub,
// exp, clip, softplus, conv2d_dilated, conv_transpose2d; 1.3: div, pixel_unshuffle,
// space_to_depth, conv2d_border; 1.4: noise_level_map; 1.5: pixel_unshuffle_edge, and a
// noise_level_map beside an unshuffled input).
constexpr uint16_t kVersionMinor = 5;
constexpr uint32_t kHeaderSize = 64;
constexpr uint32_t kSectionEntrySize = 24;
constexpr uint32_t kChecksumSize = 32;   // SHA-256 trailer
constexpr uint64_t kBlobAlignment = 64;  // weight blobs start on 64-byte boundaries (mmap, SIMD)

// The most ops a graph may have (docs/xunit-format.md); a reader refuses more before parsing them.
constexpr uint32_t kMaxOps = 65536;

enum SectionKind : uint32_t {
  kSectionMetadata = 1,
  kSectionTensors = 2,
  kSectionGraph = 3,
  kSectionWeights = 4,
};
constexpr uint32_t kSectionFlagRequired = 1;  // a reader that does not know the kind must refuse

enum AttrKind : uint32_t {
  kAttrInt = 1,
  kAttrFloat = 2,
  kAttrString = 3,
  kAttrTensor = 4,  // the name of a tensor in the tensor table
};

}  // namespace xunit::format
