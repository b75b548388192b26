// JPEG through libjpeg-turbo: gray stays gray, CMYK (Adobe's inverted or plain) becomes RGB, the
// APP1 Exif segment and the ICC profile (APP2, split over several segments when large) are read
// and written.
//
// libjpeg reports errors by calling error_exit, which must not return: it longjmps back to the
// setjmp of the phase in progress. Each phase is a function holding no C++ object with a
// destructor (a longjmp would skip it); buffers are owned by the caller and sized between phases.
// jpeglib.h uses size_t and FILE without including their headers: they come first.
// clang-format off
#include <cstddef>
#include <cstdio>
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "cli/codecs/codecs.h"

namespace xunit::cli {

namespace {

// Progressive JPEGs may hold any number of scans, each a pass over the whole image: a tiny file
// with thousands of them takes minutes. libjpeg-turbo's djpeg stops such files by the same
// means (a progress monitor); real files have at most a few dozen scans.
constexpr int kMaxScans = 500;

struct JpegError {
  jpeg_error_mgr mgr;  // first: libjpeg hands out &mgr as cinfo->err
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

extern "C" void on_jpeg_error(j_common_ptr cinfo) {
  JpegError *e = reinterpret_cast<JpegError *>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

// Warnings are silent, but those that mean lost image data fail the decoding (libjpeg would fill
// the rest with gray and carry on): a truncated or corrupt file is an error, not an image.
extern "C" void on_jpeg_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  const int code = cinfo->err->msg_code;
  if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE ||
      code == JWRN_MUST_RESYNC || code == JWRN_NOT_SEQUENTIAL)
    on_jpeg_error(cinfo);
}

extern "C" void on_jpeg_progress(j_common_ptr cinfo) {
  if (!cinfo->is_decompressor) return;
  j_decompress_ptr d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number <= kMaxScans) return;
  JpegError *e = reinterpret_cast<JpegError *>(cinfo->err);
  std::snprintf(e->message, sizeof e->message, "more than %d progressive scans", kMaxScans);
  std::longjmp(e->jump, 1);
}

void init_error(JpegError *e, jpeg_error_mgr **err) {
  *err = jpeg_std_error(&e->mgr);
  e->mgr.error_exit = on_jpeg_error;
  e->mgr.emit_message = on_jpeg_message;
  e->message[0] = '\0';
}

struct Reader {
  jpeg_decompress_struct cinfo;
  JpegError error;
  jpeg_progress_mgr progress;
  bool created = false;
  int channels = 0;  // of the output: 1 gray, 3 RGB, 4 CMYK (converted to RGB afterwards)
  bool chroma_subsampled = false;  // YCbCr with Cb or Cr sampled less than Y
  JOCTET *icc = nullptr;           // malloc'd by jpeg_read_icc_profile
  unsigned int icc_size = 0;
};

// Phase 1: the header, and the output colour space chosen. No C++ objects in here (setjmp).
bool read_header(Reader *r, const uint8_t *data, size_t size) {
  if (setjmp(r->error.jump)) return false;
  r->cinfo.err = nullptr;
  init_error(&r->error, &r->cinfo.err);
  jpeg_create_decompress(&r->cinfo);
  r->created = true;
  r->progress.progress_monitor = on_jpeg_progress;
  r->cinfo.progress = &r->progress;
  jpeg_mem_src(&r->cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(&r->cinfo, JPEG_APP0 + 1, 0xffff);  // Exif
  jpeg_save_markers(&r->cinfo, JPEG_APP0 + 2, 0xffff);  // ICC_PROFILE
  jpeg_read_header(&r->cinfo, TRUE);
  switch (r->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
      r->cinfo.out_color_space = JCS_GRAYSCALE;
      r->channels = 1;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      r->cinfo.out_color_space = JCS_CMYK;
      r->channels = 4;
      break;
    default:
      r->cinfo.out_color_space = JCS_RGB;
      r->channels = 3;
      if (r->cinfo.jpeg_color_space == JCS_YCbCr && r->cinfo.num_components == 3) {
        const jpeg_component_info *c = r->cinfo.comp_info;
        for (int k = 1; k < 3; ++k)
          r->chroma_subsampled |=
              c[k].h_samp_factor < c[0].h_samp_factor || c[k].v_samp_factor < c[0].v_samp_factor;
      }
      break;
  }
  r->cinfo.dct_method = JDCT_ISLOW;
  return true;
}

// Phase 2: the ICC profile and the pixels into `out` (width * height * channels bytes).
bool read_pixels(Reader *r, uint8_t *out) {
  if (setjmp(r->error.jump)) return false;
  if (!jpeg_read_icc_profile(&r->cinfo, &r->icc, &r->icc_size)) r->icc = nullptr;
  jpeg_start_decompress(&r->cinfo);
  const size_t stride = size_t(r->cinfo.output_width) * size_t(r->channels);
  while (r->cinfo.output_scanline < r->cinfo.output_height) {
    JSAMPROW row = out + size_t(r->cinfo.output_scanline) * stride;
    jpeg_read_scanlines(&r->cinfo, &row, 1);
  }
  jpeg_finish_decompress(&r->cinfo);
  return true;
}

struct ReaderCleanup {
  Reader *r;
  ~ReaderCleanup() {
    if (r->created) jpeg_destroy_decompress(&r->cinfo);
    std::free(r->icc);
  }
};

// CMYK to RGB. Photoshop (the Adobe marker) stores the inks inverted, 255 meaning none.
void cmyk_to_rgb(const uint8_t *cmyk, size_t pixels, bool inverted, float *rgb) {
  for (size_t i = 0; i < pixels; ++i) {
    const uint8_t *p = cmyk + 4 * i;
    const float k = inverted ? p[3] / 255.f : 1.f - p[3] / 255.f;
    for (int c = 0; c < 3; ++c) rgb[3 * i + c] = (inverted ? p[c] / 255.f : 1.f - p[c] / 255.f) * k;
  }
}

struct Writer {
  jpeg_compress_struct cinfo;
  JpegError error;
  bool created = false;
  unsigned char *bytes = nullptr;  // malloc'd by jpeg_mem_dest
  unsigned long size = 0;
};

struct WriterCleanup {
  Writer *w;
  ~WriterCleanup() {
    if (w->created) jpeg_destroy_compress(&w->cinfo);
    std::free(w->bytes);
  }
};

struct WriteJob {
  const uint8_t *samples;  // height rows of width * channels bytes
  int width, height, channels, quality;
  const uint8_t *exif;  // "Exif\0\0" + TIFF structure, or null
  size_t exif_size;
  const uint8_t *icc;
  size_t icc_size;
};

// The whole encoding. No C++ objects in here (setjmp).
bool write_jpeg(Writer *w, const WriteJob *job) {
  if (setjmp(w->error.jump)) return false;
  init_error(&w->error, &w->cinfo.err);
  jpeg_create_compress(&w->cinfo);
  w->created = true;
  jpeg_mem_dest(&w->cinfo, &w->bytes, &w->size);
  w->cinfo.image_width = JDIMENSION(job->width);
  w->cinfo.image_height = JDIMENSION(job->height);
  w->cinfo.input_components = job->channels;
  w->cinfo.in_color_space = job->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&w->cinfo);
  jpeg_set_quality(&w->cinfo, job->quality, TRUE);
  w->cinfo.optimize_coding = TRUE;  // smaller files, same pixels
  w->cinfo.dct_method = JDCT_ISLOW;
  if (job->channels == 3 && job->quality >= 90) {
    // No chroma subsampling at high quality (stb_image_write did the same): 4:2:0 blurs
    // colour edges, which is what a restored image should not get back from its encoder.
    w->cinfo.comp_info[0].h_samp_factor = w->cinfo.comp_info[0].v_samp_factor = 1;
  }
  // An Exif file has its APP1 first; JFIF's APP0 would come before it.
  if (job->exif) w->cinfo.write_JFIF_header = FALSE;
  jpeg_start_compress(&w->cinfo, TRUE);
  if (job->exif)
    jpeg_write_marker(&w->cinfo, JPEG_APP0 + 1, job->exif,
                      static_cast<unsigned int>(job->exif_size));
  if (job->icc)
    jpeg_write_icc_profile(&w->cinfo, job->icc, static_cast<unsigned int>(job->icc_size));
  const size_t stride = size_t(job->width) * size_t(job->channels);
  while (w->cinfo.next_scanline < w->cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t *>(job->samples) + size_t(w->cinfo.next_scanline) * stride;
    jpeg_write_scanlines(&w->cinfo, &row, 1);
  }
  jpeg_finish_compress(&w->cinfo);
  return true;
}

}  // namespace

