// WebP through libwebp: lossless (the default) or lossy at a quality, with alpha; the ICCP and
// EXIF chunks read through libwebpdemux and written through libwebpmux. WebP holds RGB(A) only:
// a gray image is written as R = G = B, and a file whose every pixel has R = G = B is read back
// as gray, so that gray stays gray through WebP.
#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include <cstring>
#include <memory>
#include <new>

#include "cli/codecs/codecs.h"

namespace xunit::cli {

namespace {

const char *status_text(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OUT_OF_MEMORY:
      return "out of memory";
    case VP8_STATUS_INVALID_PARAM:
      return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR:
      return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
      return "unsupported feature";
    case VP8_STATUS_NOT_ENOUGH_DATA:
      return "not enough data";
    default:
      return "decoding failed";
  }
}

const char *encode_error_text(WebPEncodingError error) {
  switch (error) {
    case VP8_ENC_ERROR_OUT_OF_MEMORY:
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY:
      return "out of memory";
    case VP8_ENC_ERROR_BAD_DIMENSION:
      return "bad dimension";
    case VP8_ENC_ERROR_PARTITION0_OVERFLOW:
    case VP8_ENC_ERROR_PARTITION_OVERFLOW:
      return "partition overflow (try a lower --quality)";
    case VP8_ENC_ERROR_FILE_TOO_BIG:
      return "file too big";
    default:
      return "encoding failed";
  }
}

struct DemuxDelete {
  void operator()(WebPDemuxer *d) const { WebPDemuxDelete(d); }
};
struct MuxDelete {
  void operator()(WebPMux *m) const { WebPMuxDelete(m); }
};

// A chunk's payload ("ICCP", "EXIF"), or nothing.
std::vector<uint8_t> chunk(const WebPDemuxer *demux, const char *fourcc) {
  WebPChunkIterator it;
  std::vector<uint8_t> out;
  if (WebPDemuxGetChunk(demux, fourcc, 1, &it)) {
    out.assign(it.chunk.bytes, it.chunk.bytes + it.chunk.size);
    WebPDemuxReleaseChunkIterator(&it);
  }
  return out;
}

// True when every pixel has R = G = B (what a gray image written to WebP gives back).
bool all_gray(const std::vector<uint8_t> &rgb, int channels) {
  for (size_t i = 0; i < rgb.size(); i += size_t(channels))
    if (rgb[i] != rgb[i + 1] || rgb[i] != rgb[i + 2]) return false;
  return true;
}

}  // namespace

Decoded decode_webp(const uint8_t *data, size_t size, size_t max_pixels) {
  WebPBitstreamFeatures features;
  const VP8StatusCode status = WebPGetFeatures(data, size, &features);
  if (status != VP8_STATUS_OK) throw corrupt("WebP", status_text(status));
  XUNIT_CHECK(!features.has_animation, "animated WebP is not supported");
  const int channels = features.has_alpha ? 4 : 3;
  const size_t count = checked_samples(size_t(features.width), size_t(features.height),
                                       size_t(channels), max_pixels);
  std::vector<uint8_t> samples(count);
  const int stride = features.width * channels;
  const uint8_t *ok = channels == 4
                          ? WebPDecodeRGBAInto(data, size, samples.data(), samples.size(), stride)
                          : WebPDecodeRGBInto(data, size, samples.data(), samples.size(), stride);
  if (!ok) throw corrupt("WebP", "the image data does not decode");

  Decoded d;
  Image &img = d.image;
  img.width = features.width;
  img.height = features.height;
  img.bits = 8;
  const bool gray = all_gray(samples, channels);
  img.chroma_subsampled = features.format == 1 && !gray;  // lossy: VP8 codes YUV 4:2:0
  img.channels = gray ? channels - 2 : channels;
  const size_t pixels = count / size_t(channels);
  img.pixels.resize(pixels * size_t(img.channels));
  for (size_t i = 0; i < pixels; ++i) {
    const uint8_t *s = &samples[i * size_t(channels)];
    float *p = &img.pixels[i * size_t(img.channels)];
    if (!gray) {
      for (int c = 0; c < channels; ++c) p[c] = s[c] / 255.f;
    } else {
      p[0] = s[0] / 255.f;
      if (channels == 4) p[1] = s[3] / 255.f;
    }
  }

  const WebPData whole{data, size};
  std::unique_ptr<WebPDemuxer, DemuxDelete> demux(WebPDemux(&whole));
  if (demux) {  // a simple (VP8/VP8L-only) file has no chunks; a broken container none we trust
    img.icc = chunk(demux.get(), "ICCP");
    img.exif = chunk(demux.get(), "EXIF");
  }
  return d;
}

