// TIFF through libtiff, in memory: 8- and 16-bit unsigned samples, gray or RGB with an optional
// alpha, contiguous samples, in strips or tiles, any compression libtiff decodes (the first page
// only). Anything else (palette, CMYK, float, 1-bit, planar) is refused with one line. Written
// Deflate-compressed with the horizontal predictor, with the ICC profile; the Orientation tag is
// read (image_io applies it). EXIF in TIFF is a sub-IFD that libtiff exposes field by field:
// it is neither read into nor written from the carried EXIF blob (documented in the README).
#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>

#include "cli/codecs/codecs.h"

namespace xunit::cli {

namespace {

// A file in memory for libtiff's client I/O: read from `data`, or written into `out`.
struct Stream {
  const uint8_t *data = nullptr;
  size_t size = 0;
  std::vector<uint8_t> *out = nullptr;
  uint64_t pos = 0;
  char message[256] = "";
};

// libtiff calls these from C: they must not throw.
extern "C" tmsize_t on_tiff_read(thandle_t h, void *dst, tmsize_t n) {
  Stream *s = static_cast<Stream *>(h);
  const uint8_t *src = s->out ? s->out->data() : s->data;
  const uint64_t size = s->out ? s->out->size() : s->size;
  if (n < 0 || s->pos >= size) return 0;
  const uint64_t take = std::min<uint64_t>(uint64_t(n), size - s->pos);
  std::memcpy(dst, src + s->pos, size_t(take));
  s->pos += take;
  return tmsize_t(take);
}

extern "C" tmsize_t on_tiff_write(thandle_t h, void *src, tmsize_t n) {
  Stream *s = static_cast<Stream *>(h);
  if (!s->out || n < 0) return -1;
  try {
    if (s->out->size() < s->pos + uint64_t(n)) s->out->resize(size_t(s->pos + uint64_t(n)));
  } catch (...) {
    return -1;
  }
  std::memcpy(s->out->data() + s->pos, src, size_t(n));
  s->pos += uint64_t(n);
  return n;
}

extern "C" toff_t on_tiff_seek(thandle_t h, toff_t offset, int whence) {
  Stream *s = static_cast<Stream *>(h);
  const uint64_t size = s->out ? s->out->size() : s->size;
  const uint64_t base = whence == SEEK_CUR ? s->pos : whence == SEEK_END ? size : 0;
  // Offsets are unsigned; libtiff only seeks forward from SEEK_SET/SEEK_END's origin.
  s->pos = base + offset;
  return s->pos;
}

extern "C" int on_tiff_close(thandle_t) { return 0; }

extern "C" toff_t on_tiff_size(thandle_t h) {
  Stream *s = static_cast<Stream *>(h);
  return s->out ? s->out->size() : s->size;
}

extern "C" int on_tiff_map(thandle_t, void **, toff_t *) { return 0; }  // no mapping
extern "C" void on_tiff_unmap(thandle_t, void *, toff_t) {}

// The first error is kept (the later ones tend to be its consequences); warnings (unknown
// tags and the like) are silent. Returning 1 keeps libtiff from printing them on stderr.
extern "C" int on_tiff_error(TIFF *, void *user, const char *, const char *fmt, va_list ap) {
  Stream *s = static_cast<Stream *>(user);
  if (!s->message[0]) std::vsnprintf(s->message, sizeof s->message, fmt, ap);
  return 1;
}

extern "C" int on_tiff_warning(TIFF *, void *, const char *, const char *, va_list) { return 1; }

struct TiffClose {
  void operator()(TIFF *t) const { TIFFClose(t); }
};
using TiffPtr = std::unique_ptr<TIFF, TiffClose>;

TiffPtr open_tiff(Stream *s, const char *mode, tmsize_t max_alloc) {
  std::unique_ptr<TIFFOpenOptions, void (*)(TIFFOpenOptions *)> options(TIFFOpenOptionsAlloc(),
                                                                        TIFFOpenOptionsFree);
  if (!options) throw std::bad_alloc();
  TIFFOpenOptionsSetErrorHandlerExtR(options.get(), on_tiff_error, s);
  TIFFOpenOptionsSetWarningHandlerExtR(options.get(), on_tiff_warning, s);
  if (max_alloc > 0) TIFFOpenOptionsSetMaxSingleMemAlloc(options.get(), max_alloc);
  return TiffPtr(TIFFClientOpenExt("TIFF", mode, s, on_tiff_read, on_tiff_write, on_tiff_seek,
                                   on_tiff_close, on_tiff_size, on_tiff_map, on_tiff_unmap,
                                   options.get()));
}

std::string reason(const Stream &s, const char *otherwise) {
  return s.message[0] ? std::string(s.message) : std::string(otherwise);
}

struct Layout {
  uint32_t width = 0, height = 0;
  uint16_t samples = 1, bits = 1, format = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG;
  uint16_t photometric = 0, orientation = ORIENTATION_TOPLEFT;
  bool inverted = false;       // MINISWHITE
  bool premultiplied = false;  // associated alpha
};

// The header's layout, refused with one line unless it is one this reader handles.
Layout read_layout(TIFF *tif, const Stream &s) {
  Layout l;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &l.width) ||
      !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &l.height))
    throw corrupt("TIFF", reason(s, "no image size"));
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &l.samples);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &l.bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &l.format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &l.planar);
  TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &l.orientation);
  XUNIT_CHECK(TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &l.photometric),
              "TIFF without a photometric interpretation is not supported");
  XUNIT_CHECK(l.bits == 8 || l.bits == 16,
              "TIFF with " + std::to_string(l.bits) + "-bit samples is not supported (8 or 16)");
  XUNIT_CHECK(l.format == SAMPLEFORMAT_UINT,
              "TIFF with signed or floating-point samples is not supported (unsigned only)");
  int color = 0;
  uint16_t compression = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  if (l.photometric == PHOTOMETRIC_MINISBLACK || l.photometric == PHOTOMETRIC_MINISWHITE) {
    color = 1;
    l.inverted = l.photometric == PHOTOMETRIC_MINISWHITE;
  } else if (l.photometric == PHOTOMETRIC_RGB) {
    color = 3;
  } else if (l.photometric == PHOTOMETRIC_YCBCR && compression == COMPRESSION_JPEG) {
    TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);  // libjpeg converts
    color = 3;
  } else {
    throw Error("TIFF photometric interpretation " + std::to_string(l.photometric) +
                " (palette, CMYK, Lab...) is not supported (gray or RGB)");
  }
  XUNIT_CHECK(l.samples == color || l.samples == color + 1,
              "TIFF with " + std::to_string(l.samples) + " samples per pixel is not supported (" +
                  (color == 1 ? "gray, gray+alpha" : "RGB, RGBA") + ")");
  XUNIT_CHECK(l.samples == 1 || l.planar == PLANARCONFIG_CONTIG,
              "planar TIFF (separate sample planes) is not supported (contiguous samples only)");
  if (l.samples == color + 1) {
    uint16_t count = 0;
    uint16_t *types = nullptr;
    if (TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &count, &types) && count == 1 && types)
      l.premultiplied = types[0] == EXTRASAMPLE_ASSOCALPHA;
  }
  return l;
}