Decoded decode_jpeg(const uint8_t *data, size_t size, size_t max_pixels) {
  Reader r;
  ReaderCleanup cleanup{&r};
  if (!read_header(&r, data, size)) throw corrupt("JPEG", r.error.message);
  const size_t count =
      checked_samples(r.cinfo.image_width, r.cinfo.image_height, size_t(r.channels), max_pixels);
  // The saved markers live in libjpeg's image pool, freed by jpeg_finish_decompress.
  std::vector<uint8_t> exif;
  for (jpeg_saved_marker_ptr m = r.cinfo.marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length > 6 &&
        std::memcmp(m->data, "Exif\0\0", 6) == 0) {
      exif.assign(m->data + 6, m->data + m->data_length);
      break;
    }
  }
  std::vector<uint8_t> samples(count);
  if (!read_pixels(&r, samples.data())) throw corrupt("JPEG", r.error.message);
  XUNIT_CHECK(
      r.cinfo.output_width == r.cinfo.image_width && r.cinfo.output_height == r.cinfo.image_height,
      "JPEG decoded to a size other than its header's");

  Decoded d;
  Image &img = d.image;
  const int width = int(r.cinfo.image_width), height = int(r.cinfo.image_height);
  if (r.channels == 4) {
    img = image_from_samples({}, width, height, 3, 8, false);
    img.pixels.resize(count / 4 * 3);
    cmyk_to_rgb(samples.data(), count / 4, r.cinfo.saw_Adobe_marker, img.pixels.data());
  } else {
    img = image_from_samples(samples, width, height, r.channels, 8, false);
  }
  img.exif = std::move(exif);
  img.chroma_subsampled = r.chroma_subsampled;
  // A CMYK profile does not describe the RGB pixels made from it.
  if (r.icc && r.channels != 4) img.icc.assign(r.icc, r.icc + r.icc_size);
  return d;
}

