#include "converter/onnx/layout_probe.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "common/error.h"

namespace xunit::convert::onnx_import {

namespace {

// Probe tensors are small by construction (a few channels of a 24x48 image); this bounds
// what a crafted chain (an Expand-like Reshape of shape values, a huge Concat) can build.
constexpr int64_t kMaxProbeElements = int64_t(1) << 23;

int64_t element_count(const std::vector<int64_t> &dims, const std::string &where) {
  // No empty dimension beyond a 1-D list (an empty list of sizes is one): with one, the other
  // dimensions would be unbounded, and so would the strides computed from them.
  XUNIT_CHECK(dims.size() <= 8, where + "a tensor of more than 8 dimensions");
  int64_t n = 1;
  for (int64_t d : dims) {
    XUNIT_CHECK((d >= 1 || (d == 0 && dims.size() == 1)) &&
                    n <= kMaxProbeElements / std::max<int64_t>(d, 1),
                where + "a tensor of this shape is beyond what a layout change can hold");
    n *= d;
  }
  return n;
}

int64_t normalize_axis(int64_t axis, size_t rank, const std::string &where) {
  const int64_t r = int64_t(rank);
  XUNIT_CHECK(axis >= -r && axis < r, where + "axis " + std::to_string(axis) + " out of range");
  return axis < 0 ? axis + r : axis;
}

std::vector<int64_t> ints_of(const ProbeTensor *t, const std::string &what,
                             const std::string &where) {
  XUNIT_CHECK(t != nullptr, where + "its " + what + " input is missing");
  XUNIT_CHECK(t->dims.size() <= 1, where + "its " + what + " must be a list of integers");
  return t->values;
}

// The axes of Unsqueeze/Squeeze: an input from opset 13, an attribute before.
std::vector<int64_t> axes_of(Attributes &a, const std::vector<const ProbeTensor *> &in,
                             int64_t opset, const std::string &where) {
  if (opset < 13) return a.get_ints("axes", {});
  return in.size() > 1 && in[1] ? ints_of(in[1], "axes", where) : std::vector<int64_t>{};
}

ProbeTensor transpose(const ProbeTensor &x, const std::vector<int64_t> &perm,
                      const std::string &where) {
  const size_t n = x.dims.size();
  std::vector<int64_t> p = perm;
  if (p.empty()) {  // the default: reverse the axes
    p.resize(n);
    std::iota(p.rbegin(), p.rend(), 0);
  }
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> want(n);
  std::iota(want.begin(), want.end(), 0);
  XUNIT_CHECK(sorted == want, where + "perm is not a permutation of the axes");
  ProbeTensor y;
  for (int64_t axis : p) y.dims.push_back(x.dims[size_t(axis)]);
  std::vector<int64_t> in_stride(n, 1);
  for (size_t k = n; k-- > 1;) in_stride[k - 1] = in_stride[k] * x.dims[k];
  y.values.resize(x.values.size());
  std::vector<int64_t> index(n, 0);  // over y's dims
  for (size_t i = 0; i < y.values.size(); ++i) {
    int64_t src = 0;
    for (size_t k = 0; k < n; ++k) src += index[k] * in_stride[size_t(p[k])];
    y.values[i] = x.values[size_t(src)];
    for (size_t k = n; k-- > 0;) {
      if (++index[k] < y.dims[k]) break;
      index[k] = 0;
    }
  }
  return y;
}

std::vector<int64_t> reshape_dims(const std::vector<int64_t> &in_dims, std::vector<int64_t> shape,
                                  bool allow_zero, const std::string &where) {
  const int64_t total = element_count(in_dims, where);
  int64_t known = 1, infer = -1;
  for (size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] == 0 && !allow_zero) {
      XUNIT_CHECK(k < in_dims.size(), where + "shape copies a dimension the input lacks");
      shape[k] = in_dims[k];
    }
    if (shape[k] == -1) {
      XUNIT_CHECK(infer < 0, where + "shape has more than one -1");
      infer = int64_t(k);
      continue;
    }
    XUNIT_CHECK(shape[k] >= 0, where + "shape has a negative dimension");
    XUNIT_CHECK(shape[k] <= kMaxProbeElements / known, where + "shape is too large");
    known *= std::max<int64_t>(shape[k], 1);
  }
  if (infer >= 0) {
    XUNIT_CHECK(known > 0 && total % known == 0, where + "shape does not divide the tensor's " +
                                                     std::to_string(total) + " elements");
    shape[size_t(infer)] = total / known;
  }
  XUNIT_CHECK(element_count(shape, where) == total,
              where + "shape does not keep the tensor's " + std::to_string(total) + " elements");
  return shape;
}

