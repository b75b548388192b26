#include "cli/restore.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/ycbcr_sr.h"
#include "common/error.h"
#include "common/load_budget.h"
#include "common/memory_limit.h"

namespace xunit::cli {

namespace {

// A float image of `c` interleaved channels.
struct Planes {
  int w = 0, h = 0, c = 0;
  std::vector<float> v;
  float &at(int x, int y, int ch) { return v[(size_t(y) * w + x) * c + ch]; }
  float at(int x, int y, int ch) const { return v[(size_t(y) * w + x) * c + ch]; }
};

// The 8 symmetries of the square: rotate by 90 * (t % 4) degrees, then mirror if t >= 4.
// Output pixel (x, y) of the transformed image comes from source pixel source(t, x, y).
void source_of(int t, int x, int y, int w_out, int h_out, int *sx, int *sy) {
  int u = x, v = y, w = w_out, h = h_out;
  if (t >= 4) u = w - 1 - u;         // undo the mirror
  for (int r = 0; r < t % 4; ++r) {  // undo the rotations (each maps (u, v) in a w x h image)
    const int nu = v, nv = w - 1 - u;
    u = nu, v = nv;
    std::swap(w, h);
  }
  *sx = u, *sy = v;
}

Planes transform(const Planes &in, int t) {
  Planes out;
  out.c = in.c;
  const bool swap = t % 2 == 1;
  out.w = swap ? in.h : in.w;
  out.h = swap ? in.w : in.h;
  out.v.resize(in.v.size());
  for (int y = 0; y < out.h; ++y)
    for (int x = 0; x < out.w; ++x) {
      int sx, sy;
      source_of(t, x, y, out.w, out.h, &sx, &sy);
      for (int c = 0; c < in.c; ++c) out.at(x, y, c) = in.at(sx, sy, c);
    }
  return out;
}

// Adds the inverse transform of `out` (a result for transform t) into `sum`.
void accumulate_inverse(const Planes &out, int t, Planes &sum) {
  for (int y = 0; y < out.h; ++y)
    for (int x = 0; x < out.w; ++x) {
      int sx, sy;
      source_of(t, x, y, out.w, out.h, &sx, &sy);
      for (int c = 0; c < out.c; ++c) sum.at(sx, sy, c) += out.at(x, y, c);
    }
}

// The C API's view of planes (written only when they are a run's output).
xunit_image image_of(const Planes &p) {
  return {p.w,
          p.h,
          p.c,
          XUNIT_PIXEL_F32,
          size_t(p.w) * p.c * sizeof(float),
          const_cast<float *>(p.v.data())};
}

class Runner {
 public:
  // `source`: the image the runs are made from (how its file stored chroma matters to the level).
  Runner(const xunit_model *model, const RestoreOptions &o, int runs, const Image &source)
      : model_(model),
        o_(o),
        runs_(runs),
        chroma_storage_(source.chroma_subsampled ? XUNIT_CHROMA_SUBSAMPLED : XUNIT_CHROMA_FULL) {
    info_.struct_size = sizeof info_;
    xunit_model_get_info(model, &info_);
  }
  const xunit_model_info &info() const { return info_; }

  Planes run(const Planes &in) {
    Planes out;
    out.w = in.w * info_.scale;
    out.h = in.h * info_.scale;
    out.c = info_.out_channels;
    out.v.assign(size_t(out.w) * out.h * out.c, 0.f);
    xunit_image a = image_of(in), b = image_of(out);
    xunit_run_options opts;
    xunit_run_options_init(&opts);
    opts.threads = o_.threads;
    opts.tile_size = o_.tile;
    opts.precision = o_.precision;
    if (level_chosen_) {
      opts.noise_level_mode = XUNIT_NOISE_LEVEL_FIXED;
      opts.noise_level = level_;
    }
    if (o_.progress) {
      opts.progress = [](float f, void *self) {
        auto *r = static_cast<Runner *>(self);
        return r->o_.progress((float(r->done_) + f) / float(r->runs_)) ? 0 : 1;
      };
      opts.progress_user_data = this;
    }
    const xunit_status st = xunit_run(model_, &opts, &a, &b);
    if (st == XUNIT_ERROR_CANCELLED) throw Cancelled();
    if (st != XUNIT_OK) throw Error(xunit_last_error());
    ++done_;
    return out;
  }

