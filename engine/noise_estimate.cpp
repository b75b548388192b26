// The noise estimator. Why this method (bench/noise_estimate_eval.py measures it on Kodak24,
// Set12 and BSDS400 and wrote the calibration below; its table is in README.md):
//
// - The band: Immerkaer's 3x3 mask [1 -2 1] x [1 -2 1] / 6 (J. Immerkaer, "Fast noise variance
//   estimation", CVIU 1996), a second difference across and along the rows. It has unit gain for
//   white noise and cancels every image that is linear along x or along y (ramps, straight
//   edges along the axes), so that most of a photo's content leaves little in it while the
//   noise passes whole.
// - The blocks: 8x8 blocks of that band, each giving its mean square. A textured block reads
//   noise plus texture, never less than its noise, so the flattest blocks tell the noise: the
//   2% lowest (a photo has that many flat ones; sky, walls, shadows), divided by what the same
//   order statistic is for blocks of pure white noise (kBlockQuantile, a simulation). A mean
//   over the whole image (Immerkaer's own) reads texture as noise; a lower fraction is noisier
//   on small images and no better on photos.
// - Clipping: noise added to a photo and saved is clipped to 0..255, which shrinks it near the
//   ends (at sigma 50 most blocks are near one end). Blocks with more than a quarter of their
//   pixels at an end are left out, and the others' mean squares are divided by what clipping
//   leaves of a Gaussian of the current estimate at that block's mean (clipped_gain), then the
//   estimate is taken again (a few rounds; they converge). Leaving out every block that holds
//   a clipped pixel instead reads low (-1.7 at sigma 50 on Kodak24: it keeps the blocks whose
//   noise happened to be small) and leaves few blocks or none.
//   When that leaves almost no block (a noisy white or black page: every block about half
//   clipped), blocks up to three quarters clipped are used the same way (kMaxClippedShareAll):
//   a white page at sigma 25 reads 24.4 (it read 0 and was not denoised).
// - The floor: kFloor (1 level squared) is taken off the channels' variance: 1/12 of it is the
//   rounding to 8 bits of any saved image, the rest the fine grain that the clean photos of the
//   test sets show in their flattest blocks (film grain, sensor noise: without the floor they
//   read 1.4 levels on average on Kodak24, 1.3 on Set12, 0.55 on BSDS400; with it 0.97, 0.81,
//   0.15), so that a conditioned denoiser leaves a clean photo alone.
// - Colour: each colour channel is estimated alone and the median of their variances taken (one
//   odd channel, e.g. the blue of a dim photo, does not pull it).
// - The texture guard, for RGB: a photo with no flat part at all (grass, gravel, foliage over
//   the whole frame) reads its fine texture as noise in each channel, up to 7 levels (3 of the
//   400 BSDS images read 6.5-7.2, 17 above 1.5). Texture is almost the same in R, G and B, the
//   noise of the saved-file protocol independent in each: the chroma, (R - G) / sqrt(2) and
//   (R + G - 2B) / sqrt(6), has all of the noise and little of the texture, and no film grain
//   (its floor is the rounding alone, kRounding). Estimated the same way (its blocks' clipping
//   from R, G and B's), it reads those photos 0-0.3, and sigma 10 on them 9.9-11.2 where the
//   channels read 11.8-13.5. The result is the chroma's level, or the channels' less kTexture
//   (8 levels, in quadrature: above any texture measured) when that is more, so that noise the
//   channels share, which the chroma does not see, still reads when texture cannot explain it:
//   gray content (R = G = B, no chroma at all: the channels' level as is), a color JPEG's (its
//   4:2:0 chroma keeps none of the noise). Never above the channels' (a colourful fine pattern
//   is texture in the chroma). Every clean photo of Kodak24, BSDS400, LIVE1 and McMaster reads
//   below 1.2, and sigma 1 to 10 on them with a bias within 0.2 and a spread of 0.11 at most
//   (Kodak24, BSDS400).
// - Subsampled chroma (chroma_subsampled: most JPEGs, 4:2:0 or 4:2:2, and lossy WebP, which the
//   decoder tells): the file kept of noise independent in R, G and B only the luma's share,
//   0.299 R + 0.587 G + 0.114 B (0.67 of its level), in all three channels alike, and none in the
//   chroma, so the texture guard would take all of it for texture (sigma 25 read 15, 10 and below
//   about 0). Such an RGB image is read by its luma instead, at unit gain for noise independent
//   in R, G and B (kLuma, kLumaGain; the channels' floor seen through it), which gives the level
//   the noise had before saving: what a conditioned denoiser trained on such files is to be
//   given. Gray content stays as above (its noise was the same in R, G and B, all of it luma).
//   The luma has no chroma to tell texture by, so its guard is a second scale: the luma binned
//   2x2 (binned_luma_variance) reads white noise at a quarter of its variance, texture at much
//   more (1/f-like spectra: on the most textured BSDS400 photos the binned reading, x4, is 4-17x
//   the fine one); with the binned reading x4 as `coarse` and kTextureRatio (4)
//   for texture, fine = noise + t and coarse = noise + 4 t give noise = (4 fine - coarse) / 3,
//   never more than `fine`. The 400 BSDS400 photos as they are (clean 4:2:0 JPEGs) read 0.02 on
//   average, the worst 2.6 (10.7 with the fine scale alone).
//
// Limits, measured (noise_estimate_eval.py): JPEG removes part of the noise before this sees it,
// most of it at the finest scale, where this looks. At quality 90 a gray image (from sigma 10
// up), or a color one without chroma subsampling (from 15 up), reads with a bias within +1.3,
// but sigma 5 and below mostly vanish. With 4:2:0 subsampling read by the luma, quality 90-95,
// sigma 15-50 reads with a bias within +1.8, 10 at 6.4 (quality 90) to 11 (95), 5 at 0 (90) to
// 4.2 (95): what JPEG left of low noise looks like texture to the second scale. Read without being
// told of the subsampling, sigma 10 and below read about 0 even at quality 95, 25 reads 15 and 50
// reads 30. Gray images have no texture guard: a fully textured one reads up to 2 levels.
#include "engine/noise_estimate.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace xunit {
namespace {

constexpr int kBlock = 8;
constexpr double kLowFraction = 0.02;  // the flattest blocks' share
// At most this many blocks per channel are measured (a lattice of them beyond): memory stays a
// few MB and the time about that of a 16 MP image, whatever the size; the fraction of flat
// blocks, which is what matters, is the same in the lattice.
constexpr size_t kMaxBlocks = size_t(1) << 18;
constexpr double kFloor = 1.0;  // level^2 taken off the channels' variance (see above)
// What the chroma's is left with: the rounding of R, G and B to 8 bits, independent in each.
constexpr double kRounding = 1.0 / 12;
constexpr float kMaxClippedShare = 0.25f;  // more of a block at 0 or full scale: left out
// ... unless fewer than this share of the blocks (or kMinUsable blocks) are left: then blocks
// up to kMaxClippedShareAll clipped are used (a noisy white or black page: every block about
// half clipped; without them the page read 0 and was not denoised at all).
constexpr double kMinUsableShare = 0.01;
constexpr size_t kMinUsable = 16;
constexpr float kMaxClippedShareAll = 0.75f;
constexpr double kMinGain = 0.25;  // clipping leaves less of the noise: left out
// The texture guard of RGB images (see the top of this file): what the channels read above the
// chroma, up to kTexture levels (in quadrature), is texture. A mean chroma energy below
// kGrayChroma (level^2) is gray content (R = G = B): no chroma to tell anything.
constexpr double kTexture = 8.0;
constexpr double kGrayChroma = 0.01;
// The luma of files with subsampled chroma (JPEG's and WebP's Y, BT.601), and its gain for noise
// independent in R, G and B (the sum of the squares): the luma's band is divided by it, so that
// it reads such noise at its level.
constexpr float kLuma[3] = {0.299f, 0.587f, 0.114f};
constexpr float kLumaGain = kLuma[0] * kLuma[0] + kLuma[1] * kLuma[1] + kLuma[2] * kLuma[2];
// The texture guard of files with subsampled chroma (see the top of this file): texture reads
// at least this much more at the 2x2-binned scale than at the fine one (variances; photos: 4 to
// 17), white noise as much at both.
constexpr double kTextureRatio = 4.0;
// Pixels at or beyond these (in levels) are clipped ones.
constexpr float kLowEnd = 0.5f, kHighEnd = 254.5f;

// The quantile function of an 8x8 block's mean square of the band for unit white Gaussian
// noise, at p = 0, 0.005, ..., 0.5 (1,048,576 simulated blocks: noise_estimate_eval.py
// --table). Block statistics are correlated sums (neighbouring residuals share pixels), so no
// chi-square fits their lower tail; the table is exact to ~0.5%.
constexpr float kBlockQuantile[101] = {
    0.0000f, 0.4032f, 0.4398f, 0.4642f, 0.4834f, 0.4994f, 0.5129f, 0.5252f, 0.5362f, 0.5466f,
    0.5562f, 0.5650f, 0.5733f, 0.5809f, 0.5884f, 0.5958f, 0.6027f, 0.6093f, 0.6158f, 0.6221f,
    0.6282f, 0.6341f, 0.6400f, 0.6457f, 0.6511f, 0.6566f, 0.6621f, 0.6671f, 0.6721f, 0.6772f,
    0.6822f, 0.6869f, 0.6917f, 0.6965f, 0.7011f, 0.7056f, 0.7101f, 0.7146f, 0.7190f, 0.7234f,
    0.7277f, 0.7321f, 0.7364f, 0.7406f, 0.7449f, 0.7490f, 0.7531f, 0.7571f, 0.7612f, 0.7652f,
    0.7693f, 0.7733f, 0.7772f, 0.7812f, 0.7851f, 0.7890f, 0.7928f, 0.7967f, 0.8005f, 0.8043f,
    0.8081f, 0.8120f, 0.8158f, 0.8196f, 0.8234f, 0.8271f, 0.8309f, 0.8345f, 0.8382f, 0.8420f,
    0.8457f, 0.8494f, 0.8530f, 0.8568f, 0.8605f, 0.8642f, 0.8678f, 0.8716f, 0.8753f, 0.8789f,
    0.8826f, 0.8863f, 0.8899f, 0.8937f, 0.8974f, 0.9011f, 0.9048f, 0.9085f, 0.9122f, 0.9160f,
    0.9198f, 0.9236f, 0.9273f, 0.9310f, 0.9348f, 0.9386f, 0.9424f, 0.9461f, 0.9499f, 0.9537f,
    0.9576f};
constexpr double kQuantileStep = 0.005;

struct Block {
  float energy;   // mean square of the band
  float mean;     // mean pixel value (levels)
  float clipped;  // share of the pixels at 0 or full scale
};

// A block of the colour mixtures of an RGB image: the band of the chroma, (R - G) / sqrt(2) and
// (R + G - 2B) / sqrt(6), unit gain for noise independent in R, G and B, none for what the three
// share (the texture of a photo, mostly gray); and of the luma (kLuma, scaled to unit gain for
// such noise), what a file with subsampled chroma keeps of it.
struct ColourBlock {
  float chroma[2];
  float luma;
  float mean[3];  // of R, G and B: what clipping leaves of each one's noise
  float clipped;  // the largest share of R, G or B at 0 or full scale
};

// The blocks of every colour channel (and of the chroma of RGB), measured in one pass.
struct Measured {
  std::vector<std::vector<Block>> channels;
  std::vector<ColourBlock> colour;
  bool clipped_data = true;  // false: values beyond 0..255 exist, the noise was not clipped
};

// Consecutive blocks of a block row are measured together, all channels at once in their
// interleaved order, so that every loop runs along a contiguous row (and vectorizes); this many
// samples of a row at most, which bounds the scratch to a few hundred KB (a few MB for images of
// thousands of channels, which get one block at a time).
constexpr size_t kChunkSamples = 2048;

template <typename T>
void measure(const xunit_image &img, int colour, float scale, Measured *out) {
  constexpr bool kFloat = std::is_floating_point_v<T>;
  const int rw = img.width - 2, rh = img.height - 2;  // the band is defined inside the border
  // 8x8 blocks; in a strip thinner than 8, blocks as long as to hold about as many samples,
  // so that kBlockQuantile still roughly fits them.
  size_t bw = size_t(std::min(kBlock, rw)), bh = size_t(std::min(kBlock, rh));
  if (bh < size_t(kBlock)) bw = std::min(size_t(rw), (kBlock * kBlock + bh - 1) / bh);
  if (bw < size_t(kBlock)) bh = std::min(size_t(rh), (kBlock * kBlock + bw - 1) / bw);
  const size_t nbx = size_t(rw) / bw, nby = size_t(rh) / bh;
  size_t step = 1;  // the lattice of measured blocks
  while (((nbx + step - 1) / step) * ((nby + step - 1) / step) > kMaxBlocks) ++step;
  const size_t C = size_t(img.channels);
  const size_t chunk = step == 1 ? std::max<size_t>(1, kChunkSamples / (bw * C)) : 1;
  const size_t measured = ((nbx + step - 1) / step) * ((nby + step - 1) / step);
  out->channels.assign(size_t(colour), {});
  for (auto &c : out->channels) c.reserve(measured);
  const bool rgb = colour == 3;
  if (rgb) out->colour.reserve(measured);
  const size_t ph = bh + 2, cols = chunk * bw * C;  // rows with the border; band samples a row
  std::vector<float> px(ph * (cols + 2 * C)), across(ph * cols), energy(cols), sum(cols),
      clipped(cols), lo(cols), hi(cols), band_row(cols + 2), cross[2];
  // The chroma's and luma's energy from R, G and B's: sum (R - G)^2 = sum R^2 + G^2 - 2 RG and
  // so on, the products of neighbouring samples (RG, GB at an offset of 1, RB at 2) summed along
  // contiguous rows like the energies.
  if (rgb) cross[0].resize(cols), cross[1].resize(cols);
  const auto *base = static_cast<const unsigned char *>(img.data);
  float lowest = 0.f, highest = 0.f;
  const float inv_n = 1.f / float(bw * bh);
  for (size_t by = 0; by < nby; by += step)
    for (size_t bx0 = 0; bx0 < nbx; bx0 += step * chunk) {
      const size_t blocks = std::min(chunk, nbx - bx0), n = blocks * bw * C, pw = n + 2 * C;
      for (size_t r = 0; r < ph; ++r) {
        const T *p =
            reinterpret_cast<const T *>(base + (by * bh + r) * img.row_stride) + bx0 * bw * C;
        float *q = &px[r * pw];
        for (size_t i = 0; i < pw; ++i) q[i] = float(p[i]) * scale;
      }
      // The mask is separable: the second difference along each row, then across the rows.
      for (size_t r = 0; r < ph; ++r) {
        const float *p = &px[r * pw];
        float *a = &across[r * n];
        for (size_t i = 0; i < n; ++i) a[i] = p[i] - 2.f * p[i + C] + p[i + 2 * C];
      }
      std::fill_n(energy.begin(), n, 0.f);
      std::fill_n(sum.begin(), n, 0.f);
      std::fill_n(clipped.begin(), n, 0.f);
      if constexpr (kFloat) {
        std::copy_n(&px[pw + C], n, lo.begin());
        std::copy_n(&px[pw + C], n, hi.begin());
      }
      if (rgb) std::fill_n(cross[0].begin(), n, 0.f), std::fill_n(cross[1].begin(), n, 0.f);
      for (size_t r = 1; r <= bh; ++r) {
        const float *up = &across[(r - 1) * n], *mid = up + n, *down = mid + n;
        const float *centre = &px[r * pw + C];
        for (size_t i = 0; i < n; ++i) {
          const float band = (up[i] - 2.f * mid[i] + down[i]) * (1.f / 6.f), v = centre[i];
          band_row[i] = band;
          energy[i] += band * band;
          sum[i] += v;
          clipped[i] += v <= kLowEnd || v >= kHighEnd ? 1.f : 0.f;
          if constexpr (kFloat) {  // integers cannot leave 0..full scale
            lo[i] = std::min(lo[i], v);
            hi[i] = std::max(hi[i], v);
          }
        }
        if (rgb)  // (the last two products reach the zeros past the row: not used)
          for (size_t i = 0; i < n; ++i) {
            cross[0][i] += band_row[i] * band_row[i + 1];
            cross[1][i] += band_row[i] * band_row[i + 2];
          }
      }
      for (size_t b = 0; b < blocks; ++b) {
        ColourBlock cb{{0.f, 0.f}, 0.f, {0.f, 0.f, 0.f}, 0.f};
        bool finite = true;
        for (size_t ch = 0; ch < size_t(colour); ++ch) {
          const size_t first = b * bw * C + ch;
          float e = 0.f, s = 0.f, k = 0.f, l = lo[first], h = hi[first];
          for (size_t i = first; i < first + bw * C; i += C) {
            e += energy[i], s += sum[i], k += clipped[i];
            l = std::min(l, lo[i]), h = std::max(h, hi[i]);
          }
          // NaN or infinity anywhere in the block (its border too) makes e non-finite.
          if (!std::isfinite(e) || !std::isfinite(s)) {
            finite = false;
            continue;
          }
          lowest = std::min(lowest, l);
          highest = std::max(highest, h);
          out->channels[ch].push_back({e * inv_n, s * inv_n, k * inv_n});
          if (ch < 3) cb.mean[ch] = s * inv_n, cb.clipped = std::max(cb.clipped, k * inv_n);
        }
        if (!rgb || !finite) continue;
        // The band is linear: the chroma's and luma's are those of R, G and B combined.
        constexpr float kr = kLuma[0], kg = kLuma[1], kb = kLuma[2];
        for (size_t i = b * bw * C; i < (b + 1) * bw * C; i += C) {
          const float r = energy[i], g = energy[i + 1], bl = energy[i + 2], rg = cross[0][i],
                      gb = cross[0][i + 1], rb = cross[1][i];
          cb.chroma[0] += (r + g - 2.f * rg) * 0.5f;
          cb.chroma[1] += (r + g + 4.f * bl + 2.f * rg - 4.f * gb - 4.f * rb) * (1.f / 6.f);
          cb.luma += kr * kr * r + kg * kg * g + kb * kb * bl +
                     2.f * (kr * kg * rg + kg * kb * gb + kr * kb * rb);
        }
        // (max: the sums cancel to about 0 for gray content, rounding may leave them below)
        cb.chroma[0] = std::max(0.f, cb.chroma[0] * inv_n);
        cb.chroma[1] = std::max(0.f, cb.chroma[1] * inv_n);
        cb.luma = std::max(0.f, cb.luma * inv_n / kLumaGain);
        if (std::isfinite(cb.chroma[0]) && std::isfinite(cb.chroma[1]) && std::isfinite(cb.luma))
          out->colour.push_back(cb);
      }
    }
  // Float data with unclipped noise (values below 0 or above full scale): nothing to undo.
  out->clipped_data = lowest >= -kLowEnd && highest <= 255.f + kLowEnd;
}

double block_quantile(double p) {
  const double x = std::clamp(p, kQuantileStep, 0.5) / kQuantileStep;
  const int i = std::min(int(x), 99);
  const double t = x - i;
  return kBlockQuantile[i] * (1 - t) + kBlockQuantile[i + 1] * t;
}

// The noise variance told by the flattest blocks: the k-th lowest mean square, k = 2% of the
// blocks (at least 1), over the expected k-th lowest of n blocks of unit noise (Blom's
// approximation of an order statistic's mean, so that a small image with few blocks is not
// biased).
double low_variance(std::vector<float> &energies) {
  const size_t n = energies.size();
  const size_t k = std::max<size_t>(1, size_t(std::lround(kLowFraction * double(n))));
  std::nth_element(energies.begin(), energies.begin() + ptrdiff_t(k - 1), energies.end());
  return energies[k - 1] / block_quantile((double(k) - 0.375) / (double(n) + 0.25));
}

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }
double normal_pdf(double z) { return std::exp(-0.5 * z * z) * 0.3989422804014327; }  // 1/sqrt(2 pi)

