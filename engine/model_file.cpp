#include "engine/model_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"
#include "common/half.h"
#include "common/load_budget.h"
#include "common/sha256.h"
#include "engine/byte_codec.h"
#include "engine/model_format.h"
#include "engine/resize_taps.h"

namespace xunit {

namespace {

using namespace format;

// ---------------------------------------------------------------- writing

void write_attr_int(ByteWriter &w, const char *name, int64_t v) {
  w.str(name);
  w.u32(kAttrInt);
  w.i64(v);
}
void write_attr_float(ByteWriter &w, const char *name, float v) {
  w.str(name);
  w.u32(kAttrFloat);
  w.f32(v);
}
void write_attr_string(ByteWriter &w, const char *name, const std::string &v) {
  w.str(name);
  w.u32(kAttrString);
  w.str(v);
}
void write_attr_tensor(ByteWriter &w, const char *name, const Graph &g, int id) {
  w.str(name);
  w.u32(kAttrTensor);
  w.str(g.tensor(id).name);
}

std::vector<uint8_t> encode_graph(const Graph &g) {
  ByteWriter w;
  w.str(g.values[size_t(g.input)].name);
  w.u32(uint32_t(g.values[size_t(g.input)].channels));
  w.str(g.values[size_t(g.output)].name);
  w.u32(uint32_t(g.ops.size()));
  for (const Op &op : g.ops) {
    w.str(op_type_name(op.type));
    w.str(op.name);
    w.u32(uint32_t(op.inputs.size()));
    for (int id : op.inputs) w.str(g.values[size_t(id)].name);
    w.str(g.values[size_t(op.output)].name);
    ByteWriter attrs;
    uint32_t n = 0;
    auto add_int = [&](const char *name, int64_t v) { write_attr_int(attrs, name, v), ++n; };
    auto add_tensor = [&](const char *name, int id) {
      if (id >= 0) write_attr_tensor(attrs, name, g, id), ++n;
    };
    switch (op_traits(op.type).op_class) {
      case OpClass::Conv:
        add_int("kernel", op.kernel);
        add_int("groups", op.groups);
        add_int("in_channels", op.in_channels);
        add_int("out_channels", op.out_channels);
        add_tensor("weight", op.weight);
        add_tensor("bias", op.bias);
        if (op.dilation != 1) add_int("dilation", op.dilation);
        if (op.type == OpType::BorderConv2d)
          write_attr_string(attrs, "border", border_mode_name(op.border)), ++n;
        break;
      case OpClass::Unary:  // the attributes the op has (engine/ops/unary.h reads them)
        add_tensor("scale", op.scale);
        add_tensor("shift", op.shift);
        add_tensor("slope", op.slope);
        if (op.alpha != 0.f) write_attr_float(attrs, "alpha", op.alpha), ++n;
        if (op.beta != 0.f) write_attr_float(attrs, "beta", op.beta), ++n;
        break;
      case OpClass::Resample:
        add_int("factor", op.factor);
        if (op.type == OpType::ConvTranspose2d) {
          add_int("kernel", op.kernel);
          add_int("padding", op.padding);
          add_int("in_channels", op.in_channels);
          add_int("out_channels", op.out_channels);
          add_tensor("weight", op.weight);
          add_tensor("bias", op.bias);
        }
        if (op.type != OpType::Resize) break;
        write_attr_string(attrs, "mode", resize_mode_name(op.resize_mode)), ++n;
        write_attr_string(attrs, "coordinates", resize_coordinates_name(op.coordinates)), ++n;
        if (op.resize_mode == int(ResizeMode::Nearest))
          write_attr_string(attrs, "nearest_rounding", nearest_rounding_name(op.nearest_rounding)),
              ++n;
        if (op.resize_mode == int(ResizeMode::Cubic))
          write_attr_float(attrs, "cubic_a", op.cubic_a), ++n;
        break;
      case OpClass::Unshuffle:
        add_int("factor", op.factor);
        break;
      case OpClass::RunInput:  // always written: the reader's default is only for older writers
        write_attr_float(attrs, "scale", op.level_scale), ++n;
        break;
      case OpClass::Binary:
      case OpClass::Concat:
        break;  // no attributes
    }
    w.u32(n);
    w.raw(attrs.bytes().data(), attrs.size());
  }
  return std::move(w.bytes());
}

std::vector<uint8_t> encode_metadata(const Graph &g) {
  ByteWriter w;
  w.u32(uint32_t(g.metadata.size()));
  for (const auto &[k, v] : g.metadata) {
    w.str(k);
    w.str(v);
  }
  return std::move(w.bytes());
}

void append_blob(std::vector<uint8_t> &out, const Tensor &t, DType storage) {
  size_t n = t.numel();
  if (storage == DType::F32) {
    const uint8_t *p = reinterpret_cast<const uint8_t *>(t.data);
    out.insert(out.end(), p, p + n * 4);
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    uint16_t h = storage == DType::F16 ? float_to_fp16(t.data[i]) : float_to_bf16(t.data[i]);
    out.push_back(uint8_t(h));
    out.push_back(uint8_t(h >> 8));
  }
}

// The lowest minor version that has every op type of the graph and allows its structure
// (docs/xunit-format.md).
uint16_t minor_version_needed(const Graph &g) {
  uint16_t minor = 0;
  bool unshuffle = false, map = false;
  for (const Op &op : g.ops) {
    minor = std::max(minor, op_traits(op.type).format_minor);
    unshuffle |= op_traits(op.type).op_class == OpClass::Unshuffle;
    map |= op.type == OpType::NoiseLevelMap;
  }
  // 1.5 readers are the first to take a noise-level map beside an unshuffled input.
  return unshuffle && map ? std::max<uint16_t>(minor, 5) : minor;
}

}  // namespace

std::vector<uint8_t> serialize_model(const Graph &graph, DType storage) {
  std::vector<uint8_t> metadata = encode_metadata(graph);
  std::vector<uint8_t> ops = encode_graph(graph);

  // Layout: header | section table | metadata | graph | tensor table | (align) weights | sha256.
  const uint32_t section_count = 4;
  size_t table_offset = kHeaderSize;
  size_t metadata_offset = table_offset + section_count * kSectionEntrySize;
  size_t graph_offset = metadata_offset + metadata.size();
  size_t tensors_offset = graph_offset + ops.size();

  // The tensor table holds absolute blob offsets, so compute the weights layout first.
  size_t table_size = 4;
  for (const Tensor &t : graph.tensors)
    table_size += 4 + t.name.size() + 4 + 4 + 8 * t.shape.size() + 16;
  size_t weights_offset =
      (tensors_offset + table_size + kBlobAlignment - 1) / kBlobAlignment * kBlobAlignment;
  std::vector<size_t> blob_offsets;
  size_t cursor = weights_offset;
  for (const Tensor &t : graph.tensors) {
    blob_offsets.push_back(cursor);
    cursor += t.numel() * dtype_size(storage);
    cursor = (cursor + kBlobAlignment - 1) / kBlobAlignment * kBlobAlignment;
  }
  size_t weights_size = cursor - weights_offset;

  ByteWriter table;
  table.u32(uint32_t(graph.tensors.size()));
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    const Tensor &t = graph.tensors[i];
    table.str(t.name);
    table.u32(uint32_t(storage));
    table.u32(uint32_t(t.shape.size()));
    for (int64_t d : t.shape) table.u64(uint64_t(d));
    table.u64(blob_offsets[i]);
    table.u64(t.numel() * dtype_size(storage));
  }
  XUNIT_CHECK(table.size() == table_size, "internal error: tensor table size mismatch");

