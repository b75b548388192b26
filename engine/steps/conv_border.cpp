#include "engine/steps/conv_border.h"

namespace xunit {

void add_border_taps(const Graph &g, const Op &op, const RowStore &src, RowStore &out,
                     RowRange rows, int threads) {
  const int k = op.kernel, d = op.dilation, pad = d * (k / 2);
  if (pad == 0) return;
  const RowLayout &ls = src.layout(), &lo = out.layout();
  const int H = src.height(), W = lo.width;
  const int icg = op.in_channels / op.groups, ocg = op.out_channels / op.groups;
  const float *w = g.tensor(op.weight).data;
  auto in = [&](int c, int y, int x) {
    return src.row(c / ls.block, y)[size_t(x) * ls.block + c % ls.block];
  };
#pragma omp parallel for num_threads(threads) if (threads > 1 && rows.size() > 1)
  for (int r = rows.lo; r < rows.hi; ++r) {
    const bool border_row = r < pad || r >= H - pad;
    for (int x = 0; x < W; ++x) {
      if (!border_row && x == pad && W - pad > pad) x = W - pad;  // skip the inner columns
      for (int o = 0; o < op.out_channels; ++o) {
        const int group = o / ocg;
        double acc = 0;
        for (int ky = 0; ky < k; ++ky) {
          const int sy = r + d * ky - pad;
          const bool inside_y = sy >= 0 && sy < H;
          const int my = border_source(op.border, sy, H);
          for (int kx = 0; kx < k; ++kx) {
            const int sx = x + d * kx - pad;
            if (inside_y && sx >= 0 && sx < W) continue;  // oneDNN took this tap
            const int mx = border_source(op.border, sx, W);
            for (int i = 0; i < icg; ++i)
              acc += double(w[((size_t(o) * icg + i) * k + ky) * k + kx]) *
                     in(group * icg + i, my, mx);
          }
        }
        out.row(o / lo.block, r)[size_t(x) * lo.block + o % lo.block] += float(acc);
      }
    }
  }
}

}  // namespace xunit