// The mean and variance of clip(mu + s Z, 0, 255), Z standard normal (the saved-file noise).
void clipped_moments(double mu, double s, double *mean, double *var) {
  const double a = (0 - mu) / s, b = (255 - mu) / s;
  const double pa = normal_cdf(a), pb = normal_cdf(b), inside = pb - pa;
  const double ez = normal_pdf(a) - normal_pdf(b);  // E[Z; a < Z < b]
  const double ez2 = inside + a * normal_pdf(a) - b * normal_pdf(b);
  const double m1 = 255 * (1 - pb) + mu * inside + s * ez;
  const double m2 = 255.0 * 255 * (1 - pb) + mu * mu * inside + 2 * mu * s * ez + s * s * ez2;
  *mean = m1;
  *var = std::max(0.0, m2 - m1 * m1);
}

// gain[m]: the variance that clipping leaves of noise s around a block whose (clipped) mean is
// m levels, over s^2. 1 away from the ends.
void clipped_gain(double s, double gain[256]) {
  for (int m = 0; m < 256; ++m) {
    gain[m] = 1.0;
    if (s < 0.5 || (m > 6 * s && m < 255 - 6 * s)) continue;  // clipping leaves < 1e-8 out
    double lo = -6 * s - 1, hi = 255 + 6 * s + 1, mean = 0, var = 0;
    for (int i = 0; i < 40; ++i) {  // the mean is increasing in mu
      const double mid = 0.5 * (lo + hi);
      clipped_moments(mid, s, &mean, &var);
      (mean < m ? lo : hi) = mid;
    }
    clipped_moments(0.5 * (lo + hi), s, &mean, &var);
    gain[m] = var / (s * s);
  }
}