  ByteWriter w;
  w.raw(kMagic, 8);
  w.u16(kVersionMajor);
  w.u16(minor_version_needed(graph));
  w.u32(kHeaderSize);
  size_t file_size_at = w.size();
  w.u64(0);  // file size, patched below
  w.u64(table_offset);
  w.u32(section_count);
  w.u32(0);  // flags
  w.pad_to(kHeaderSize);
  struct Entry {
    uint32_t kind;
    size_t offset, size;
  } entries[section_count] = {{kSectionMetadata, metadata_offset, metadata.size()},
                              {kSectionGraph, graph_offset, ops.size()},
                              {kSectionTensors, tensors_offset, table.size()},
                              {kSectionWeights, weights_offset, weights_size}};
  for (const Entry &e : entries) {
    w.u32(e.kind);
    w.u32(kSectionFlagRequired);
    w.u64(e.offset);
    w.u64(e.size);
  }
  w.raw(metadata.data(), metadata.size());
  w.raw(ops.data(), ops.size());
  w.raw(table.bytes().data(), table.size());
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    while (w.size() < blob_offsets[i]) w.u8(0);
    append_blob(w.bytes(), graph.tensors[i], storage);
  }
  while (w.size() < weights_offset + weights_size) w.u8(0);
  w.patch_u64(file_size_at, w.size() + kChecksumSize);
  auto digest = Sha256::digest(w.bytes().data(), w.size());
  w.raw(digest.data(), digest.size());
  return std::move(w.bytes());
}