  // For a model with a noise-level input: the level given, or that of `fed` (what the runs are
  // made on), chosen once for the image (every channel and every TTA transform gets the same);
  // nothing for a blind model.
  void choose_noise_level(const Planes &fed) {
    if (!info_.noise_level_input || level_chosen_) return;
    level_ = o_.sigma;
    if (o_.sigma_auto) {
      const xunit_image img = image_of(fed);
      if (xunit_estimate_noise_level_stored(&img, chroma_storage_, &level_) != XUNIT_OK)
        throw Error(xunit_last_error());
    }
    level_chosen_ = true;
    using Source = RestoreOptions::LevelSource;
    const Source source = !o_.sigma_auto ? Source::kGiven
                          : chroma_storage_ == XUNIT_CHROMA_SUBSAMPLED && fed.c == 3
                              ? Source::kEstimatedLuma
                              : Source::kEstimated;
    if (o_.on_noise_level) o_.on_noise_level(level_, source);
  }

  // The model on `in`, averaged over the 8 symmetries when tta is on.
  Planes run_tta(const Planes &in) {
    choose_noise_level(in);
    if (!o_.tta) return run(in);
    Planes sum;
    for (int t = 0; t < 8; ++t) {
      Planes out = run(transform(in, t));
      if (t == 0) {
        sum = out;
        continue;
      }
      accumulate_inverse(out, t, sum);
    }
    for (float &v : sum.v) v /= 8.f;
    return sum;
  }

