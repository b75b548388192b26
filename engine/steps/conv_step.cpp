// StepKind::Conv: a dense or grouped conv through oneDNN (engine/dnnl_conv.h) with its fused
// post-ops. Its source is a window of rows + 2r rows: written in place by the producer (a
// Window value), or assembled here from the rows a Ring holds.
#include "common/error.h"
#include "engine/dnnl_conv.h"
#include "engine/steps/conv_border.h"
#include "engine/steps/step_program.h"

namespace xunit {

namespace {

class ConvProgram : public StepProgram {
 public:
  explicit ConvProgram(const StepCompile &c)
      : step_(c.step),
        graph_(c.graph),
        window_input_(c.plan.values[size_t(c.step.inputs[0])].storage == Storage::Window),
        src_block_(conv_source_block(c.graph.values[size_t(c.step.inputs[0])].channels,
                                     c.plan.simd_block)),
        conv_(c.graph, c.step, src_block_, c.plan.values[size_t(c.step.output)].block,
              ConvAlgorithm(c.conv_algorithm), output_order(c.step)) {}

  size_t pass_scratch_bytes(int rows, int width) const override {
    if (window_input_) return 0;
    return RowStore::rows_bytes(source_layout(width), rows + 2 * step_.radius);
  }
  size_t shared_scratch_bytes(int rows, int width) const override {
    return conv_.scratch_bytes(rows, width * scale());
  }
  std::string implementation(int rows, int width) const override {
    return conv_.implementation(rows, width * scale());
  }

  void run(const StepIo &io) const override {
    const RowRange window{io.rows.lo - step_.radius, io.rows.hi + step_.radius};
    const Parts &parts = io.inputs[0];
    const void *src;
    RowStore assembled;
    if (window_input_) {
      src = parts[0].store->dense();  // the producer wrote the window in place
    } else {
      assembled.init_dense(source_layout(io.out.layout().width / scale()), parts[0].store->height(),
                           io.scratch);
      assembled.set_dense_rows(window);
      copy_rows(io.ctx, parts, assembled, window);
      src = assembled.dense();
    }
    if (io.sum) copy_rows(io.ctx, *io.sum, io.out, io.rows);  // oneDNN's Sum adds to dst
    conv_.execute(io.rows.size(), io.out.layout().width, src, static_cast<float *>(io.out.dense()),
                  {io.shared.data, io.shared.bytes});
    if (step_.op->type == OpType::BorderConv2d)  // planned alone: nothing fused after the conv
      add_border_taps(graph_, *step_.op, window_input_ ? *parts[0].store : assembled, io.out,
                      io.rows, io.ctx.threads);
  }

 private:
  int scale() const { return graph_.values[size_t(step_.output)].scale; }
  RowLayout source_layout(int width) const {
    const Value &in = graph_.values[size_t(step_.inputs[0])];
    return {in.channels, src_block_, width * in.scale, step_.bf16 ? 2 : 4};
  }
  // Result channel i = op channel order[i]: sub-pixel-major for a following pixel shuffle.
  static std::vector<int> output_order(const Step &s) {
    std::vector<int> order;
    if (const int f = s.subpixel_factor) {
      const int c = s.op->out_channels / (f * f);
      for (int sub = 0; sub < f * f; ++sub)
        for (int ch = 0; ch < c; ++ch) order.push_back(ch * f * f + sub);
    }
    return order;
  }

  const Step &step_;
  const Graph &graph_;
  bool window_input_;
  int src_block_;
  DnnlConv conv_;
};

}  // namespace

std::unique_ptr<StepProgram> compile_conv_step(const StepCompile &c) {
  return std::make_unique<ConvProgram>(c);
}

}  // namespace xunit