std::vector<uint8_t> encode_webp(const Image &image, const std::vector<uint8_t> &exif,
                                 int quality) {
  XUNIT_CHECK(image.width <= WEBP_MAX_DIMENSION && image.height <= WEBP_MAX_DIMENSION,
              "WebP cannot hold an image wider or taller than " +
                  std::to_string(WEBP_MAX_DIMENSION) + " pixels");
  const bool alpha = image.channels == 2 || image.channels == 4;
  const int channels = alpha ? 4 : 3;
  const std::vector<uint8_t> samples = remap_channels(samples_u8(image), image.channels, channels);

  WebPConfig config;
  XUNIT_CHECK(WebPConfigInit(&config), "WebP encoder: version mismatch");
  if (quality == 0) {
    config.lossless = 1;
    config.exact = 1;  // keep the colour under transparent pixels, as PNG does
  } else {
    config.quality = float(quality);
  }
  WebPPicture picture;
  XUNIT_CHECK(WebPPictureInit(&picture), "WebP encoder: version mismatch");
  picture.width = image.width;
  picture.height = image.height;
  picture.use_argb = config.lossless;
  WebPMemoryWriter writer;
  WebPMemoryWriterInit(&writer);
  picture.writer = WebPMemoryWrite;
  picture.custom_ptr = &writer;
  struct Cleanup {
    WebPPicture *p;
    WebPMemoryWriter *w;
    ~Cleanup() {
      WebPPictureFree(p);
      WebPMemoryWriterClear(w);
    }
  } cleanup{&picture, &writer};
  const int stride = image.width * channels;
  const int imported = alpha ? WebPPictureImportRGBA(&picture, samples.data(), stride)
                             : WebPPictureImportRGB(&picture, samples.data(), stride);
  if (!imported) throw std::bad_alloc();
  if (!WebPEncode(&config, &picture))
    throw Error(std::string("WebP encoder: ") + encode_error_text(picture.error_code));
  std::vector<uint8_t> bitstream(writer.mem, writer.mem + writer.size);

  const bool has_exif = !exif.empty() && exif.size() <= kMaxExifBytes;
  const bool icc = !image.icc.empty() && image.icc.size() <= kMaxIccBytes;
  if (!has_exif && !icc) return bitstream;
  const WebPData bits{bitstream.data(), bitstream.size()};
  std::unique_ptr<WebPMux, MuxDelete> mux(WebPMuxCreate(&bits, 0));
  XUNIT_CHECK(mux != nullptr, "WebP muxer: cannot read the encoded image");
  const WebPData icc_data{image.icc.data(), image.icc.size()};
  const WebPData exif_data{exif.data(), exif.size()};
  XUNIT_CHECK((!icc || WebPMuxSetChunk(mux.get(), "ICCP", &icc_data, 1) == WEBP_MUX_OK) &&
                  (!has_exif || WebPMuxSetChunk(mux.get(), "EXIF", &exif_data, 1) == WEBP_MUX_OK),
              "WebP muxer: cannot add the metadata");
  WebPData assembled;
  WebPDataInit(&assembled);
  XUNIT_CHECK(WebPMuxAssemble(mux.get(), &assembled) == WEBP_MUX_OK,
              "WebP muxer: cannot assemble the file");
  std::vector<uint8_t> out(assembled.bytes, assembled.bytes + assembled.size);
  WebPDataClear(&assembled);
  return out;
}

}  // namespace xunit::cli
