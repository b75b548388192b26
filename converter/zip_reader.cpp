#include "converter/zip_reader.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

#include "common/error.h"
#include "converter/bytes_le.h"

namespace xunit::convert {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kEocd64LocatorSig = 0x07064b50;
constexpr uint32_t kEocd64Sig = 0x06064b50;
constexpr size_t kEocdSize = 22;
constexpr size_t kEocd64LocatorSize = 20;
constexpr size_t kEocd64Size = 56;
constexpr size_t kCentralSize = 46;
constexpr size_t kLocalSize = 30;
constexpr uint16_t kMethodStored = 0;
constexpr uint16_t kMethodDeflate = 8;
// Deflate cannot expand data by more than ~1032:1; a larger claim is a lie or a bomb.
constexpr uint64_t kMaxDeflateRatio = 1032;
// No checkpoint entry we read is anywhere near this; refusing early keeps allocations sane.
constexpr uint64_t kMaxEntrySize = uint64_t(1) << 34;

[[noreturn]] void fail(const std::string &what) { throw Error("corrupt zip archive: " + what); }

// zlib counts lengths in uInt; feed large buffers in chunks.
uint32_t crc32_of(const uint8_t *data, uint64_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {
    const uInt chunk = uInt(std::min<uint64_t>(size, UINT_MAX));
    crc = crc32(crc, data, chunk);
    data += chunk;
    size -= chunk;
  }
  return uint32_t(crc);
}

// Values the zip64 extra field (id 1) overrides: only those saturated in the fixed header.
struct Zip64Fields {
  uint64_t *uncompressed;
  uint64_t *compressed;
  uint64_t *local_offset;
};

void apply_zip64_extra(const uint8_t *extra, size_t length, Zip64Fields f) {
  size_t pos = 0;
  while (pos + 4 <= length) {
    const uint16_t id = load_u16le(extra + pos);
    const uint16_t size = load_u16le(extra + pos + 2);
    pos += 4;
    if (size > length - pos) fail("extra field runs past its header");
    if (id == 0x0001) {
      const uint8_t *p = extra + pos;
      size_t left = size;
      for (uint64_t *field : {f.uncompressed, f.compressed, f.local_offset}) {
        if (*field != 0xFFFFFFFFu) continue;
        if (left < 8) fail("zip64 extra field too short");
        *field = load_u64le(p);
        p += 8;
        left -= 8;
      }
    }
    pos += size;
  }
}

}  // namespace

bool looks_like_zip(const uint8_t *data, size_t size) {
  return size >= 4 && load_u32le(data) == kLocalSig;
}

ZipReader::ZipReader(const uint8_t *data, size_t size) : data_(data), size_(size) {
  const Directory dir = find_directory();
  read_directory(dir);
  for (auto &entry : entries_) resolve_local_header(&entry);
  check_no_overlaps(dir);
}