int64_t arithmetic(const std::string &type, int64_t a, int64_t b, const std::string &where) {
  int64_t y = 0;
  bool overflow = false;
  if (type == "Add") {
    overflow = __builtin_add_overflow(a, b, &y);
  } else if (type == "Sub") {
    overflow = __builtin_sub_overflow(a, b, &y);
  } else if (type == "Mul") {
    overflow = __builtin_mul_overflow(a, b, &y);
  } else {
    XUNIT_CHECK(b != 0, where + "division by zero");
    overflow = a == std::numeric_limits<int64_t>::min() && b == -1;
    y = overflow ? 0 : a / b;  // ONNX integer division (shape values are non-negative)
  }
  XUNIT_CHECK(!overflow, where + "integer overflow in a size computation");
  return y;
}

// ONNX Slice: starts, ends, axes, steps as inputs (opset 10+) or attributes (before).
ProbeTensor slice(const ProbeTensor &x, Attributes &a, const std::vector<const ProbeTensor *> &in,
                  int64_t opset, const std::string &where) {
  std::vector<int64_t> starts, ends, axes, steps;
  if (opset < 10) {
    starts = a.get_ints("starts", {});
    ends = a.get_ints("ends", {});
    axes = a.get_ints("axes", {});
  } else {
    starts = ints_of(in.size() > 1 ? in[1] : nullptr, "starts", where);
    ends = ints_of(in.size() > 2 ? in[2] : nullptr, "ends", where);
    if (in.size() > 3 && in[3]) axes = ints_of(in[3], "axes", where);
    if (in.size() > 4 && in[4]) steps = ints_of(in[4], "steps", where);
  }
  const size_t rank = x.dims.size();
  if (axes.empty())
    for (size_t k = 0; k < starts.size(); ++k) axes.push_back(int64_t(k));
  if (steps.empty()) steps.assign(starts.size(), 1);
  XUNIT_CHECK(
      ends.size() == starts.size() && axes.size() == starts.size() && steps.size() == starts.size(),
      where + "starts, ends, axes and steps differ in length");
  std::vector<int64_t> first(rank, 0), step(rank, 1), count(x.dims);
  for (size_t i = 0; i < starts.size(); ++i) {
    const size_t k = size_t(normalize_axis(axes[i], rank, where));
    const int64_t n = x.dims[k];
    XUNIT_CHECK(steps[i] != 0, where + "a step of 0");
    // A step beyond the axis takes at most one element: clamped, the counts cannot overflow.
    const int64_t st = std::clamp(steps[i], -n - 1, n + 1);
    // The ONNX rules: negative indices count from the end, then clamp to the axis (a
    // backward slice may end at -1, before element 0).
    int64_t b = starts[i] < 0 ? starts[i] + n : starts[i];
    int64_t e = ends[i] < 0 ? ends[i] + n : ends[i];
    if (st > 0) {
      b = std::clamp(b, int64_t(0), n);
      e = std::clamp(e, int64_t(0), n);
    } else {
      b = std::clamp(b, int64_t(0), n - 1);
      e = std::clamp(e, int64_t(-1), n - 1);
    }
    first[k] = b;
    step[k] = st;
    count[k] = st > 0 ? std::max<int64_t>(0, (e - b + st - 1) / st)
                      : std::max<int64_t>(0, (b - e - st - 1) / -st);
  }
  ProbeTensor y;
  y.dims = count;
  const int64_t total = element_count(count, where);
  std::vector<int64_t> in_stride(rank, 1);
  for (size_t k = rank; k-- > 1;) in_stride[k - 1] = in_stride[k] * x.dims[k];
  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < total; ++i) {
    int64_t src = 0;
    for (size_t k = 0; k < rank; ++k) src += (first[k] + index[k] * step[k]) * in_stride[k];
    y.values.push_back(x.values[size_t(src)]);
    for (size_t k = rank; k-- > 0;) {
      if (++index[k] < count[k]) break;
      index[k] = 0;
    }
  }
  return y;
}

}  // namespace

bool is_layout_node(const std::string &t) {
  return t == "Reshape" || t == "Transpose" || t == "Unsqueeze" || t == "Squeeze" || t == "Flatten";
}

bool is_shape_node(const std::string &t) {
  return t == "Shape" || t == "Gather" || t == "Cast" || t == "Concat" || t == "Add" ||
         t == "Sub" || t == "Mul" || t == "Div" || t == "Identity" || t == "Floor" ||
         t == "Slice" || t == "ConstantOfShape";
}

bool probe_from_constant(const Constant &c, ProbeTensor *out) {
  out->dims = c.dims;
  out->values.clear();
  for (float v : c.values) {
    if (!(v == std::floor(v))) return false;  // also NaN
    out->values.push_back(v >= 9.2e18f    ? std::numeric_limits<int64_t>::max()
                          : v <= -9.2e18f ? std::numeric_limits<int64_t>::min() + 1
                                          : int64_t(v));
  }
  return true;
}

