// PNG through libpng: 8 and 16 bits, gray, gray+alpha, RGB, RGBA (palette and low bit depths
// expanded, tRNS to alpha, interlaced files read); the iCCP (ICC profile) and eXIf chunks are
// read and written.
//
// libpng reports errors by longjmp back to the setjmp of the phase in progress. Each phase is a
// function holding no C++ object with a destructor (a longjmp would skip it); buffers are owned
// by the caller and sized between phases.
#include <png.h>

#include <cstdio>
#include <cstring>
#include <new>

#include "cli/codecs/codecs.h"

namespace xunit::cli {

namespace {

struct PngState {
  png_structp png = nullptr;
  png_infop info = nullptr;
  char message[256] = "";
  // Reading: the file. Writing: the output, appended to by on_png_write.
  const uint8_t *data = nullptr;
  size_t size = 0, pos = 0;
  std::vector<uint8_t> *out = nullptr;
  bool out_of_memory = false;
};

extern "C" void on_png_error(png_structp png, png_const_charp message) {
  PngState *s = static_cast<PngState *>(png_get_error_ptr(png));
  std::snprintf(s->message, sizeof s->message, "%s", message);
  png_longjmp(png, 1);
}

extern "C" void on_png_warning(png_structp, png_const_charp) {}  // e.g. a bad ancillary chunk

extern "C" void on_png_read(png_structp png, png_bytep dst, size_t length) {
  PngState *s = static_cast<PngState *>(png_get_io_ptr(png));
  if (length > s->size - s->pos) png_error(png, "unexpected end of file");
  std::memcpy(dst, s->data + s->pos, length);
  s->pos += length;
}

// Called from C: must not throw.
extern "C" void on_png_write(png_structp png, png_bytep src, size_t length) {
  PngState *s = static_cast<PngState *>(png_get_io_ptr(png));
  try {
    s->out->insert(s->out->end(), src, src + length);
  } catch (...) {
    s->out_of_memory = true;
  }
  if (s->out_of_memory) png_error(png, "out of memory");
}

extern "C" void on_png_flush(png_structp) {}

struct Header {
  png_uint_32 width = 0, height = 0;
  int channels = 0, depth = 0;
};

// Phase 1: the header, with the transformations to 8/16-bit gray/GA/RGB/RGBA set up.
bool read_header(PngState *s, Header *h) {
  if (setjmp(png_jmpbuf(s->png))) return false;
  png_set_read_fn(s->png, s, on_png_read);
  // The pixel limit (checked after this phase) governs the size, not libpng's default of 10^6
  // pixels per side.
  png_set_user_limits(s->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  png_read_info(s->png, s->info);
  int depth = 0, color = 0;
  png_get_IHDR(s->png, s->info, &h->width, &h->height, &depth, &color, nullptr, nullptr, nullptr);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(s->png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(s->png);
  if (png_get_valid(s->png, s->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(s->png);
  png_set_interlace_handling(s->png);
  png_read_update_info(s->png, s->info);
  h->channels = png_get_channels(s->png, s->info);
  h->depth = png_get_bit_depth(s->png, s->info);
  return true;
}

// Phase 2: the rows (and the chunks after them, where an eXIf may also be).
bool read_rows(PngState *s, png_bytep *rows) {
  if (setjmp(png_jmpbuf(s->png))) return false;
  png_read_image(s->png, rows);
  png_read_end(s->png, s->info);
  return true;
}

struct WriteJob {
  png_bytep *rows;
  png_uint_32 width, height;
  int channels, depth;
  int compression;  // zlib level
  const uint8_t *exif, *icc;
  size_t exif_size, icc_size;
};

bool write_png(PngState *s, const WriteJob *job) {
  if (setjmp(png_jmpbuf(s->png))) return false;
  // A profile libpng finds wrong for the file (an RGB profile on a gray image) is left out with
  // a warning rather than failing the write.
  png_set_benign_errors(s->png, 1);
  png_set_write_fn(s->png, s, on_png_write, on_png_flush);
  png_set_compression_level(s->png, job->compression);
  // Row filters: libpng tries all five on every row and keeps the best, which at zlib's fastest
  // levels costs a fifth of the encode (512x512 RGB photo: 20.4 ms) for 2% of the size; Paeth
  // alone (17 ms, +1.8%) there, none when nothing is compressed, the search from level 3 up.
  if (job->compression == 0)
    png_set_filter(s->png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  else if (job->compression <= 2)
    png_set_filter(s->png, PNG_FILTER_TYPE_BASE, PNG_FILTER_PAETH);
  static const int kColor[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  png_set_IHDR(s->png, s->info, job->width, job->height, job->depth, kColor[job->channels],
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (job->icc)
    png_set_iCCP(s->png, s->info, "ICC profile", PNG_COMPRESSION_TYPE_BASE, job->icc,
                 png_uint_32(job->icc_size));
  if (job->exif)  // libpng copies it; its prototype lacks the const
    png_set_eXIf_1(s->png, s->info, png_uint_32(job->exif_size), const_cast<png_bytep>(job->exif));
  png_write_info(s->png, s->info);
  png_write_image(s->png, job->rows);
  png_write_end(s->png, s->info);
  return true;
}

}  // namespace

Decoded decode_png(const uint8_t *data, size_t size, size_t max_pixels) {
  // The size IHDR announces, checked before libpng reads on: a header promising a huge image
  // is refused by the pixel limit however little data follows.
  if (size >= 24 && std::memcmp(data + 12, "IHDR", 4) == 0) {
    const auto be32 = [](const uint8_t *p) {
      return size_t(p[0]) << 24 | size_t(p[1]) << 16 | size_t(p[2]) << 8 | p[3];
    };
    checked_samples(be32(data + 16), be32(data + 20), 1, max_pixels);
  }
  PngState s;
  s.data = data;
  s.size = size;
  s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, on_png_error, on_png_warning);
  if (s.png) s.info = png_create_info_struct(s.png);
  struct Cleanup {
    PngState *s;
    ~Cleanup() { png_destroy_read_struct(&s->png, s->info ? &s->info : nullptr, nullptr); }
  } cleanup{&s};
  XUNIT_CHECK(s.png && s.info, "out of memory");
  Header h;
  if (!read_header(&s, &h)) throw corrupt("PNG", s.message);
  XUNIT_CHECK(h.channels >= 1 && h.channels <= 4 && (h.depth == 8 || h.depth == 16),
              "unexpected PNG layout");
  const size_t count = checked_samples(h.width, h.height, size_t(h.channels), max_pixels);
  const size_t row_bytes = size_t(h.width) * size_t(h.channels) * size_t(h.depth / 8);
  XUNIT_CHECK(png_get_rowbytes(s.png, s.info) == row_bytes, "unexpected PNG row size");
  std::vector<uint8_t> bytes(count * size_t(h.depth / 8));
  std::vector<png_bytep> rows(h.height);
  for (size_t y = 0; y < h.height; ++y) rows[y] = bytes.data() + y * row_bytes;
  if (!read_rows(&s, rows.data())) throw corrupt("PNG", s.message);

  Decoded d;
  Image &img = d.image;
  img = image_from_samples(bytes, int(h.width), int(h.height), h.channels, h.depth, true);
  png_charp name = nullptr;
  int compression = 0;
  png_bytep profile = nullptr;
  png_uint_32 profile_size = 0;
  if (png_get_iCCP(s.png, s.info, &name, &compression, &profile, &profile_size) && profile)
    img.icc.assign(profile, profile + profile_size);
  png_bytep exif = nullptr;
  png_uint_32 exif_size = 0;
  if (png_get_eXIf_1(s.png, s.info, &exif_size, &exif) && exif)
    img.exif.assign(exif, exif + exif_size);
  return d;
}

std::vector<uint8_t> encode_png(const Image &image, const std::vector<uint8_t> &exif,
                                int compression) {
  XUNIT_CHECK(image.channels >= 1 && image.channels <= 4,
              "PNG needs 1 to 4 channels, got " + std::to_string(image.channels));
  const int depth = image.bits == 16 ? 16 : 8;
  const size_t row_values = size_t(image.width) * size_t(image.channels);
  std::vector<uint8_t> bytes = raw_samples(image, depth, true);  // PNG is big-endian
  std::vector<png_bytep> rows(size_t(image.height));
  for (size_t y = 0; y < rows.size(); ++y) rows[y] = bytes.data() + y * row_values * (depth / 8);
  const bool icc = !image.icc.empty() && image.icc.size() <= kMaxIccBytes;
  const bool has_exif = !exif.empty() && exif.size() <= kMaxExifBytes;
  const WriteJob job{rows.data(),
                     png_uint_32(image.width),
                     png_uint_32(image.height),
                     image.channels,
                     depth,
                     compression,
                     has_exif ? exif.data() : nullptr,
                     icc ? image.icc.data() : nullptr,
                     has_exif ? exif.size() : 0,
                     icc ? image.icc.size() : 0};
  std::vector<uint8_t> out;
  PngState s;
  s.out = &out;
  s.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &s, on_png_error, on_png_warning);
  if (s.png) s.info = png_create_info_struct(s.png);
  struct Cleanup {
    PngState *s;
    ~Cleanup() { png_destroy_write_struct(&s->png, s->info ? &s->info : nullptr); }
  } cleanup{&s};
  XUNIT_CHECK(s.png && s.info, "out of memory");
  if (!write_png(&s, &job)) {
    if (s.out_of_memory) throw std::bad_alloc();
    throw Error(std::string("PNG encoder: ") + s.message);
  }
  return out;
}

}  // namespace xunit::cli