// The end-of-central-directory record sits at the very end (after an optional comment); the
// zip64 locator, when present, sits immediately before it.
ZipReader::Directory ZipReader::find_directory() const {
  if (size_ < kEocdSize) fail("file too small for an end-of-central-directory record");
  const size_t lowest = size_ - kEocdSize > 0xFFFF ? size_ - kEocdSize - 0xFFFF : 0;
  size_t eocd = size_ - kEocdSize;
  for (;; --eocd) {
    // Require the comment to end exactly at the end of the file: rules out signature bytes that
    // happen to appear inside entry data.
    if (load_u32le(data_ + eocd) == kEocdSig &&
        eocd + kEocdSize + load_u16le(data_ + eocd + 20) == size_)
      break;
    if (eocd == lowest) fail("end-of-central-directory record not found (truncated file?)");
  }
  const uint8_t *p = data_ + eocd;
  if (load_u16le(p + 4) != 0 || load_u16le(p + 6) != 0 || load_u16le(p + 8) != load_u16le(p + 10))
    fail("multi-disk archives are not supported");
  Directory dir{load_u16le(p + 10), load_u32le(p + 16), load_u32le(p + 12)};
  uint64_t directory_end_limit = eocd;  // the central directory must end before this

  const bool has_locator = eocd >= kEocd64LocatorSize &&
                           load_u32le(data_ + eocd - kEocd64LocatorSize) == kEocd64LocatorSig;
  const bool saturated =
      dir.entry_count == 0xFFFF || dir.offset == 0xFFFFFFFFu || dir.size == 0xFFFFFFFFu;
  if (saturated && !has_locator) fail("zip64 sizes used without a zip64 locator");
  if (has_locator) {
    const uint8_t *loc = data_ + eocd - kEocd64LocatorSize;
    const uint64_t record = load_u64le(loc + 8);
    const uint64_t locator_pos = eocd - kEocd64LocatorSize;
    if (record > locator_pos || locator_pos - record < kEocd64Size)
      fail("zip64 end-of-central-directory record out of range");
    const uint8_t *r = data_ + record;
    if (load_u32le(r) != kEocd64Sig) fail("bad zip64 end-of-central-directory signature");
    if (load_u32le(r + 16) != 0 || load_u32le(r + 20) != 0 ||
        load_u64le(r + 24) != load_u64le(r + 32))
      fail("multi-disk archives are not supported");
    const Directory dir64{load_u64le(r + 32), load_u64le(r + 48), load_u64le(r + 40)};
    // Non-saturated 32-bit fields must agree with the zip64 record.
    if ((dir.entry_count != 0xFFFF && dir.entry_count != dir64.entry_count) ||
        (dir.offset != 0xFFFFFFFFu && dir.offset != dir64.offset) ||
        (dir.size != 0xFFFFFFFFu && dir.size != dir64.size))
      fail("zip64 record disagrees with the end-of-central-directory record");
    dir = dir64;
    directory_end_limit = record;
  }
  if (!range_ok(dir.offset, dir.size, directory_end_limit))
    fail("central directory lies outside the file");
  return dir;
}

void ZipReader::read_directory(const Directory &dir) {
  // Each header is at least 46 bytes: a count that cannot fit is a lie (and a huge reserve).
  if (dir.entry_count > dir.size / kCentralSize) fail("entry count exceeds the central directory");
  entries_.reserve(size_t(dir.entry_count));
  index_.reserve(size_t(dir.entry_count));
  const uint64_t end = dir.offset + dir.size;  // checked by find_directory
  uint64_t pos = dir.offset;
  for (uint64_t i = 0; i < dir.entry_count; ++i) {
    if (!range_ok(pos, kCentralSize, end)) fail("central directory truncated");
    const uint8_t *p = data_ + pos;
    if (load_u32le(p) != kCentralSig) fail("bad central directory signature");
    const uint16_t flags = load_u16le(p + 8);
    const size_t name_len = load_u16le(p + 28), extra_len = load_u16le(p + 30),
                 comment_len = load_u16le(p + 32);
    const uint64_t record = kCentralSize + name_len + extra_len + comment_len;
    if (!range_ok(pos, record, end)) fail("central directory entry runs past the directory");
    ZipEntry e;
    e.name.assign(reinterpret_cast<const char *>(p + kCentralSize), name_len);
    e.method = load_u16le(p + 10);
    e.crc32 = load_u32le(p + 16);
    e.compressed_size = load_u32le(p + 20);
    e.uncompressed_size = load_u32le(p + 24);
    e.local_header_offset = load_u32le(p + 42);
    apply_zip64_extra(p + kCentralSize + name_len, extra_len,
                      {&e.uncompressed_size, &e.compressed_size, &e.local_header_offset});
    if (flags & 0x1) fail("entry '" + e.name + "' is encrypted");
    if (e.method != kMethodStored && e.method != kMethodDeflate)
      fail("entry '" + e.name + "' uses unsupported compression method " +
           std::to_string(e.method));
    if (e.uncompressed_size > kMaxEntrySize) fail("entry '" + e.name + "' is implausibly large");
    if (e.method == kMethodStored && e.compressed_size != e.uncompressed_size)
      fail("stored entry '" + e.name + "' has different compressed and uncompressed sizes");
    if (e.method == kMethodDeflate &&
        e.uncompressed_size / kMaxDeflateRatio > e.compressed_size + 1)
      fail("entry '" + e.name + "' claims an impossible compression ratio");
    if (!index_.emplace(e.name, entries_.size()).second) fail("duplicate entry '" + e.name + "'");
    entries_.push_back(std::move(e));
    pos += record;
  }
  if (pos != end) fail("central directory size does not match its entries");
}