// ---------------------------------------------------------------- reading

namespace {

struct Section {
  uint64_t offset = 0, size = 0;
  bool present = false;
};

std::vector<float> widen(const uint8_t *p, size_t n, DType dtype) {
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    uint16_t h = uint16_t(p[2 * i] | (p[2 * i + 1] << 8));
    out[i] = dtype == DType::F16 ? fp16_to_float(h) : bf16_to_float(h);
  }
  return out;
}

void read_tensors(Graph &g, const uint8_t *bytes, const Section &table, const Section &weights,
                  LoadBudget &budget) {
  ByteReader r(bytes + table.offset, table.size, "model tensor table");
  uint32_t count = r.count(4 + 4 + 4 + 16);
  for (uint32_t i = 0; i < count; ++i) {
    Tensor t;
    t.name = r.str(256);
    XUNIT_CHECK(g.find_tensor(t.name) < 0, "invalid model: duplicate tensor '" + t.name + "'");
    uint32_t dtype = r.u32();
    XUNIT_CHECK(dtype <= uint32_t(DType::BF16),
                "invalid model: tensor '" + t.name + "' has unknown dtype");
    t.storage = DType(dtype);
    uint32_t rank = r.u32();
    XUNIT_CHECK(rank >= 1 && rank <= 4, "invalid model: tensor '" + t.name + "' has bad rank");
    size_t numel = 1;
    for (uint32_t d = 0; d < rank; ++d) {
      uint64_t dim = r.u64();
      XUNIT_CHECK(dim >= 1 && dim <= (1u << 24) && checked_mul(numel, size_t(dim), &numel),
                  "invalid model: tensor '" + t.name + "' has a bad dimension");
      t.shape.push_back(int64_t(dim));
    }
    uint64_t offset = r.u64(), nbytes = r.u64();
    size_t want = 0, end = 0;
    XUNIT_CHECK(checked_mul(numel, dtype_size(t.storage), &want) && nbytes == want,
                "invalid model: tensor '" + t.name + "' size does not match its shape");
    XUNIT_CHECK(offset % format::kBlobAlignment == 0,
                "invalid model: tensor '" + t.name + "' is misaligned");
    XUNIT_CHECK(offset >= weights.offset && checked_add(offset, nbytes, &end) &&
                    end <= weights.offset + weights.size,
                "invalid model: tensor '" + t.name + "' lies outside the weights section");
    // Every tensor becomes float32 memory the model owns (widened now, or copied by
    // own_weights): charged before it is made, so entries that overlap one blob cannot make a
    // small file need more than its budget.
    budget.charge(numel, sizeof(float), "tensor '" + t.name + "'");
    const uint8_t *p = bytes + offset;
    if (t.storage == DType::F32) {
      t.data = reinterpret_cast<const float *>(p);
    } else {
      t.set_owned(widen(p, numel, t.storage));
    }
    g.append_tensor(std::move(t));
  }
}

int tensor_attr(const Graph &g, ByteReader &r, const std::string &where) {
  std::string name = r.str(256);
  int id = g.find_tensor(name);
  XUNIT_CHECK(id >= 0, "invalid model: " + where + " references unknown tensor '" + name + "'");
  return id;
}

