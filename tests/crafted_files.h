// Writers for crafted files in tests: zip archives (stored or deflated entries, lies about
// sizes and CRCs), deflate streams of zeros, protocol-2 pickles of torch state dicts, and PNGs of
// zeros. Small and dependency-free (zlib), so that every hostile case is made by the test itself.
#pragma once
#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace xunit::testing::crafted {

inline void put16(std::string *s, uint32_t v) {
  for (int i = 0; i < 2; ++i) s->push_back(char((v >> (8 * i)) & 0xff));
}
inline void put32(std::string *s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(char((v >> (8 * i)) & 0xff));
}
inline void put64(std::string *s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(char((v >> (8 * i)) & 0xff));
}

inline std::string raw_deflate(const std::string &in) {
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  std::string out(deflateBound(&zs, uLong(in.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  zs.avail_in = uInt(in.size());
  zs.next_out = reinterpret_cast<Bytef *>(&out[0]);
  zs.avail_out = uInt(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct Spec {
  std::string name;
  std::string data;
  bool deflate = false;
  uint32_t crc_xor = 0;          // corrupts the recorded CRC
  int64_t size_delta = 0;        // lies about the uncompressed size
  int64_t offset_override = -1;  // central directory points elsewhere
  uint16_t flags = 0;
};

// A minimal zip writer for building well-formed and hostile archives in-test.
inline std::string build_zip(const std::vector<Spec> &specs, bool zip64 = false) {
  std::string out, central;
  for (const Spec &s : specs) {
    const std::string payload = s.deflate ? raw_deflate(s.data) : s.data;
    const uint32_t crc =
        uint32_t(crc32(0, reinterpret_cast<const Bytef *>(s.data.data()), uInt(s.data.size()))) ^
        s.crc_xor;
    const uint64_t usize = uint64_t(int64_t(s.data.size()) + s.size_delta);
    const uint64_t offset = s.offset_override >= 0 ? uint64_t(s.offset_override) : out.size();
    const uint16_t method = s.deflate ? 8 : 0;
    std::string extra;
    if (zip64) {
      put16(&extra, 1);
      put16(&extra, 24);
      put64(&extra, usize);
      put64(&extra, payload.size());
      put64(&extra, offset);
    }
    put32(&out, 0x04034b50);
    put16(&out, 45);
    put16(&out, s.flags);
    put16(&out, method);
    put32(&out, 0);
    put32(&out, crc);
    put32(&out, uint32_t(payload.size()));
    put32(&out, uint32_t(usize));
    put16(&out, uint32_t(s.name.size()));
    put16(&out, 0);
    out += s.name + payload;

    put32(&central, 0x02014b50);
    put16(&central, 45);
    put16(&central, 45);
    put16(&central, s.flags);
    put16(&central, method);
    put32(&central, 0);
    put32(&central, crc);
    put32(&central, zip64 ? 0xFFFFFFFFu : uint32_t(payload.size()));
    put32(&central, zip64 ? 0xFFFFFFFFu : uint32_t(usize));
    put16(&central, uint32_t(s.name.size()));
    put16(&central, uint32_t(extra.size()));
    put16(&central, 0);
    put16(&central, 0);
    put16(&central, 0);
    put32(&central, 0);
    put32(&central, zip64 ? 0xFFFFFFFFu : uint32_t(offset));
    central += s.name + extra;
  }
  const uint64_t cd_offset = out.size();
  out += central;
  if (zip64) {
    const uint64_t record = out.size();
    put32(&out, 0x06064b50);
    put64(&out, 44);
    put16(&out, 45);
    put16(&out, 45);
    put32(&out, 0);
    put32(&out, 0);
    put64(&out, specs.size());
    put64(&out, specs.size());
    put64(&out, central.size());
    put64(&out, cd_offset);
    put32(&out, 0x07064b50);
    put32(&out, 0);
    put64(&out, record);
    put32(&out, 1);
  }
  put32(&out, 0x06054b50);
  put16(&out, 0);
  put16(&out, 0);
  put16(&out, zip64 ? 0xFFFF : uint32_t(specs.size()));
  put16(&out, zip64 ? 0xFFFF : uint32_t(specs.size()));
  put32(&out, zip64 ? 0xFFFFFFFFu : uint32_t(central.size()));
  put32(&out, zip64 ? 0xFFFFFFFFu : uint32_t(cd_offset));
  put16(&out, 0);
  return out;
}

// A raw deflate stream of `n` zero bytes, made without holding them (1032:1, deflate's maximum).
inline std::string deflate_zeros(uint64_t n) {
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  const std::string zeros(1 << 20, '\0');
  std::string out, buf(1 << 16, '\0');
  uint64_t left = n;
  int flush = Z_NO_FLUSH;
  do {
    if (zs.avail_in == 0 && flush == Z_NO_FLUSH) {
      const uint64_t take = left < zeros.size() ? left : zeros.size();
      zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(zeros.data()));
      zs.avail_in = uInt(take);
      left -= take;
      if (left == 0) flush = Z_FINISH;
    }
    zs.next_out = reinterpret_cast<Bytef *>(&buf[0]);
    zs.avail_out = uInt(buf.size());
    const int rc = deflate(&zs, flush);
    if (rc == Z_STREAM_ERROR) throw std::runtime_error("deflate");
    out.append(buf, 0, buf.size() - zs.avail_out);
    if (rc == Z_STREAM_END) break;
  } while (true);
  deflateEnd(&zs);
  return out;
}

// A zip entry whose compressed payload is given (e.g. deflate_zeros) with its true CRC and size.
struct RawEntry {
  std::string name;
  std::string payload;  // stored bytes, or a raw deflate stream
  bool deflated = false;
  uint64_t size = 0;  // uncompressed
  uint32_t crc = 0;
};

// CRC-32 of `n` zero bytes.
inline uint32_t crc_of_zeros(uint64_t n) {
  const std::string zeros(1 << 20, '\0');
  uLong crc = crc32(0, nullptr, 0);
  while (n > 0) {
    const uint64_t take = n < zeros.size() ? n : zeros.size();
    crc = crc32(crc, reinterpret_cast<const Bytef *>(zeros.data()), uInt(take));
    n -= take;
  }
  return uint32_t(crc);
}

inline RawEntry stored_entry(const std::string &name, const std::string &data) {
  return {name, data, false, data.size(),
          uint32_t(crc32(0, reinterpret_cast<const Bytef *>(data.data()), uInt(data.size())))};
}

inline std::string build_raw_zip(const std::vector<RawEntry> &entries) {
  std::string out, central;
  for (const RawEntry &e : entries) {
    const uint64_t offset = out.size();
    const uint16_t method = e.deflated ? 8 : 0;
    put32(&out, 0x04034b50);
    put16(&out, 20);
    put16(&out, 0);
    put16(&out, method);
    put32(&out, 0);
    put32(&out, e.crc);
    put32(&out, uint32_t(e.payload.size()));
    put32(&out, uint32_t(e.size));
    put16(&out, uint32_t(e.name.size()));
    put16(&out, 0);
    out += e.name + e.payload;
    put32(&central, 0x02014b50);
    put16(&central, 20);
    put16(&central, 20);
    put16(&central, 0);
    put16(&central, method);
    put32(&central, 0);
    put32(&central, e.crc);
    put32(&central, uint32_t(e.payload.size()));
    put32(&central, uint32_t(e.size));
    put16(&central, uint32_t(e.name.size()));
    put16(&central, 0);
    put16(&central, 0);
    put16(&central, 0);
    put16(&central, 0);
    put32(&central, 0);
    put32(&central, uint32_t(offset));
    central += e.name;
  }
  const uint64_t cd_offset = out.size();
  out += central;
  put32(&out, 0x06054b50);
  put16(&out, 0);
  put16(&out, 0);
  put16(&out, uint32_t(entries.size()));
  put16(&out, uint32_t(entries.size()));
  put32(&out, uint32_t(central.size()));
  put32(&out, uint32_t(cd_offset));
  put16(&out, 0);
  return out;
}

// Protocol-2 pickles of what torch.save writes for a state dict of tensors.
class Pickle {
 public:
  Pickle() : out_("\x80\x02") {}
  Pickle &op(char c) {
    out_ += c;
    return *this;
  }
  Pickle &str(const std::string &s) {
    out_ += 'X';
    put32(&out_, uint32_t(s.size()));
    out_ += s;
    return *this;
  }
  Pickle &global(const std::string &module, const std::string &name) {
    out_ += 'c' + module + '\n' + name + '\n';
    return *this;
  }
  Pickle &integer(int32_t v) {
    out_ += 'J';
    put32(&out_, uint32_t(v));
    return *this;
  }
  Pickle &ints(const std::vector<int32_t> &v) {  // a tuple
    op('(');
    for (int32_t x : v) integer(x);
    return op('t');
  }
  // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()), the
  // storage a persistent id: ('storage', torch.<type>, key, 'cpu', numel[, None when legacy]).
  Pickle &tensor(const std::string &storage_type, const std::string &key, int32_t numel,
                 int32_t offset, const std::vector<int32_t> &size,
                 const std::vector<int32_t> &stride, bool legacy) {
    global("torch._utils", "_rebuild_tensor_v2").op('(');
    op('(').str("storage").global("torch", storage_type).str(key).str("cpu").integer(numel);
    if (legacy) op('N');
    op('t').op('Q');
    integer(offset).ints(size).ints(stride).op('\x89');
    global("collections", "OrderedDict").op(')').op('R');
    return op('t').op('R');
  }
  std::string finish() { return out_ + '.'; }

 private:
  std::string out_;
};

// A legacy (torch < 1.6) checkpoint: magic, protocol, sys_info, the object, the storage keys and
// each storage's element count and bytes.
inline std::string legacy_checkpoint(
    const std::string &object_pickle,
    const std::vector<std::pair<std::string, std::string>> &storages) {
  std::string out =
      Pickle().op('\x8a').op('\x0a').finish();  // LONG1 of 10 bytes: the magic follows
  out.pop_back();
  const unsigned char magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  out.append(reinterpret_cast<const char *>(magic), 10);
  out += '.';
  out += Pickle().integer(1001).finish();
  out += Pickle().op('}').str("little_endian").op('\x88').op('s').finish();
  out += object_pickle;
  Pickle keys;
  keys.op('(');
  for (const auto &s : storages) keys.str(s.first);
  out += keys.op('l').finish();
  for (const auto &s : storages) {
    put64(&out, s.second.size() / 4);  // float32 storages
    out += s.second;
  }
  return out;
}

// An 8-bit RGB PNG of zeros, deflated as it is made (a 2048 x 2048 one is ~13 KB).
inline std::string zero_png(uint32_t width, uint32_t height) {
  auto chunk = [](std::string *out, const char *type, const std::string &data) {
    std::string body = std::string(type, 4) + data;
    for (int i = 3; i >= 0; --i) out->push_back(char((data.size() >> (8 * i)) & 0xff));
    *out += body;
    const uint32_t crc =
        uint32_t(crc32(0, reinterpret_cast<const Bytef *>(body.data()), uInt(body.size())));
    for (int i = 3; i >= 0; --i) out->push_back(char((crc >> (8 * i)) & 0xff));
  };
  auto be32 = [](std::string *s, uint32_t v) {
    for (int i = 3; i >= 0; --i) s->push_back(char((v >> (8 * i)) & 0xff));
  };
  std::string png = "\x89PNG\r\n\x1a\n", ihdr;
  be32(&ihdr, width);
  be32(&ihdr, height);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);
  chunk(&png, "IHDR", ihdr);
  // zlib-wrapped (not raw) deflate of height rows of (filter 0, width * 3 zeros).
  z_stream zs{};
  if (deflateInit(&zs, 9) != Z_OK) throw std::runtime_error("deflateInit");
  const std::string row(1 + size_t(width) * 3, '\0');
  std::string idat, buf(1 << 16, '\0');
  for (uint32_t y = 0; y <= height; ++y) {
    const bool last = y == height;
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(row.data()));
    zs.avail_in = last ? 0 : uInt(row.size());
    int rc;
    do {
      zs.next_out = reinterpret_cast<Bytef *>(&buf[0]);
      zs.avail_out = uInt(buf.size());
      rc = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
      idat.append(buf, 0, buf.size() - zs.avail_out);
    } while (zs.avail_out == 0 || (last && rc != Z_STREAM_END));
  }
  deflateEnd(&zs);
  chunk(&png, "IDAT", idat);
  chunk(&png, "IEND", "");
  return png;
}

}  // namespace xunit::testing::crafted