double gain_at(const double gain[256], float mean) {
  const double m = std::clamp(double(mean), 0.0, 255.0);
  const int i = std::min(int(m), 254);
  return gain[i] + (gain[i + 1] - gain[i]) * (m - i);
}

// The noise variance of n blocks, or -1 when no block can tell it: energy(i) a block's mean
// square, clipped(i) the share of its pixels at an end, gain(i, table) what clipping leaves of
// the noise in it when clipped_gain gives `table`.
template <typename Energy, typename Clipped, typename Gain>
double noise_variance(size_t n, Energy energy, Clipped clipped, Gain gain, bool clipped_data) {
  size_t few_clipped = 0;
  for (size_t i = 0; i < n; ++i) few_clipped += clipped(i) <= kMaxClippedShare;
  const float limit = few_clipped >= std::max(kMinUsable, size_t(kMinUsableShare * double(n)))
                          ? kMaxClippedShare
                          : kMaxClippedShareAll;
  auto usable = [&](size_t i) { return clipped(i) <= limit; };
  std::vector<float> energies;
  energies.reserve(n);
  for (size_t i = 0; i < n; ++i)
    if (!clipped_data || usable(i)) energies.push_back(energy(i));
  if (energies.empty()) return -1;
  double variance = low_variance(energies);
  if (!clipped_data) return variance;
  double table[256];
  for (int round = 0; round < 4; ++round) {
    clipped_gain(std::sqrt(variance), table);
    energies.clear();
    bool corrected = false;
    for (size_t i = 0; i < n; ++i) {
      if (!usable(i)) continue;
      const double g = gain(i, table);
      corrected |= g != 1.0;
      if (g >= kMinGain) energies.push_back(float(energy(i) / g));
    }
    if (!corrected || energies.empty()) break;  // no block near the ends: nothing changes
    const double next = low_variance(energies);
    const bool converged = std::abs(next - variance) <= 4e-3 * variance;  // sigma to 0.2%
    variance = next;
    if (converged) break;
  }
  return variance;
}