void read_graph(Graph &g, const uint8_t *bytes, const Section &s) {
  ByteReader r(bytes + s.offset, s.size, "model graph");
  std::string input_name = r.str(256);
  uint32_t input_channels = r.u32();
  XUNIT_CHECK(input_channels >= 1 && input_channels <= 4096,
              "invalid model: bad input channel count");
  g.add_input(input_name, int(input_channels));
  std::string output_name = r.str(256);
  uint32_t op_count = r.count(16);
  XUNIT_CHECK(op_count <= kMaxOps, "unsupported model: the graph has " + std::to_string(op_count) +
                                       " ops (at most " + std::to_string(kMaxOps) + " are read)");
  for (uint32_t i = 0; i < op_count; ++i) {
    Op op;
    std::string type = r.str(64);
    op.name = r.str(256);
    std::string where = "op '" + op.name + "'";
    XUNIT_CHECK(
        op_type_from_name(type, &op.type),
        "unsupported model: " + where + " has unknown type '" + type + "' (newer converter?)");
    uint32_t n_inputs = r.count(4);
    XUNIT_CHECK(n_inputs >= 1 && n_inputs <= 1024, "invalid model: " + where + " has bad arity");
    for (uint32_t k = 0; k < n_inputs; ++k) {
      std::string in = r.str(256);
      int id = g.find_value(in);
      XUNIT_CHECK(id >= 0, "invalid model: " + where + " uses undefined value '" + in + "'");
      op.inputs.push_back(id);
    }
    std::string out = r.str(256);
    XUNIT_CHECK(g.find_value(out) < 0, "invalid model: value '" + out + "' defined twice");
    uint32_t n_attrs = r.count(8);
    for (uint32_t k = 0; k < n_attrs; ++k) {
      std::string name = r.str(64);
      uint32_t kind = r.u32();
      int64_t iv = 0;
      float fv = 0;
      int tv = -1;
      std::string sv;
      switch (kind) {
        case kAttrInt:
          iv = r.i64();
          break;
        case kAttrFloat:
          fv = r.f32();
          break;
        case kAttrString:
          sv = r.str(1 << 16);
          break;
        case kAttrTensor:
          tv = tensor_attr(g, r, where);
          break;
        default:
          throw Error("invalid model: " + where + " attribute '" + name + "' has unknown kind");
      }
      XUNIT_CHECK(iv >= -(1 << 30) && iv <= (1 << 30),
                  "invalid model: " + where + " attribute out of range");
      XUNIT_CHECK(std::isfinite(fv),
                  "invalid model: " + where + " attribute '" + name + "' is not finite");
      // Unknown attribute names are ignored: a newer minor version may add optional ones.
      if (name == "kernel")
        op.kernel = int(iv);
      else if (name == "padding")
        op.padding = int(iv);
      else if (name == "dilation")
        op.dilation = int(iv);
      else if (name == "groups")
        op.groups = int(iv);
      else if (name == "in_channels")
        op.in_channels = int(iv);
      else if (name == "out_channels")
        op.out_channels = int(iv);
      else if (name == "factor")
        op.factor = int(iv);
      else if (name == "alpha")
        op.alpha = fv;
      else if (name == "beta")
        op.beta = fv;
      else if (name == "weight")
        op.weight = tv;
      else if (name == "bias")
        op.bias = tv;
      else if (name == "scale" && kind == kAttrFloat)  // noise_level_map's factor
        op.level_scale = fv;
      else if (name == "scale")  // affine's tensor
        op.scale = tv;
      else if (name == "shift")
        op.shift = tv;
      else if (name == "slope")
        op.slope = tv;
      else if (name == "cubic_a")
        op.cubic_a = fv;
      else if (name == "border") {
        XUNIT_CHECK(border_mode_from_name(sv, &op.border),
                    "unsupported model: " + where + " has unknown border mode '" + sv + "'");
      } else if (name == "mode") {
        XUNIT_CHECK(resize_mode_from_name(sv, &op.resize_mode),
                    "unsupported model: " + where + " has unknown resize mode '" + sv + "'");
      } else if (name == "coordinates") {
        XUNIT_CHECK(resize_coordinates_from_name(sv, &op.coordinates),
                    "unsupported model: " + where + " has unknown coordinate mode '" + sv + "'");
      } else if (name == "nearest_rounding") {
        XUNIT_CHECK(nearest_rounding_from_name(sv, &op.nearest_rounding),
                    "unsupported model: " + where + " has unknown nearest rounding '" + sv + "'");
      }
    }
    g.add_op(std::move(op), out);
  }
  XUNIT_CHECK(r.remaining() == 0, "invalid model: trailing bytes in the graph section");
  g.output = g.find_value(output_name);
  XUNIT_CHECK(g.output >= 0, "invalid model: graph output '" + output_name + "' is never computed");
}

