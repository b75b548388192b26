#include "engine/steps/row_access.h"

#include <algorithm>
#include <cstring>

#include "kernels/convert/convert.h"

namespace xunit {

std::vector<const float *> read_rows(const RowStore &s, RowRange rows, const float *zero) {
  std::vector<const float *> p;
  p.reserve(size_t(s.layout().planes()) * size_t(rows.size()));
  for (int plane = 0; plane < s.layout().planes(); ++plane)
    for (int y = rows.lo; y < rows.hi; ++y)
      p.push_back(y < 0 || y >= s.height() ? zero : s.row(plane, y));
  return p;
}

std::vector<float *> write_rows(RowStore &s, RowRange rows) {
  std::vector<float *> p;
  p.reserve(size_t(s.layout().planes()) * size_t(rows.size()));
  for (int plane = 0; plane < s.layout().planes(); ++plane)
    for (int y = rows.lo; y < rows.hi; ++y) p.push_back(s.row(plane, y));
  return p;
}

ChannelRow channel(const std::vector<const float *> &rows, const RowLayout &l, int n, int c,
                   int i) {
  return {rows[size_t(c / l.block) * size_t(n) + size_t(i)] + c % l.block, l.block};
}
ChannelRowOut channel(const std::vector<float *> &rows, const RowLayout &l, int n, int c, int i) {
  return {rows[size_t(c / l.block) * size_t(n) + size_t(i)] + c % l.block, l.block};
}

void zero_padding(const std::vector<float *> &rows, const RowLayout &l, int n, int i) {
  const int real = l.channels - (l.planes() - 1) * l.block;
  if (real == l.block) return;
  float *row = rows[size_t(l.planes() - 1) * size_t(n) + size_t(i)];
  for (int x = 0; x < l.width; ++x)
    for (int lane = real; lane < l.block; ++lane) row[size_t(x) * l.block + lane] = 0.f;
}

bool same_layout(const RowLayout &a, const RowLayout &b) {
  return a.channels == b.channels && a.block == b.block && a.width == b.width;
}

namespace {

// Whether part `p` covers output plane `plane` lane for lane (same block, aligned offset), and
// which of its planes that is.
bool aligned_plane(const ChannelPart &p, const RowLayout &lo, int plane, int *part_plane) {
  const RowLayout &li = p.store->layout();
  if (li.block != lo.block || p.offset % lo.block != 0 || li.width != lo.width) return false;
  *part_plane = plane - p.offset / lo.block;
  return *part_plane >= 0 && *part_plane < li.planes();
}

}  // namespace

void gather_plane_row(const Parts &in, const std::vector<std::vector<const float *>> &src,
                      const RowLayout &lo, int n, int plane, int i, float *d) {
  const int B = lo.block, c_lo = plane * B, c_hi = std::min(lo.channels, c_lo + B);
  for (size_t k = 0; k < in.size(); ++k) {
    const ChannelPart &p = in[k];
    const RowLayout &li = p.store->layout();
    const int p_lo = std::max(c_lo, p.offset), p_hi = std::min(c_hi, p.offset + li.channels);
    if (p_lo >= p_hi) continue;
    int pp = 0;
    if (aligned_plane(p, lo, plane, &pp) && p_hi - c_lo == B) {
      std::memcpy(d, src[k][size_t(pp) * size_t(n) + size_t(i)], lo.row_elements() * sizeof(float));
      continue;
    }
    for (int c = p_lo; c < p_hi; ++c) {
      ChannelRow s = channel(src[k], li, n, c - p.offset, i);
      float *dc = d + (c - c_lo);
      for (int x = 0; x < lo.width; ++x) dc[size_t(x) * B] = s.at[x * s.stride];
    }
  }
  for (int x = 0; x < lo.width; ++x)
    for (int l = c_hi - c_lo; l < B; ++l) d[size_t(x) * B + l] = 0.f;
}

void copy_rows(const RowOpContext &ctx, const Parts &in, RowStore &out, RowRange rows) {
  const int n = rows.size();
  const RowLayout &lo = out.layout();
  std::vector<std::vector<const float *>> src;
  for (const ChannelPart &p : in) src.push_back(read_rows(*p.store, rows, ctx.zero_row));
  const bool whole = in.size() == 1 && same_layout(in[0].store->layout(), lo);
  const int jobs = lo.planes() * n;
  if (lo.element_bytes == 2) {  // float32 -> bfloat16 (the source of a bf16 conv)
    std::vector<uint16_t *> dst;
    for (int plane = 0; plane < lo.planes(); ++plane)
      for (int y = rows.lo; y < rows.hi; ++y)
        dst.push_back(static_cast<uint16_t *>(out.row_bytes(plane, y)));
    const kernels::F32ToBf16Fn convert = kernels::select_f32_to_bf16();
    if (whole) {
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && jobs > 8)
      for (int job = 0; job < jobs; ++job)
        convert(src[0][size_t(job)], dst[size_t(job)], lo.row_elements());
      return;
    }
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && jobs > 8)
    for (int job = 0; job < jobs; ++job) {  // regroup the channels in float32, then convert
      std::vector<float> row(lo.row_elements());
      gather_plane_row(in, src, lo, n, job / n, job % n, row.data());
      convert(row.data(), dst[size_t(job)], row.size());
    }
    return;
  }
  std::vector<float *> dst = write_rows(out, rows);
  if (whole) {
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && jobs > 8)
    for (int job = 0; job < jobs; ++job)
      std::memcpy(dst[size_t(job)], src[0][size_t(job)], lo.row_elements() * sizeof(float));
    return;
  }
#pragma omp parallel for num_threads(ctx.threads) if (ctx.threads > 1 && jobs > 8)
  for (int job = 0; job < jobs; ++job)
    gather_plane_row(in, src, lo, n, job / n, job % n, dst[size_t(job)]);
}

}  // namespace xunit