double channel_variance(const std::vector<Block> &blocks, bool clipped_data) {
  return noise_variance(
      blocks.size(), [&](size_t i) { return blocks[i].energy; },
      [&](size_t i) { return blocks[i].clipped; },
      [&](size_t i, const double *table) { return gain_at(table, blocks[i].mean); }, clipped_data);
}

// The chroma's noise variance (the mean of its two channels'), or -1. Each chroma channel is a
// sum of R, G and B: clipping leaves it the same sum of what it leaves of theirs.
double chroma_variance(const std::vector<ColourBlock> &blocks, bool clipped_data) {
  double sum = 0;
  for (int k = 0; k < 2; ++k) {
    const double v = noise_variance(
        blocks.size(), [&](size_t i) { return blocks[i].chroma[k]; },
        [&](size_t i) { return blocks[i].clipped; },
        [&](size_t i, const double *table) {
          const float *m = blocks[i].mean;
          const double r = gain_at(table, m[0]), g = gain_at(table, m[1]);
          return k == 0 ? (r + g) / 2 : (r + g + 4 * gain_at(table, m[2])) / 6;
        },
        clipped_data);
    if (v < 0) return -1;
    sum += v;
  }
  return sum / 2;
}

// The luma's noise variance (at unit gain), or -1; clipping as for the chroma.
double luma_variance(const std::vector<ColourBlock> &blocks, bool clipped_data) {
  return noise_variance(
      blocks.size(), [&](size_t i) { return blocks[i].luma; },
      [&](size_t i) { return blocks[i].clipped; },
      [&](size_t i, const double *table) {
        double g = 0;
        for (int c = 0; c < 3; ++c) g += kLuma[c] * kLuma[c] * gain_at(table, blocks[i].mean[c]);
        return g / kLumaGain;
      },
      clipped_data);
}