 private:
  const xunit_model *model_;
  const RestoreOptions &o_;
  xunit_model_info info_{};  // zeroed: a field the library does not fill reads 0
  int runs_, done_ = 0;
  int32_t chroma_storage_;  // an xunit_chroma_storage
  bool level_chosen_ = false;
  float level_ = 0;
};

// Bilinear resize of one channel by an integer factor (PyTorch's align_corners=False).
std::vector<float> upscale_plane(const std::vector<float> &p, int w, int h, int f) {
  if (f == 1) return p;
  std::vector<float> out(size_t(w) * f * size_t(h) * f);
  auto coord = [f](int dst, int size, int *i0, int *i1, float *t) {
    const float s = std::max((float(dst) + 0.5f) / float(f) - 0.5f, 0.f);
    *i0 = std::min(int(s), size - 1);
    *i1 = std::min(*i0 + 1, size - 1);
    *t = s - float(*i0);
  };
  for (int y = 0; y < h * f; ++y) {
    int y0, y1;
    float ty;
    coord(y, h, &y0, &y1, &ty);
    for (int x = 0; x < w * f; ++x) {
      int x0, x1;
      float tx;
      coord(x, w, &x0, &x1, &tx);
      const float top = p[size_t(y0) * w + x0] * (1 - tx) + p[size_t(y0) * w + x1] * tx;
      const float bot = p[size_t(y1) * w + x0] * (1 - tx) + p[size_t(y1) * w + x1] * tx;
      out[size_t(y) * w * f + x] = top * (1 - ty) + bot * ty;
    }
  }
  return out;
}

Planes channels_of(const Image &img, int first, int count) {
  Planes p{img.width, img.height, count,
           std::vector<float>(size_t(img.width) * img.height * count)};
  for (size_t i = 0; i < size_t(img.width) * img.height; ++i)
    for (int c = 0; c < count; ++c) p.v[i * count + c] = img.pixels[i * img.channels + first + c];
  return p;
}

// Saturating 64-bit size arithmetic: an overflow is a size no machine has.
uint64_t mul(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}
uint64_t add(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

// What restore() will allocate for `img` (already decoded, so not counted), summed as if all of
// it were alive at once: the model's input and output planes (with TTA also the transformed
// copy and the sum), the colour adaptation (for gray content in RGB: the result and each
// channel's offset at the output size), the output image, the alpha plane, the encoder's
// buffer (as much again as the output), and the engine's scratch for a run of `run_w` x `run_h`
// (xunit_run_memory_needed). Computed before any of it is allocated.
uint64_t restore_memory_bytes(const xunit_model *model, const xunit_model_info &info,
                              const Image &img, const RestoreOptions &o, int run_w, int run_h,
                              int factor) {
  const uint64_t s = uint64_t(info.scale) * uint64_t(factor);
  const uint64_t px_in = mul(uint64_t(img.width), uint64_t(img.height));
  const uint64_t px_out = mul(px_in, mul(s, s));
  const uint64_t px_run_in = mul(uint64_t(run_w), uint64_t(run_h));
  const uint64_t px_run_out = mul(px_run_in, mul(uint64_t(info.scale), uint64_t(info.scale)));
  const uint64_t f = sizeof(float), ch = uint64_t(std::max(img.channels, 1));
  const uint64_t in_planes = mul(px_run_in, mul(uint64_t(info.in_channels), f));
  const uint64_t out_planes = mul(px_run_out, mul(uint64_t(info.out_channels), f));
  uint64_t total = add(in_planes, out_planes);
  if (o.tta) total = add(total, add(in_planes, out_planes));
  total = add(total, mul(px_out, mul(6, f)));           // colour adaptation (3 planes, 3 offsets)
  total = add(total, mul(px_in, mul(ch, f)));           // channels_of / alpha at the input size
  total = add(total, mul(2, mul(px_out, mul(ch, f))));  // the output image, the encoder
  xunit_run_options opts;
  xunit_run_options_init(&opts);
  opts.threads = o.threads;
  opts.tile_size = o.tile;
  opts.precision = o.precision;
  uint64_t scratch = 0;
  if (xunit_run_memory_needed(model, &opts, run_w, run_h, &scratch) != XUNIT_OK)
    throw Error(xunit_last_error());
  return add(total, scratch);
}

void check_restore_memory(const xunit_model *model, const xunit_model_info &info, const Image &img,
                          const RestoreOptions &o, int run_w, int run_h, int factor = 1) {
  const int64_t s = int64_t(info.scale) * factor;
  check_memory_needed(restore_memory_bytes(model, info, img, o, run_w, run_h, factor),
                      "restoring a " + std::to_string(img.width) + "x" +
                          std::to_string(img.height) + " image into " +
                          std::to_string(img.width * s) + "x" + std::to_string(img.height * s));
}

}  // namespace

bool gray_content(const Image &img) {
  if (img.bits == 32 || (img.channels != 3 && img.channels != 4)) return false;
  const size_t n = size_t(img.width) * img.height, c = size_t(img.channels);
  double r_g = 0, b_g = 0;
  for (size_t i = 0; i < n; ++i) {
    const float *p = &img.pixels[i * c];
    const float lo = std::min({p[0], p[1], p[2]}), hi = std::max({p[0], p[1], p[2]});
    if (!(hi - lo <= kGraySpread)) return false;  // NaN too
    r_g += double(p[0]) - p[1];
    b_g += double(p[2]) - p[1];
  }
  return n > 0 && std::abs(r_g) <= kGrayTint * double(n) && std::abs(b_g) <= kGrayTint * double(n);
}

Image restore(const xunit_model *model, const Image &img, const RestoreOptions &o) {
  xunit_model_info info;
  info.struct_size = sizeof info;
  xunit_model_get_info(model, &info);
  const char *pipeline = xunit_model_get_metadata(model, "pipeline");
  if (pipeline && std::string(pipeline) == "ycbcr_bicubic" && img.bits != 32) {
    // An SRCNN-style network: it restores the Y channel of the bicubic-upsampled image.
    const char *scale = xunit_model_get_metadata(model, "sr_scale");
    const int factor = scale ? std::atoi(scale) : 0;
    XUNIT_CHECK(factor >= 2 && factor <= 8,
                "the model restores a bicubic-upsampled Y channel but does not record its scale "
                "(convert it with --set scale=N, or --meta sr_scale=N for an ONNX graph)");
    XUNIT_CHECK(info.in_channels == 1 && info.out_channels == 1 && info.scale == 1,
                "a ycbcr_bicubic model must map one channel to one at the same size");
    XUNIT_CHECK(
        int64_t(img.width) * factor <= INT32_MAX && int64_t(img.height) * factor <= INT32_MAX,
        "the image is too large to upscale by " + std::to_string(factor));
    check_restore_memory(model, info, img, o, img.width * factor, img.height * factor, factor);
    Runner r(model, o, o.tta ? 8 : 1, img);
    Image out = restore_ycbcr_bicubic(img, factor, [&](const std::vector<float> &y, int w, int h) {
      return r.run_tta(Planes{w, h, 1, y}).v;
    });
    out.exif = img.exif;  // the same photograph: its metadata goes with it
    out.icc = img.icc;
    return out;
  }
  const bool raw = img.bits == 32;
  const bool has_alpha = !raw && (img.channels == 2 || img.channels == 4);
  const int colour = has_alpha ? img.channels - 1 : img.channels;
  const int s = info.scale, W = img.width, H = img.height;
  XUNIT_CHECK(info.out_channels == info.in_channels,
              "the model turns " + std::to_string(info.in_channels) + " channels into " +
                  std::to_string(info.out_channels) + ": not an image model");

  check_restore_memory(model, info, img, o, W, H);

  Planes result;  // (H*s, W*s, colour)
  const int per_image = o.tta ? 8 : 1;
  if (colour == info.in_channels) {
    Runner r(model, o, per_image, img);
    result = r.run_tta(channels_of(img, 0, colour));
  } else if (!raw && info.in_channels == 1 && colour == 3 && gray_content(img)) {
    // One run on the gray content; each channel keeps its own (small) difference from it.
    Runner r(model, o, per_image, img);
    Planes gray{W, H, 1, std::vector<float>(size_t(W) * H)};
    for (size_t i = 0; i < gray.v.size(); ++i) {
      const float *p = &img.pixels[i * img.channels];
      gray.v[i] = p[0] == p[1] && p[1] == p[2] ? p[0] : (p[0] + p[1] + p[2]) / 3.f;
    }
    const Planes out = r.run_tta(gray);
    // The differences at the output's size: resized like alpha for super-resolution.
    std::vector<float> offset[3];
    for (int c = 0; c < 3; ++c) {
      std::vector<float> d(gray.v.size());
      for (size_t i = 0; i < d.size(); ++i) d[i] = img.pixels[i * img.channels + c] - gray.v[i];
      offset[c] = upscale_plane(d, W, H, s);
    }
    result = {W * s, H * s, 3, std::vector<float>(out.v.size() * 3)};
    for (size_t i = 0; i < out.v.size(); ++i)
      for (int c = 0; c < 3; ++c) result.v[i * 3 + c] = out.v[i] + offset[c][i];
  } else if (!raw && info.in_channels == 1 && colour == 3) {
    Runner r(model, o, 3 * per_image, img);
    r.choose_noise_level(channels_of(img, 0, 3));  // once, for the three runs
    result = {W * s, H * s, 3, std::vector<float>(size_t(W) * s * H * s * 3)};
    for (int c = 0; c < 3; ++c) {
      Planes out = r.run_tta(channels_of(img, c, 1));
      for (size_t i = 0; i < out.v.size(); ++i) result.v[i * 3 + c] = out.v[i];
    }
  } else if (!raw && info.in_channels == 3 && colour == 1) {
    Runner r(model, o, per_image, img);
    Planes gray = channels_of(img, 0, 1), rgb{W, H, 3, std::vector<float>(size_t(W) * H * 3)};
    for (size_t i = 0; i < gray.v.size(); ++i)
      rgb.v[i * 3] = rgb.v[i * 3 + 1] = rgb.v[i * 3 + 2] = gray.v[i];
    Planes out = r.run_tta(rgb);
    result = {W * s, H * s, 1, std::vector<float>(out.v.size() / 3)};
    for (size_t i = 0; i < result.v.size(); ++i)
      result.v[i] = (out.v[i * 3] + out.v[i * 3 + 1] + out.v[i * 3 + 2]) / 3.f;
  } else {
    throw Error("the image has " + std::to_string(colour) + " channel(s); the model takes " +
                std::to_string(info.in_channels) + (raw ? " (.npy arrays are not adapted)" : ""));
  }

  Image out;
  out.width = W * s;
  out.height = H * s;
  out.channels = img.channels;
  out.bits = img.bits;
  out.exif = img.exif;  // the same photograph: its metadata goes with it
  out.icc = img.icc;
  if (!has_alpha) {  // the result is the image (a copy would cost ~3 ms per 512x512)
    out.pixels = std::move(result.v);
    return out;
  }
  out.pixels.resize(size_t(out.width) * out.height * out.channels);
  const std::vector<float> alpha = upscale_plane(channels_of(img, colour, 1).v, W, H, s);
  for (size_t i = 0; i < size_t(out.width) * out.height; ++i) {
    for (int c = 0; c < colour; ++c) out.pixels[i * out.channels + c] = result.v[i * colour + c];
    out.pixels[i * out.channels + colour] = alpha[i];
  }
  return out;
}

}  // namespace xunit::cli