// The pixels, row by row (strips) or tile by tile, into `raw` (native-order samples).
void read_pixels(TIFF *tif, const Stream &s, const Layout &l, uint8_t *raw) {
  const size_t pixel_bytes = size_t(l.samples) * (l.bits / 8);
  const size_t row_bytes = size_t(l.width) * pixel_bytes;
  if (!TIFFIsTiled(tif)) {
    XUNIT_CHECK(uint64_t(TIFFScanlineSize64(tif)) == row_bytes, "unexpected TIFF row size");
    for (uint32_t y = 0; y < l.height; ++y)
      if (TIFFReadScanline(tif, raw + size_t(y) * row_bytes, y, 0) < 0)
        throw corrupt("TIFF", reason(s, "unreadable strip"));
    return;
  }
  uint32_t tw = 0, th = 0;
  XUNIT_CHECK(TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw) &&
                  TIFFGetField(tif, TIFFTAG_TILELENGTH, &th) && tw > 0 && th > 0,
              "TIFF tiles without a size");
  const size_t tile_row = size_t(tw) * pixel_bytes;
  size_t tile_bytes = 0;
  XUNIT_CHECK(checked_mul(tile_row, th, &tile_bytes) && uint64_t(TIFFTileSize64(tif)) == tile_bytes,
              "unexpected TIFF tile size");
  std::vector<uint8_t> tile(tile_bytes);
  for (uint32_t y0 = 0; y0 < l.height; y0 += th)
    for (uint32_t x0 = 0; x0 < l.width; x0 += tw) {
      if (TIFFReadTile(tif, tile.data(), x0, y0, 0, 0) < 0)
        throw corrupt("TIFF", reason(s, "unreadable tile"));
      const uint32_t rows = std::min(th, l.height - y0), cols = std::min(tw, l.width - x0);
      for (uint32_t r = 0; r < rows; ++r)
        std::memcpy(raw + (size_t(y0) + r) * row_bytes + size_t(x0) * pixel_bytes,
                    tile.data() + size_t(r) * tile_row, size_t(cols) * pixel_bytes);
    }
}

}  // namespace

