// Photo metadata for the image tests, made and read by hand (not through libexif, so that the
// tests do not check libexif against itself): an EXIF with orientation and pixel dimensions, an
// ICC profile libpng accepts, a JPEG given an Exif segment, EXIF tags read back.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace xunit::testing {

inline void put_le(std::vector<uint8_t> &out, size_t at, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[at + size_t(i)] = uint8_t(v >> (8 * i));
}

// A little-endian EXIF (TIFF structure, no "Exif\0\0"): IFD0 with Make "xunit" and Orientation,
// and an Exif IFD with PixelXDimension and PixelYDimension (LONG).
inline std::vector<uint8_t> make_exif(int orientation, uint32_t pixel_width,
                                      uint32_t pixel_height) {
  std::vector<uint8_t> e(86, 0);
  e[0] = e[1] = 'I';
  put_le(e, 2, 42, 2);
  put_le(e, 4, 8, 4);  // IFD0
  const auto entry = [&](size_t at, uint16_t tag, uint16_t type, uint32_t count, uint32_t value) {
    put_le(e, at, tag, 2);
    put_le(e, at + 2, type, 2);
    put_le(e, at + 4, count, 4);
    put_le(e, at + 8, value, type == 3 ? 2 : 4);
  };
  put_le(e, 8, 3, 2);
  entry(10, 0x010f, 2, 6, 50);                     // Make, ASCII at 50
  entry(22, 0x0112, 3, 1, uint32_t(orientation));  // Orientation, SHORT
  entry(34, 0x8769, 4, 1, 56);                     // the Exif IFD at 56
  std::memcpy(&e[50], "xunit", 6);                 // next IFD (46..49): none
  put_le(e, 56, 2, 2);
  entry(58, 0xa002, 4, 1, pixel_width);   // PixelXDimension
  entry(70, 0xa003, 4, 1, pixel_height);  // PixelYDimension
  return e;
}

// An ICC profile of `size` bytes (>= 144): a v2.1 display-class header (RGB or gray, XYZ
// connection space, D50) and one private tag holding a byte pattern.
inline std::vector<uint8_t> make_icc(size_t size, bool gray) {
  std::vector<uint8_t> p(size, 0);
  const auto be = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[at + size_t(i)] = uint8_t(v >> (24 - 8 * i));
  };
  const auto sig = [&](size_t at, const char *s) { std::memcpy(&p[at], s, 4); };
  be(0, uint32_t(size));
  be(8, 0x02100000);
  sig(12, "mntr");
  sig(16, gray ? "GRAY" : "RGB ");
  sig(20, "XYZ ");
  sig(36, "acsp");
  be(68, 0x0000f6d6);  // D50
  be(72, 0x00010000);
  be(76, 0x0000d32d);
  be(128, 1);
  sig(132, "xunt");
  be(136, 144);
  be(140, uint32_t(size - 144));
  for (size_t i = 144; i < size; ++i) p[i] = uint8_t(i * 7 + i / 251);
  return p;
}

// The JPEG with an APP1 Exif segment right after its SOI marker.
inline std::vector<uint8_t> with_exif_segment(const std::vector<uint8_t> &jpeg,
                                              const std::vector<uint8_t> &exif) {
  const size_t length = 2 + 6 + exif.size();
  std::vector<uint8_t> out(jpeg.begin(), jpeg.begin() + 2);
  out.insert(out.end(), {0xff, 0xe1, uint8_t(length >> 8), uint8_t(length)});
  out.insert(out.end(), {'E', 'x', 'i', 'f', 0, 0});
  out.insert(out.end(), exif.begin(), exif.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

// The first value of a SHORT or LONG tag of IFD0 (ifd = 0) or of the Exif IFD (ifd = 1) in an
// EXIF of either byte order; -1 when absent or malformed.
inline long exif_tag(const std::vector<uint8_t> &e, int ifd, uint16_t tag) {
  if (e.size() < 8 || (e[0] != 'I' && e[0] != 'M')) return -1;
  const bool le = e[0] == 'I';
  const auto get = [&](size_t at, int bytes) -> long {
    if (at + size_t(bytes) > e.size()) return -1;
    uint32_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= uint32_t(e[at + size_t(i)]) << (8 * (le ? i : bytes - 1 - i));
    return long(v);
  };
  const auto find = [&](long dir, uint16_t want) -> long {  // the entry's offset
    const long count = get(size_t(dir), 2);
    for (long i = 0; dir >= 0 && i < count; ++i) {
      const size_t at = size_t(dir) + 2 + size_t(i) * 12;
      if (get(at, 2) == want) return long(at);
    }
    return -1;
  };
  long dir = get(4, 4);
  if (ifd == 1) {
    const long pointer = find(dir, 0x8769);
    dir = pointer < 0 ? -1 : get(size_t(pointer) + 8, 4);
  }
  if (dir < 0) return -1;
  const long at = find(dir, tag);
  if (at < 0) return -1;
  const long type = get(size_t(at) + 2, 2);
  return type == 3 ? get(size_t(at) + 8, 2) : type == 4 ? get(size_t(at) + 8, 4) : -1;
}

}  // namespace xunit::testing
