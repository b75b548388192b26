// StepKind::ConvTranspose: a transposed conv that upsamples by its stride (FSRCNN's last layer),
// through oneDNN's deconvolution. Output rows [lo, hi) read input rows [a, b) (the op's
// footprint); those are copied into a window (zero rows outside the image) and the primitive's
// top and bottom padding crop its full output to exactly [lo, hi): top = lo + p - a * s,
// bottom = (b - 1) * s - p + k - hi, both >= k - s - p >= 0 (checked by the graph). Columns:
// the whole stripe, padding p on the left and p - output_padding on the right.
#include <omp.h>

#include <array>
#include <map>
#include <mutex>

#include "common/error.h"
#include "engine/dnnl_context.h"
#include "engine/ops/footprint.h"
#include "engine/steps/step_program.h"

namespace xunit {

namespace {

using dt = dnnl::memory::data_type;

class ConvTransposeProgram : public StepProgram {
 public:
  explicit ConvTransposeProgram(const StepCompile &c)
      : op_(*c.step.op),
        graph_(c.graph),
        src_block_(conv_source_block(op_.in_channels, c.plan.simd_block)),
        dst_block_(c.plan.values[size_t(c.step.output)].block) {
    const float *b = op_.bias >= 0 ? c.graph.tensor(op_.bias).data : nullptr;
    bias_.assign(size_t(op_.out_channels), 0.f);
    if (b) std::copy(b, b + op_.out_channels, bias_.begin());
  }

  size_t pass_scratch_bytes(int rows, int width) const override {
    return RowStore::rows_bytes(source_layout(width), max_window(rows));
  }

  void run(const StepIo &io) const override {
    const int s = op_.factor, k = op_.kernel, p = op_.padding;
    const Parts &parts = io.inputs[0];
    const RowRange window = op_source_rows(op_, io.rows, parts[0].store->height());
    XUNIT_CHECK(window.size() <= max_window(io.rows.size()),
                "internal error: transposed conv window larger than its scratch");
    RowStore src;
    src.init_dense(source_layout(io.out.layout().width / s), parts[0].store->height(), io.scratch);
    src.set_dense_rows(window);
    copy_rows(io.ctx, parts, src, window);
    const int top = io.rows.lo + p - window.lo * s;
    const int bottom = (window.hi - 1) * s - p + k - io.rows.hi;
    const Instance &inst = instance(window.size(), io.out.layout().width / s, top, bottom);
    dnnl::engine &eng = dnnl_cpu_engine();
    dnnl::memory src_mem(inst.src_md, eng, src.dense());
    dnnl::memory dst_mem(inst.dst_md, eng, io.out.dense());
    dnnl::stream &stream = dnnl_thread_stream();
    inst.primitive.execute(stream, {{DNNL_ARG_SRC, src_mem},
                                    {DNNL_ARG_WEIGHTS, inst.weights},
                                    {DNNL_ARG_BIAS, inst.bias},
                                    {DNNL_ARG_DST, dst_mem}});
    stream.wait();
  }

 private:
  struct Instance {
    dnnl::deconvolution_forward primitive;
    dnnl::memory::desc src_md, dst_md;
    dnnl::memory weights, bias;
  };

  // Input rows a pass of `rows` output rows reads, at most.
  int max_window(int rows) const { return (rows + op_.kernel) / op_.factor + 2; }
  RowLayout source_layout(int width) const {
    const Value &in = graph_.values[size_t(op_.inputs[0])];
    return {in.channels, src_block_, width * in.scale, 4};
  }

  // One primitive per (input rows, input width, crop, threads), made on first use.
  const Instance &instance(int in_rows, int width, int top, int bottom) const {
    const std::array<int, 5> key = {in_rows, width, top, bottom, omp_threads()};
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    const int s = op_.factor, k = op_.kernel, p = op_.padding;
    const int ic = op_.in_channels, oc = op_.out_channels;
    const int output_padding = s - k + 2 * p;
    Instance inst;
    inst.src_md = dnnl::memory::desc({1, ic, in_rows, width}, dt::f32, dnnl_layout(src_block_));
    const int out_rows = (in_rows - 1) * s - top - bottom + k;
    inst.dst_md =
        dnnl::memory::desc({1, oc, out_rows, width * s}, dt::f32, dnnl_layout(dst_block_));
    dnnl::memory::desc wany({oc, ic, k, k}, dt::f32, dnnl::memory::format_tag::any);
    dnnl::memory::desc bias_md({oc}, dt::f32, dnnl::memory::format_tag::x);
    dnnl::deconvolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct, inst.src_md,
        wany, bias_md, inst.dst_md, {s, s}, {top, p}, {bottom, p - output_padding});
    dnnl::deconvolution_forward::primitive_desc pd(desc, dnnl_cpu_engine());
    inst.primitive = dnnl::deconvolution_forward(pd);
    // PyTorch's weight [in, out, k, k] is oneDNN's iohw.
    dnnl::memory user({{oc, ic, k, k}, dt::f32, dnnl::memory::format_tag::iohw}, dnnl_cpu_engine(),
                      const_cast<float *>(graph_.tensor(op_.weight).data));
    inst.weights = dnnl::memory(pd.weights_desc(), dnnl_cpu_engine());
    dnnl::stream stream(dnnl_cpu_engine());
    dnnl::reorder(user, inst.weights).execute(stream, user, inst.weights);
    stream.wait();
    inst.bias = dnnl::memory(bias_md, dnnl_cpu_engine(), const_cast<float *>(bias_.data()));
    return cache_.emplace(key, std::move(inst)).first->second;
  }
  // oneDNN splits the work for the OpenMP thread count current when a primitive is made.
  static int omp_threads() { return omp_get_max_threads(); }

  const Op &op_;
  const Graph &graph_;
  int src_block_, dst_block_;
  std::vector<float> bias_;
  mutable std::mutex mutex_;
  mutable std::map<std::array<int, 5>, Instance> cache_;
};

}  // namespace

std::unique_ptr<StepProgram> compile_conv_transpose_step(const StepCompile &c) {
  return std::make_unique<ConvTransposeProgram>(c);
}

}  // namespace xunit