void ZipReader::resolve_local_header(ZipEntry *e) const {
  if (!range_ok(e->local_header_offset, kLocalSize, size_))
    fail("local header of '" + e->name + "' lies outside the file");
  const uint8_t *p = data_ + e->local_header_offset;
  if (load_u32le(p) != kLocalSig) fail("bad local header signature for '" + e->name + "'");
  if (load_u16le(p + 8) != e->method)
    fail("local and central headers of '" + e->name + "' disagree on the compression method");
  const size_t name_len = load_u16le(p + 26), extra_len = load_u16le(p + 28);
  if (!range_ok(e->local_header_offset + kLocalSize, name_len, size_) ||
      e->name.compare(0, std::string::npos, reinterpret_cast<const char *>(p + kLocalSize),
                      name_len) != 0)
    fail("local and central headers of '" + e->name + "' disagree on the name");
  // The local extra field may differ from the central one (torch pads for alignment there).
  e->data_offset = e->local_header_offset + kLocalSize + name_len + extra_len;
  if (!range_ok(e->data_offset, e->compressed_size, size_))
    fail("data of '" + e->name + "' runs past the end of the file");
}

// Overlapping entries are how "zip bombs" reuse bytes and how parsers get confused; refuse them,
// and any entry reaching into the central directory.
void ZipReader::check_no_overlaps(const Directory &dir) const {
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // [local header, data end)
  spans.reserve(entries_.size());
  for (const auto &e : entries_)
    spans.emplace_back(e.local_header_offset, e.data_offset + e.compressed_size);
  std::sort(spans.begin(), spans.end());
  for (size_t i = 0; i < spans.size(); ++i) {
    if (spans[i].second > dir.offset) fail("entry data overlaps the central directory");
    if (i > 0 && spans[i].first < spans[i - 1].second) fail("entries overlap each other");
  }
}

const ZipEntry *ZipReader::find(const std::string &name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

const uint8_t *ZipReader::stored_data(const ZipEntry &entry) const {
  if (entry.method != kMethodStored) return nullptr;
  const uint8_t *p = data_ + entry.data_offset;
  if (crc32_of(p, entry.compressed_size) != entry.crc32)
    fail("CRC mismatch in entry '" + entry.name + "'");
  return p;
}

std::vector<uint8_t> ZipReader::read(const ZipEntry &entry, LoadBudget *budget) const {
  if (budget)
    budget->charge(entry.uncompressed_size,
                   std::string(entry.method == kMethodStored ? "reading" : "inflating") +
                       " zip entry '" + entry.name + "'");
  if (const uint8_t *p = stored_data(entry)) return {p, p + entry.compressed_size};
  // One spare output byte detects a stream that inflates to more than it declared.
  std::vector<uint8_t> out(size_t(entry.uncompressed_size) + 1);
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) throw Error("zlib: inflateInit2 failed");
  const uint8_t *in = data_ + entry.data_offset;
  uint64_t in_left = entry.compressed_size, out_done = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (zs.avail_in == 0 && in_left > 0) {
      zs.next_in = const_cast<Bytef *>(in);
      zs.avail_in = uInt(std::min<uint64_t>(in_left, UINT_MAX));
      in += zs.avail_in;
      in_left -= zs.avail_in;
    }
    if (zs.avail_out == 0) {
      if (out_done == out.size()) break;
      zs.next_out = out.data() + out_done;
      zs.avail_out = uInt(std::min<uint64_t>(out.size() - out_done, UINT_MAX));
    }
    const uInt before = zs.avail_out;
    rc = inflate(&zs, Z_NO_FLUSH);
    out_done += before - zs.avail_out;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) break;  // input exhausted
    if (rc == Z_BUF_ERROR && zs.avail_out == 0) rc = Z_OK;             // just needs more room
  }
  inflateEnd(&zs);
  if (out_done > entry.uncompressed_size)
    fail("entry '" + entry.name + "' inflates to more than its declared size");
  if (rc != Z_STREAM_END) fail("deflate stream of '" + entry.name + "' is corrupt or truncated");
  if (out_done != entry.uncompressed_size)
    fail("entry '" + entry.name + "' inflates to a size other than declared");
  out.resize(out_done);
  if (crc32_of(out.data(), out.size()) != entry.crc32)
    fail("CRC mismatch in entry '" + entry.name + "'");
  return out;
}

}  // namespace xunit::convert