ProbeTensor probe_image(int64_t channels, int64_t height, int64_t width) {
  XUNIT_CHECK(channels * height * width <= kMaxProbeElements,
              "a layout change of an image of " + std::to_string(channels) +
                  " channels is beyond what the importer follows");
  ProbeTensor t;
  t.dims = {1, channels, height, width};
  t.values.resize(size_t(channels * height * width));
  std::iota(t.values.begin(), t.values.end(), 0);
  return t;
}

ProbeTensor run_probe_node(const onnx::NodeProto &node, const std::vector<const ProbeTensor *> &in,
                           int64_t opset) {
  const std::string where = node_label(node);
  const std::string &type = node.op_type();
  Attributes a(node, where);
  if (type == "ConstantOfShape") {  // (how PyTorch builds the pads of F.pad)
    XUNIT_CHECK(in.size() == 1 && in[0] && in[0]->dims.size() <= 1,
                where + "its shape input is missing");
    ProbeTensor y;
    y.dims = ints_of(in[0], "shape", where);
    int64_t fill = 0;
    if (const onnx::TensorProto *t = a.get_tensor("value")) {
      ProbeTensor v;
      XUNIT_CHECK(probe_from_constant(read_tensor(*t, where), &v) && v.values.size() == 1 &&
                      v.values[0] >= -kMaxProbeElements && v.values[0] <= kMaxProbeElements,
                  where + "only small integer fills are supported");
      fill = v.values[0];
    }
    y.values.assign(size_t(element_count(y.dims, where)), fill);
    a.expect_all_read();
    return y;
  }
  XUNIT_CHECK(!in.empty() && in[0] != nullptr, where + "its first input is missing");
  for (const ProbeTensor *t : in)  // constants come with any dims: bounded like the rest
    XUNIT_CHECK(
        !t || (t->dims.empty() ? t->values.size() == 1
                               : element_count(t->dims, where) == int64_t(t->values.size())),
        where + "an input's shape and size disagree");
  const ProbeTensor &x = *in[0];
  ProbeTensor y;
  if (type == "Shape") {
    const int64_t rank = int64_t(x.dims.size());
    int64_t start = a.get_int("start", 0), end = a.get_int("end", rank);
    start = std::clamp(start < 0 ? start + rank : start, int64_t(0), rank);
    end = std::clamp(end < 0 ? end + rank : end, int64_t(0), rank);
    y.values.assign(x.dims.begin() + start, x.dims.begin() + std::max(start, end));
    y.dims = {int64_t(y.values.size())};
  } else if (type == "Gather") {
    XUNIT_CHECK(x.dims.size() == 1 && normalize_axis(a.get_int("axis", 0), 1, where) == 0,
                where + "gathering from anything but a list of sizes is not supported");
    XUNIT_CHECK(in.size() == 2 && in[1], where + "its indices are missing");
    y.dims = in[1]->dims;
    for (int64_t i : in[1]->values) {
      const int64_t n = int64_t(x.values.size());
      XUNIT_CHECK(i >= -n && i < n, where + "index " + std::to_string(i) + " out of range");
      y.values.push_back(x.values[size_t(i < 0 ? i + n : i)]);
    }
  } else if (type == "Cast" || type == "Identity" || type == "Floor") {
    a.get_int("to", 0);  // shape values are integers in any type
    a.get_int("saturate", 1);
    y = x;
  } else if (type == "Add" || type == "Sub" || type == "Mul" || type == "Div") {
    XUNIT_CHECK(in.size() == 2 && in[1], where + "an operand is missing");
    const ProbeTensor &b = *in[1];
    XUNIT_CHECK(
        x.dims.size() <= 1 && b.dims.size() <= 1 &&
            (x.values.size() == b.values.size() || x.values.size() == 1 || b.values.size() == 1),
        where + "arithmetic on image tensors inside a layout change is not supported");
    y = x.values.size() >= b.values.size() ? x : b;
    for (size_t i = 0; i < y.values.size(); ++i)
      y.values[i] = arithmetic(type, x.values[x.values.size() == 1 ? 0 : i],
                               b.values[b.values.size() == 1 ? 0 : i], where);
  } else if (type == "Concat") {
    for (const ProbeTensor *t : in)
      XUNIT_CHECK(t && t->dims.size() <= 1,
                  where +
                      "concatenating anything but lists of sizes inside a layout change is "
                      "not supported");
    a.get_int("axis", 0);
    size_t total = 0;  // checked before anything is copied
    for (const ProbeTensor *t : in) total += t->values.size();
    XUNIT_CHECK(total <= 64, where + "too many sizes");
    for (const ProbeTensor *t : in)
      y.values.insert(y.values.end(), t->values.begin(), t->values.end());
    y.dims = {int64_t(y.values.size())};
  } else if (type == "Reshape") {
    XUNIT_CHECK(in.size() == 2, where + "its shape input is missing");
    y.dims =
        reshape_dims(x.dims, ints_of(in[1], "shape", where), a.get_int("allowzero", 0) != 0, where);
    y.values = x.values;
  } else if (type == "Flatten") {
    const int64_t axis = a.get_int("axis", 1);
    const int64_t rank = int64_t(x.dims.size());
    XUNIT_CHECK(axis >= -rank && axis <= rank, where + "axis out of range");
    const int64_t at = axis < 0 ? axis + rank : axis;
    int64_t outer = 1, inner = 1;
    for (int64_t k = 0; k < rank; ++k) (k < at ? outer : inner) *= x.dims[size_t(k)];
    y.dims = {outer, inner};
    y.values = x.values;
  } else if (type == "Slice") {
    y = slice(x, a, in, opset, where);
  } else if (type == "Transpose") {
    y = transpose(x, a.get_ints("perm", {}), where);
  } else if (type == "Unsqueeze") {
    std::vector<int64_t> axes = axes_of(a, in, opset, where);
    const size_t rank = x.dims.size() + axes.size();
    for (int64_t &ax : axes) ax = normalize_axis(ax, rank, where);
    std::sort(axes.begin(), axes.end());
    XUNIT_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(),
                where + "repeated axes");
    y.dims = x.dims;
    for (int64_t ax : axes) y.dims.insert(y.dims.begin() + ax, 1);
    y.values = x.values;
  } else if (type == "Squeeze") {
    std::vector<int64_t> axes = axes_of(a, in, opset, where);
    std::vector<bool> drop(x.dims.size(), axes.empty());
    if (axes.empty())
      for (size_t k = 0; k < x.dims.size(); ++k) drop[k] = x.dims[k] == 1;
    for (int64_t ax : axes) {
      const int64_t k = normalize_axis(ax, x.dims.size(), where);
      XUNIT_CHECK(x.dims[size_t(k)] == 1, where + "squeezes an axis that is not 1");
      drop[size_t(k)] = true;
    }
    for (size_t k = 0; k < x.dims.size(); ++k)
      if (!drop[k]) y.dims.push_back(x.dims[k]);
    y.values = x.values;
  } else {
    throw Error(where + "op type '" + type + "' inside a layout change is not supported");
  }
  a.expect_all_read();
  XUNIT_CHECK(element_count(y.dims, where) == int64_t(y.values.size()) || y.dims.empty(),
              where + "internal error: probe shape and size disagree");
  return y;
}