// Calls fn(T(), scale) with the sample type of `pixel_type` and the factor that takes its values
// to 8-bit levels.
template <typename Fn>
void with_samples(int32_t pixel_type, Fn fn) {
  switch (pixel_type) {
    case XUNIT_PIXEL_U8:
      return fn(uint8_t(), 1.f);
    case XUNIT_PIXEL_U16:
      return fn(uint16_t(), 255.f / 65535.f);
    default:
      return fn(float(), 255.f);
  }
}

// The noise variance of the luma binned 2x2 (in levels^2 at the binned scale; -1 when too small
// to measure): the coarser scale of the texture guard for subsampled files (see the top of this
// file). Measured as a gray image one strip of blocks at a time (kBlock binned rows and the
// band's border, from 2 * (kBlock + 2) source rows), on the lattice measure() would use, so that
// memory stays a few hundred KB whatever the size.
template <typename T>
double binned_luma_variance(const xunit_image &img, float scale, bool clipped_data) {
  const int bw = img.width / 2, bh = img.height / 2;
  if (bw < kBlock + 2 || bh < kBlock + 2) return -1;
  const size_t nbx = size_t(bw - 2) / kBlock, nby = size_t(bh - 2) / kBlock;
  size_t step = 1;
  while (((nbx + step - 1) / step) * ((nby + step - 1) / step) > kMaxBlocks) ++step;
  const size_t C = size_t(img.channels), rows = kBlock + 2;
  // The binned luma, and whether any of the 12 samples a binned pixel comes from is at an end:
  // a saturated colour has an unclipped luma (pure red: 76) but none of its noise left.
  std::vector<float> strip(size_t(bw) * rows), at_end(size_t(bw) * rows);
  std::vector<Block> blocks;
  const auto *base = static_cast<const unsigned char *>(img.data);
  for (size_t by = 0; by < nby; by += step) {
    for (size_t r = 0; r < rows; ++r) {
      const size_t y = 2 * (by * kBlock + r);
      const T *a = reinterpret_cast<const T *>(base + y * img.row_stride);
      const T *b = reinterpret_cast<const T *>(base + (y + 1) * img.row_stride);
      float *out = &strip[r * size_t(bw)], *end = &at_end[r * size_t(bw)];
      for (size_t x = 0; x < size_t(bw); ++x) {
        float v = 0.f;
        bool clipped = false;
        for (size_t c = 0; c < 3; ++c) {
          const float s[4] = {
              float(a[2 * x * C + c]) * scale, float(a[(2 * x + 1) * C + c]) * scale,
              float(b[2 * x * C + c]) * scale, float(b[(2 * x + 1) * C + c]) * scale};
          for (float e : s) clipped |= e <= kLowEnd || e >= kHighEnd;
          v += kLuma[c] * (s[0] + s[1] + s[2] + s[3]);
        }
        out[x] = v * 0.25f;
        end[x] = clipped ? 1.f : 0.f;
      }
    }
    const xunit_image view{bw,          int(rows), 1, XUNIT_PIXEL_F32, size_t(bw) * sizeof(float),
                           strip.data()};
    Measured part;
    measure<float>(view, 1, 1.f, &part);
    // measure()'s blocks of this strip: kBlock x kBlock band samples each, the band starting one
    // pixel in; their clipped share taken again from R, G and B.
    std::vector<Block> &row = part.channels[0];
    for (size_t i = 0; i < row.size(); i += step) {
      float n = 0.f;
      for (size_t r = 1; r <= size_t(kBlock); ++r)
        for (size_t x = 1 + i * kBlock; x <= (i + 1) * kBlock; ++x) n += at_end[r * size_t(bw) + x];
      row[i].clipped = n / float(kBlock * kBlock);
      blocks.push_back(row[i]);
    }
  }
  return blocks.empty() ? -1 : channel_variance(blocks, clipped_data);
}

}  // namespace