std::vector<uint8_t> encode_jpeg(const Image &image, const std::vector<uint8_t> &exif,
                                 int quality) {
  XUNIT_CHECK(image.width <= JPEG_MAX_DIMENSION && image.height <= JPEG_MAX_DIMENSION,
              "JPEG cannot hold an image wider or taller than " +
                  std::to_string(JPEG_MAX_DIMENSION) + " pixels");
  // JPEG holds gray or RGB: alpha is dropped.
  const int keep = image.channels <= 2 ? 1 : 3;
  const std::vector<uint8_t> samples = remap_channels(samples_u8(image), image.channels, keep);
  std::vector<uint8_t> app1;
  if (!exif.empty() && exif.size() <= kMaxExifBytes) {
    app1.assign({'E', 'x', 'i', 'f', 0, 0});
    app1.insert(app1.end(), exif.begin(), exif.end());
  }
  const bool icc = !image.icc.empty() && image.icc.size() <= kMaxIccBytes;
  const WriteJob job{samples.data(),
                     image.width,
                     image.height,
                     keep,
                     quality,
                     app1.empty() ? nullptr : app1.data(),
                     app1.size(),
                     icc ? image.icc.data() : nullptr,
                     icc ? image.icc.size() : 0};
  Writer w;
  WriterCleanup cleanup{&w};
  if (!write_jpeg(&w, &job)) throw Error(std::string("JPEG encoder: ") + w.error.message);
  return std::vector<uint8_t>(w.bytes, w.bytes + w.size);
}

}  // namespace xunit::cli