LayoutMove classify_layout(const ProbeTensor &t, int64_t C, int64_t H, int64_t W) {
  LayoutMove m;
  if (t.dims.size() != 4 || t.dims[0] != 1) return m;
  const int64_t oc = t.dims[1], oh = t.dims[2], ow = t.dims[3];
  // Where output element (c, y, x) must come from, for each candidate.
  auto matches = [&](auto source) {
    size_t i = 0;
    for (int64_t c = 0; c < oc; ++c)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x)
          if (t.values[i++] != source(c, y, x)) return false;
    return true;
  };
  auto at = [&](int64_t c, int64_t y, int64_t x) { return (c * H + y) * W + x; };
  if (oc == C && oh == H && ow == W) {
    if (matches(at)) m.kind = LayoutMove::Identity;
    return m;
  }
  if (oh > H && oh % H == 0) {  // upsampling: a pixel shuffle
    const int64_t r = oh / H;
    if (ow != W * r || oc * r * r != C) return m;
    m.factor = int(r);
    if (matches([&](int64_t c, int64_t y, int64_t x) {
          return at(c * r * r + (y % r) * r + x % r, y / r, x / r);
        }))
      m.kind = LayoutMove::PixelShuffle;
    else if (matches([&](int64_t c, int64_t y, int64_t x) {
               return at(((y % r) * r + x % r) * oc + c, y / r, x / r);
             }))
      m.kind = LayoutMove::PixelShuffleDcr;
    return m;
  }
  if (oh < H && oh > 0 && H % oh == 0) {  // downsampling: a pixel unshuffle
    const int64_t r = H / oh;
    if (ow * r != W || oc != C * r * r) return m;
    m.factor = int(r);
    if (matches([&](int64_t c, int64_t y, int64_t x) {
          const int64_t block = c % (r * r);
          return at(c / (r * r), y * r + block / r, x * r + block % r);
        }))
      m.kind = LayoutMove::PixelUnshuffle;
    else if (matches([&](int64_t c, int64_t y, int64_t x) {
               const int64_t block = c / C;
               return at(c % C, y * r + block / r, x * r + block % r);
             }))
      m.kind = LayoutMove::SpaceToDepth;
  }
  return m;
}

}  // namespace xunit::convert::onnx_import