float estimate_noise_level(const xunit_image &image, bool chroma_subsampled) {
  if (image.width < 3 || image.height < 3) return 0.f;  // no pixel has the band's neighbours
  const int colour =
      image.channels == 2 || image.channels == 4 ? image.channels - 1 : image.channels;
  Measured m;
  with_samples(image.pixel_type, [&](auto sample, float scale) {
    measure<decltype(sample)>(image, colour, scale, &m);
  });
  std::vector<double> variances;  // of the channels, before any floor
  for (const std::vector<Block> &blocks : m.channels) {
    const double v = channel_variance(blocks, m.clipped_data);
    if (v >= 0) variances.push_back(v);
  }
  if (variances.empty()) return 0.f;
  std::sort(variances.begin(), variances.end());
  const size_t n = variances.size();
  const double channels =
      n % 2 ? variances[n / 2] : 0.5 * (variances[n / 2 - 1] + variances[n / 2]);
  double level = channels - kFloor;  // level^2
  double chroma_energy = 0;
  for (const ColourBlock &b : m.colour) chroma_energy += 0.5 * (b.chroma[0] + b.chroma[1]);
  const bool colour_content =
      !m.colour.empty() && chroma_energy >= kGrayChroma * double(m.colour.size());
  // The texture guard (see the top of this file). No chroma (gray content): the channels'.
  const double chroma = colour_content ? chroma_variance(m.colour, m.clipped_data) : -1;
  if (chroma >= 0)
    // The chroma's level, or the channels' less the texture it may hold when that is more;
    // never above the channels' (a colourful fine pattern is in the chroma too).
    level = std::min(channels - kRounding,
                     std::max(chroma - kRounding, channels - kFloor - kTexture * kTexture));
  const float plain = float(std::sqrt(std::max(0.0, level)));
  if (colour_content && chroma_subsampled) {
    // The file kept the noise's luma share only (see the top of this file): the luma's level
    // (its floor the channels' seen through it), less what the coarser scale shows to be
    // texture. In levels^2 of the luma itself (0.299 R + 0.587 G + 0.114 B).
    const double luma = luma_variance(m.colour, m.clipped_data);
    if (luma < 0) return plain;
    const double fine = luma * kLumaGain - kFloor;
    double coarse = -1;
    with_samples(image.pixel_type, [&](auto sample, float scale) {
      coarse = binned_luma_variance<decltype(sample)>(image, scale, m.clipped_data);
    });
    // The binned band at the fine scale's gain for white noise (x4); the floor is a quarter of
    // itself there (white), so kFloor once scaled. (The clipping gain of a binned block is taken
    // as if its luma were one channel: only blocks with little clipping are used.)
    const double told =
        coarse < 0
            ? fine
            : std::min(fine, (kTextureRatio * fine - (4 * coarse - kFloor)) / (kTextureRatio - 1));
    // Never below the plain reading, which holds for any file (what JPEG left of low noise can
    // look like texture to the second scale: kodim20 at quality 90, sigma 15, read 0 by it).
    return std::max(plain, float(std::sqrt(std::max(0.0, told) / kLumaGain)));
  }
  return plain;
}

}  // namespace xunit