Decoded decode_tiff(const uint8_t *data, size_t size, size_t max_pixels) {
  Stream s;
  s.data = data;
  s.size = size;
  // One strip or tile never needs more than the largest image allowed (16-bit RGBA).
  size_t max_alloc = 0;
  if (!checked_mul(max_pixels, 8, &max_alloc) || max_alloc > size_t(INT64_MAX))
    max_alloc = size_t(INT64_MAX);
  TiffPtr tif = open_tiff(&s, "rm", tmsize_t(max_alloc));  // m: no memory mapping
  if (!tif) throw corrupt("TIFF", reason(s, "unreadable header"));
  const Layout l = read_layout(tif.get(), s);
  const size_t count = checked_samples(l.width, l.height, l.samples, max_pixels);
  std::vector<uint8_t> raw(count * (l.bits / 8));
  read_pixels(tif.get(), s, l, raw.data());

  Decoded d;
  Image &img = d.image;
  img = image_from_samples(raw, int(l.width), int(l.height), l.samples, l.bits, false);
  const int color = l.samples == 2 || l.samples == 4 ? l.samples - 1 : l.samples;
  for (size_t i = 0; i < count; i += l.samples) {
    float *p = &img.pixels[i];
    if (l.inverted) p[0] = 1.f - p[0];
    if (l.premultiplied && p[color] > 0.f)  // associated alpha: colour was multiplied by it
      for (int c = 0; c < color; ++c) p[c] = std::min(p[c] / p[color], 1.f);
  }
  uint32_t icc_size = 0;
  void *icc = nullptr;
  if (TIFFGetField(tif.get(), TIFFTAG_ICCPROFILE, &icc_size, &icc) && icc)
    img.icc.assign(static_cast<uint8_t *>(icc), static_cast<uint8_t *>(icc) + icc_size);
  d.orientation = l.orientation >= 1 && l.orientation <= 8 ? l.orientation : 1;
  return d;
}

std::vector<uint8_t> encode_tiff(const Image &image) {
  XUNIT_CHECK(image.channels >= 1 && image.channels <= 4,
              "TIFF needs 1 to 4 channels, got " + std::to_string(image.channels));
  const int bits = image.bits == 16 ? 16 : 8;
  const size_t row_values = size_t(image.width) * size_t(image.channels);
  // 16-bit in the host's order: libtiff marks the file so.
  const std::vector<uint8_t> raw = raw_samples(image, bits, false);
  std::vector<uint8_t> out;
  Stream s;
  s.out = &out;
  TiffPtr tif = open_tiff(&s, "w", 0);
  if (!tif) throw Error("TIFF encoder: " + reason(s, "cannot start"));
  TIFF *t = tif.get();
  const bool alpha = image.channels == 2 || image.channels == 4;
  const uint16_t extra[1] = {EXTRASAMPLE_UNASSALPHA};
  bool ok = TIFFSetField(t, TIFFTAG_IMAGEWIDTH, uint32_t(image.width)) &&
            TIFFSetField(t, TIFFTAG_IMAGELENGTH, uint32_t(image.height)) &&
            TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, uint16_t(image.channels)) &&
            TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, uint16_t(bits)) &&
            TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT) &&
            TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
            TIFFSetField(t, TIFFTAG_PHOTOMETRIC,
                         image.channels <= 2 ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB) &&
            TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE) &&
            TIFFSetField(t, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL) &&
            TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t, 0));
  if (ok && alpha) ok = TIFFSetField(t, TIFFTAG_EXTRASAMPLES, uint16_t(1), extra);
  if (ok && !image.icc.empty() && image.icc.size() <= kMaxIccBytes)
    ok = TIFFSetField(t, TIFFTAG_ICCPROFILE, uint32_t(image.icc.size()), image.icc.data());
  if (!ok) throw Error("TIFF encoder: " + reason(s, "cannot set the header"));
  // libtiff's predictor differences rows in place: hand it a copy of each.
  const size_t row_bytes = row_values * size_t(bits / 8);
  std::vector<uint8_t> row(row_bytes);
  for (int y = 0; y < image.height; ++y) {
    std::memcpy(row.data(), raw.data() + size_t(y) * row_bytes, row_bytes);
    if (TIFFWriteScanline(t, row.data(), uint32_t(y), 0) < 0)
      throw Error("TIFF encoder: " + reason(s, "cannot write a row"));
  }
  if (!TIFFFlush(t)) throw Error("TIFF encoder: " + reason(s, "cannot finish the file"));
  tif.reset();
  return out;
}

}  // namespace xunit::cli
