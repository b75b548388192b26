// Reading and writing the rows of RowStores (engine/row_store.h) from the steps: row pointers
// gathered before parallel loops, one channel of a blocked row, channels gathered from the parts
// of a virtual concat, copies between layouts. Shared by the step kinds of engine/steps/.
#pragma once
#include <vector>

#include "engine/row_store.h"

namespace xunit {

// Context shared by the steps of one pass: a row of zeros as wide as the widest row.
struct RowOpContext {
  const float *zero_row = nullptr;
  int threads = 1;
};

// Channels [offset, offset + store->layout().channels) of a value read from several stores (a
// virtual concat, engine/plan.h); a plain value is one part at offset 0.
struct ChannelPart {
  const RowStore *store = nullptr;
  int offset = 0;
};
using Parts = std::vector<ChannelPart>;

// Row pointers of rows [rows.lo, rows.hi) of every plane, gathered before any parallel loop
// (RowStore::row checks its arguments and may throw): index plane * rows.size() + i. Rows
// outside the store's image read `zero`.
std::vector<const float *> read_rows(const RowStore &s, RowRange rows, const float *zero);
std::vector<float *> write_rows(RowStore &s, RowRange rows);

// One row of channel c: element x is at[x * stride].
struct ChannelRow {
  const float *at;
  int stride;
};
ChannelRow channel(const std::vector<const float *> &rows, const RowLayout &l, int n, int c, int i);
struct ChannelRowOut {
  float *at;
  int stride;
};
ChannelRowOut channel(const std::vector<float *> &rows, const RowLayout &l, int n, int c, int i);

// Writes zeros into the padded lanes of output row i (channels beyond the last real one).
void zero_padding(const std::vector<float *> &rows, const RowLayout &l, int n, int i);
bool same_layout(const RowLayout &a, const RowLayout &b);

// Fills float row `d` (plane `plane` of layout lo, row i of the pass) from the parts: whole
// planes where a part is aligned, else channel by channel; zero padded lanes. src[k] are the
// rows of part k (read_rows).
void gather_plane_row(const Parts &in, const std::vector<std::vector<const float *>> &src,
                      const RowLayout &lo, int n, int plane, int i, float *d);

// Copies rows between layouts (zeros for rows outside the source image); the destination may
// hold bfloat16 (rounded to nearest even). The parts fill the destination's channels.
void copy_rows(const RowOpContext &ctx, const Parts &in, RowStore &out, RowRange rows);
inline void copy_rows(const RowOpContext &ctx, const RowStore &in, RowStore &out, RowRange rows) {
  copy_rows(ctx, Parts{{&in, 0}}, out, rows);
}

}  // namespace xunit