void read_metadata(Graph &g, const uint8_t *bytes, const Section &s) {
  ByteReader r(bytes + s.offset, s.size, "model metadata");
  uint32_t n = r.count(8);
  for (uint32_t i = 0; i < n; ++i) {
    std::string k = r.str(256);
    g.metadata[k] = r.str(1 << 16);
  }
}

}  // namespace

Graph parse_model(const uint8_t *bytes, size_t size) {
  XUNIT_CHECK(size >= kHeaderSize + kChecksumSize, "not a .xunit model: file too small");
  XUNIT_CHECK(std::memcmp(bytes, kMagic, 8) == 0, "not a .xunit model: bad magic");
  ByteReader header(bytes + 8, kHeaderSize - 8, "model header");
  uint16_t major = header.u16();
  uint16_t minor = header.u16();
  XUNIT_CHECK(major == kVersionMajor, "unsupported model: format version " + std::to_string(major) +
                                          "." + std::to_string(minor) + " (this build reads " +
                                          std::to_string(kVersionMajor) + ".x)");
  uint32_t header_size = header.u32();
  uint64_t file_size = header.u64();
  XUNIT_CHECK(file_size == size,
              "invalid model: file is truncated or has trailing bytes (header says " +
                  std::to_string(file_size) + " bytes, file has " + std::to_string(size) + ")");
  auto digest = Sha256::digest(bytes, size - kChecksumSize);
  XUNIT_CHECK(std::memcmp(digest.data(), bytes + size - kChecksumSize, kChecksumSize) == 0,
              "invalid model: checksum mismatch (file corrupted)");
  XUNIT_CHECK(header_size >= kHeaderSize && header_size < size, "invalid model: bad header size");
  uint64_t table_offset = header.u64();
  uint32_t section_count = header.u32();
  size_t payload_end = size - kChecksumSize;
  size_t table_end = 0;
  XUNIT_CHECK(
      section_count <= 64 && table_offset >= header_size &&
          checked_add(table_offset, size_t(section_count) * kSectionEntrySize, &table_end) &&
          table_end <= payload_end,
      "invalid model: bad section table");
  Section sections[5];
  ByteReader table(bytes + table_offset, section_count * kSectionEntrySize, "model section table");
  for (uint32_t i = 0; i < section_count; ++i) {
    uint32_t kind = table.u32(), flags = table.u32();
    uint64_t offset = table.u64(), length = table.u64();
    size_t end = 0;
    XUNIT_CHECK(offset >= table_end && checked_add(offset, length, &end) && end <= payload_end,
                "invalid model: section " + std::to_string(i) + " lies outside the file");
    if (kind < 1 || kind > 4) {
      XUNIT_CHECK(!(flags & kSectionFlagRequired), "unsupported model: it needs section kind " +
                                                       std::to_string(kind) + " (newer format)");
      continue;
    }
    XUNIT_CHECK(!sections[kind].present, "invalid model: duplicate section");
    sections[kind] = {offset, length, true};
  }
  for (uint32_t k = 1; k <= 4; ++k)
    XUNIT_CHECK(sections[k].present, "invalid model: a section is missing");

  Graph g;
  read_metadata(g, bytes, sections[kSectionMetadata]);
  LoadBudget budget(size, "model");
  read_tensors(g, bytes, sections[kSectionTensors], sections[kSectionWeights], budget);
  read_graph(g, bytes, sections[kSectionGraph]);
  g.validate_and_infer();
  return g;
}

void own_weights(Graph &graph) {
  for (Tensor &t : graph.tensors)
    if (t.owned.empty() && t.data) t.set_owned(std::vector<float>(t.data, t.data + t.numel()));
}

}  // namespace xunit
