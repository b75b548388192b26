#include "cli/png16_writer.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/error.h"

namespace xunit::cli {

namespace {

constexpr size_t kIdatChunk = size_t(1) << 20;

void put_be32(std::vector<uint8_t> &out, uint32_t v) {
  out.push_back(uint8_t(v >> 24));
  out.push_back(uint8_t(v >> 16));
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}

void put_chunk(std::vector<uint8_t> &out, const char type[4], const uint8_t *data, size_t size) {
  put_be32(out, uint32_t(size));
  size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  if (size) out.insert(out.end(), data, data + size);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, out.data() + start, uInt(size + 4));
  put_be32(out, uint32_t(crc));
}

int paeth(int a, int b, int c) {
  int p = a + b - c;
  int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

// Filters one row (raw bytes `cur`, previous row `prev`, all zero for the first row) with the
// cheapest of the five PNG filters into `out` (1 + n bytes: filter type, then data).
void filter_row(const uint8_t *cur, const uint8_t *prev, size_t n, size_t bpp, uint8_t *out,
                std::vector<uint8_t> &scratch) {
  scratch.resize(5 * n);
  uint64_t best_cost = UINT64_MAX;
  int best = 0;
  for (int f = 0; f < 5; ++f) {
    uint8_t *dst = scratch.data() + size_t(f) * n;
    uint64_t cost = 0;
    for (size_t i = 0; i < n; ++i) {
      int a = i >= bpp ? cur[i - bpp] : 0;
      int b = prev[i];
      int c = i >= bpp ? prev[i - bpp] : 0;
      int pred = 0;
      switch (f) {
        case 0:
          pred = 0;
          break;
        case 1:
          pred = a;
          break;
        case 2:
          pred = b;
          break;
        case 3:
          pred = (a + b) / 2;
          break;
        default:
          pred = paeth(a, b, c);
          break;
      }
      uint8_t v = uint8_t(cur[i] - pred);
      dst[i] = v;
      cost += v < 128 ? v : 256 - v;
    }
    if (cost < best_cost) {
      best_cost = cost;
      best = f;
    }
  }
  out[0] = uint8_t(best);
  std::memcpy(out + 1, scratch.data() + size_t(best) * n, n);
}

// `row_bytes(y, dst)` writes row y's raw big-endian bytes into dst.
template <typename RowBytes>
std::vector<uint8_t> encode_png(int width, int height, int channels, int depth,
                                RowBytes row_bytes) {
  XUNIT_CHECK(width > 0 && height > 0,
              "invalid PNG size " + std::to_string(width) + "x" + std::to_string(height));
  XUNIT_CHECK(channels >= 1 && channels <= 4,
              "PNG needs 1 to 4 channels, got " + std::to_string(channels));
  const size_t bpp = size_t(channels) * size_t(depth / 8);
  size_t n = 0, stride = 0, total = 0;
  XUNIT_CHECK(checked_mul(size_t(width), bpp, &n) && checked_add(n, 1, &stride) &&
                  checked_mul(stride, size_t(height), &total),
              "image too large for PNG");

  std::vector<uint8_t> filtered(total);
  std::vector<uint8_t> prev(n, 0), cur(n), scratch;
  for (int y = 0; y < height; ++y) {
    row_bytes(y, cur.data());
    filter_row(cur.data(), prev.data(), n, bpp, filtered.data() + size_t(y) * stride, scratch);
    cur.swap(prev);
  }

  uLong bound = compressBound(uLong(total));
  XUNIT_CHECK(bound >= total, "image too large for zlib");
  std::vector<uint8_t> z(bound);
  uLongf zlen = bound;
  int rc = compress2(z.data(), &zlen, filtered.data(), uLong(total), Z_DEFAULT_COMPRESSION);
  XUNIT_CHECK(rc == Z_OK, std::string("zlib compression failed: ") + zError(rc));
  filtered = std::vector<uint8_t>();

  static const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  static const uint8_t kColorType[5] = {0, 0, 4, 2, 6};
  std::vector<uint8_t> out;
  out.reserve(size_t(zlen) + 64 + size_t(zlen) / kIdatChunk * 12);
  out.insert(out.end(), kSignature, kSignature + 8);
  std::vector<uint8_t> ihdr;
  put_be32(ihdr, uint32_t(width));
  put_be32(ihdr, uint32_t(height));
  ihdr.push_back(uint8_t(depth));
  ihdr.push_back(kColorType[channels]);
  ihdr.push_back(0);  // compression: deflate
  ihdr.push_back(0);  // filter method 0
  ihdr.push_back(0);  // no interlace
  put_chunk(out, "IHDR", ihdr.data(), ihdr.size());
  for (size_t off = 0; off < zlen; off += kIdatChunk) {
    size_t len = std::min(kIdatChunk, size_t(zlen) - off);
    put_chunk(out, "IDAT", z.data() + off, len);
  }
  put_chunk(out, "IEND", nullptr, 0);
  return out;
}

}  // namespace

std::vector<uint8_t> encode_png16(const uint16_t *samples, int width, int height, int channels) {
  const size_t row_values = size_t(width > 0 ? width : 0) * size_t(channels > 0 ? channels : 0);
  return encode_png(width, height, channels, 16, [&](int y, uint8_t *dst) {
    const uint16_t *src = samples + size_t(y) * row_values;
    for (size_t i = 0; i < row_values; ++i) {
      dst[2 * i] = uint8_t(src[i] >> 8);
      dst[2 * i + 1] = uint8_t(src[i]);
    }
  });
}

std::vector<uint8_t> encode_png8(const uint8_t *samples, int width, int height, int channels) {
  const size_t row_values = size_t(width > 0 ? width : 0) * size_t(channels > 0 ? channels : 0);
  return encode_png(width, height, channels, 8, [&](int y, uint8_t *dst) {
    std::memcpy(dst, samples + size_t(y) * row_values, row_values);
  });
}

}  // namespace xunit::cli
