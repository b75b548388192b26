// The planned oneDNN/kernels path against the scalar reference executor, and tiled against untiled.
#include <doctest/doctest.h>

#include "common/error.h"
#include "engine/stripe_executor.h"
#include "engine_harness.h"
#include "kernels/isa.h"
#include "models/synthetic/graph_factory.h"
#include "scoped_isa.h"

using namespace xunit;
using namespace xunit::testing;
using xunit::synthetic::GraphFactory;

// Every case here runs the engine (or its planner): all are re-run with the ISA forced down.
TEST_SUITE_BEGIN("engine");

TEST_CASE("engine matches the reference executor on xdncnn-shaped graphs") {
  GraphFactory f(1);
  for (int channels : {1, 3}) {
    Graph g = f.xdncnn(channels, 16, 2);
    LoadedModel m = load_graph(g);
    HwcImage in = random_image(23, 17, channels, 7);
    HwcImage want = run_oracle(m.model->graph(), in);
    for (int tile : {0, 8}) {
      HwcImage got = run_engine(*m.model, in, tile, 2);
      CHECK(max_abs_diff(got, want) <= 1e-4f);
    }
  }
}

TEST_CASE("noise level maps: the run's sigma inside the image, zero padding past it, any stripe") {
  GraphFactory f(53);
  const HwcImage in = random_image(19, 15, 3, 11);
  for (int net = 0; net < 2; ++net) {
    CAPTURE(net);
    // xdncnn's way (BN over cat(x, map), then a conv), and maps read by convs directly, at 2x
    // resolution, by a binary op.
    const Graph g = net == 0 ? f.xdncnn(3, 16, 1, 7, true) : f.noise_map_net(3);
    CHECK(g.noise_level_input());
    for (int block : {8, 16}) {
      CAPTURE(block);
      LoadedModel m = load_graph(g, DType::F32, {block, ConvAlgorithm::Auto});
      CHECK(m.model->plan().describe(m.model->graph()).find("noise_level_map") !=
            std::string::npos);
      HwcImage previous;
      for (float sigma : {0.f, 25.f}) {
        CAPTURE(sigma);
        const RunParams params{sigma};
        const HwcImage want = run_oracle(m.model->graph(), in, params);
        // One thread: short passes on busy cores spend more in OpenMP barriers than in work
        // (the parity and C API cases run two).
        CHECK(max_abs_diff(run_engine(*m.model, in, 0, 1, 0, params), want) <= 1e-4f);
        CHECK(max_abs_diff(run_engine(*m.model, in, 5, 1, 3, params), want) <= 1e-4f);
        if (sigma > 0)  // stripes of 1 column: every column but the owned one is halo
          CHECK(max_abs_diff(run_engine(*m.model, in, 1, 1, 1, params), want) <= 1e-4f);
        CHECK(max_abs_diff(want, previous) > 1e-3f);  // the level changes the output
        previous = want;
      }
    }
  }
  CHECK_FALSE(f.xdncnn(3, 8, 1).noise_level_input());
}

TEST_CASE("engine matches the reference executor on xsrgan-shaped graphs") {
  GraphFactory f(2);
  for (int scale : {2, 4, 8}) {
    Graph g = f.xsrgan(3, 16, 1, scale);
    LoadedModel m = load_graph(g);
    HwcImage in = random_image(11, 9, 3, 3);
    HwcImage want = run_oracle(m.model->graph(), in);
    CHECK(max_abs_diff(run_engine(*m.model, in, 0, 1), want) <= 1e-4f);
    CHECK(max_abs_diff(run_engine(*m.model, in, 4, 2), want) <= 1e-4f);
  }
}

TEST_CASE("engine handles concat, prelu, sigmoid, grouped conv and padded channel blocks") {
  GraphFactory f(3);
  for (int channels : {1, 3, 4, 6}) {
    Graph g = f.mixed(channels);
    LoadedModel m = load_graph(g);
    HwcImage in = random_image(13, 10, channels, 5);
    HwcImage want = run_oracle(m.model->graph(), in);
    CHECK(max_abs_diff(run_engine(*m.model, in, 0, 1), want) <= 1e-4f);
    CHECK(max_abs_diff(run_engine(*m.model, in, 5, 2), want) <= 1e-4f);
  }
}

TEST_CASE("tanh runs fused into convs, after a shuffle and alone, as the reference computes it") {
  GraphFactory f(41);
  for (int channels : {1, 3}) {
    Graph g = f.tanh_net(channels);
    LoadedModel m = load_graph(g);
    const std::string plan = m.model->plan().describe(m.model->graph());
    CAPTURE(plan);
    CHECK(plan.find("conv conv0 +tanh") != std::string::npos);             // a oneDNN post-op
    CHECK(plan.find("pixel_shuffle shuffle +tanh") != std::string::npos);  // after the shuffle
    HwcImage in = random_image(13, 11, channels, 9);
    HwcImage want = run_oracle(m.model->graph(), in);
    CHECK(max_abs_diff(run_engine(*m.model, in, 0, 1), want) <= 1e-5f);
    CHECK(max_abs_diff(run_engine(*m.model, in, 5, 2, 3), want) <= 1e-5f);
    for (float v : want.data) CHECK_MESSAGE(std::abs(v) <= 1.f, "tanh bounds the output");
  }
}

TEST_CASE("the 2018 xDnCNN: Gaussian gates fused with their dw convs, x - net(x)") {
  GraphFactory f(43);
  for (int skernel : {9, 11}) {
    Graph g = f.xdncnn2018(1, 16, 3, skernel);
    LoadedModel m = load_graph(g);
    const std::string plan = m.model->plan().describe(m.model->graph());
    CAPTURE(plan);
    int gates = 0, elementwise = 0;
    for (const Step &s : m.model->plan().steps) {
      // each BN -> ReLU runs inside its gate step, which multiplies the raw conv output
      gates += s.kind == StepKind::DwGate && s.gate->type == OpType::GateGaussian &&
               s.pre.size() == 2 && s.gate_multiplies_source && s.inputs.size() == 1;
      elementwise += s.kind == StepKind::Elementwise;
    }
    CHECK(gates == 3);
    CHECK(elementwise == 0);
    HwcImage in = random_image(29, 23, 1, 4);
    HwcImage want = run_oracle(m.model->graph(), in);
    CHECK(max_abs_diff(run_engine(*m.model, in, 0, 2), want) <= 1e-4f);
    CHECK(max_abs_diff(run_engine(*m.model, in, 7, 2, 3), want) <= 1e-4f);
    for (int block : {8, 16}) {
      LoadedModel narrow = load_graph(g, DType::F32, {block, ConvAlgorithm::Auto});
      CHECK(max_abs_diff(run_engine(*narrow.model, in, 6, 1, 5), want) <= 1e-4f);
    }
  }
}

TEST_CASE("dw gates run the affines and activation before them, whichever value they gate") {
  GraphFactory f(44);
  // 0: gates the pre-activation's input (the 2018 cell); 1: gates its own pre-activated source
  // (xUnitS after BN -> ReLU); 2: gates a third value; 3: the activation is read twice, so it
  // stays a step of its own.
  for (int variant = 0; variant < 4; ++variant)
    for (OpType gate : {OpType::Gate, OpType::GateGaussian}) {
      Graph g;
      const int x = g.add_input("x", 3), F = 20;
      const int x1 = f.conv(g, x, F, 3);
      const int m = f.unary(g, OpType::Tanh, f.conv(g, x, F, 3));
      const int a = variant == 2 ? f.unary(g, OpType::LeakyRelu, f.affine(g, x1), 0.2f)
                                 : f.unary(g, OpType::Relu, f.affine(g, f.affine(g, x1)));
      const int logits = f.conv(g, a, F, 5, F);
      const int multiplicand = variant == 0 ? x1 : variant == 2 ? m : a;
      int y = f.binary(g, gate, multiplicand, logits);
      if (variant == 3) y = f.binary(g, OpType::Add, y, a);
      y = f.binary(g, OpType::Add, y, m);
      // x1 read twice, so its BN -> ReLU cannot ride on its conv as post-ops
      if (variant == 1 || variant == 2) y = f.binary(g, OpType::Add, y, x1);
      g.output = f.conv(g, y, 3, 3);
      g.validate_and_infer();
      CAPTURE(variant);
      CAPTURE(std::string(op_type_name(gate)));
      for (int block : {8, 16}) {
        CAPTURE(block);
        LoadedModel lm = load_graph(g, DType::F32, {block, ConvAlgorithm::Auto});
        const std::string plan = lm.model->plan().describe(lm.model->graph());
        CAPTURE(plan);
        int fused = 0;
        for (const Step &s : lm.model->plan().steps)
          fused += s.kind == StepKind::DwGate && !s.pre.empty() &&
                   s.gate_multiplies_source == (variant == 0) &&
                   s.inputs.size() == (variant == 2 ? 2u : 1u);
        CHECK(fused == (variant == 3 ? 0 : 1));
        HwcImage in = random_image(31, 19, 3, 9);
        HwcImage want = run_oracle(lm.model->graph(), in);
        CHECK(max_abs_diff(run_engine(*lm.model, in, 0, 2), want) <= 1e-4f);
        CHECK(max_abs_diff(run_engine(*lm.model, in, 7, 2, 3), want) <= 1e-4f);
        CHECK(max_abs_diff(run_engine(*lm.model, in, 0, 1, 4), want) <= 1e-4f);
      }
    }
}

TEST_CASE("transposed convs upsample by their stride, whole, striped and streamed") {
  GraphFactory f(47);
  struct Case {
    int k, stride, padding;
  };
  for (const Case &c : {Case{9, 2, 4}, Case{4, 2, 1}, Case{3, 3, 0}, Case{6, 3, 2}}) {
    CAPTURE(c.k);
    CAPTURE(c.stride);
    Graph g = f.conv_transpose_net(3, c.k, c.stride, c.padding);
    const HwcImage in = random_image(13, 11, 3, 6);
    const HwcImage want = run_oracle(g, in);
    for (int block : {8, 16}) {
      LoadedModel m = load_graph(g, DType::F32, {block, ConvAlgorithm::Auto});
      CHECK(max_abs_diff(run_engine(*m.model, in, 0, 2), want) <= 1e-4f);
      for (int chunk : {1, 2, 5})
        CHECK(max_abs_diff(run_engine(*m.model, in, 4, 2, chunk), want) <= 1e-4f);
    }
  }
  GraphFactory bad(48);
  CHECK_THROWS_WITH_AS(bad.conv_transpose_net(3, 3, 2, 0),
                       doctest::Contains("upsample by the stride"), Error);
}

TEST_CASE("engine matches the reference executor on xdense-shaped graphs, both variants") {
  GraphFactory f(21);
  struct Case {
    int channels, features;
    std::vector<int> blocks;
    int growth, bn_size, scale;
  };
  // Growth 16 keeps the dense concatenations on channel-block boundaries; 4 and 6 do not.
  for (const Case &c : {Case{3, 16, {2, 3}, 16, 2, 1}, Case{1, 12, {3}, 4, 3, 1},
                        Case{3, 12, {2, 2}, 6, 2, 2}, Case{3, 16, {1, 2}, 8, 2, 4}}) {
    Graph g = f.xdense(c.channels, c.features, c.blocks, c.growth, c.bn_size, c.scale);
    CAPTURE(c.growth);
    CAPTURE(c.scale);
    LoadedModel m = load_graph(g);
    HwcImage in = random_image(19, 15, c.channels, 8);
    HwcImage want = run_oracle(m.model->graph(), in);
    CHECK(max_abs_diff(run_engine(*m.model, in, 0, 2), want) <= 1e-4f);
    CHECK(max_abs_diff(run_engine(*m.model, in, 6, 2, 3), want) <= 1e-4f);
    CHECK(max_abs_diff(run_engine(*m.model, in, 0, 1, 1), want) <= 1e-4f);
    for (int block : {8, 16}) {
      LoadedModel narrow = load_graph(g, DType::F32, {block, ConvAlgorithm::Auto});
      CHECK(max_abs_diff(run_engine(*narrow.model, in, 5, 2, 4), want) <= 1e-4f);
    }
  }
}

TEST_CASE("engine fuses BN -> activation -> conv1x1 -> activation into one pointwise step") {
  GraphFactory f(24);
  for (int mid : {16, 20, 40})
    for (int out : {8, 32, 36})
      for (int variant = 0; variant < 3; ++variant) {
        Graph g;
        int x = g.add_input("x", 3);
        // h is read twice, so its pre-activation cannot ride on its conv as post-ops.
        int h = f.conv(g, x, mid, 3), a = h;
        if (variant == 0) a = f.unary(g, OpType::Relu, f.affine(g, h));
        if (variant == 1) a = f.unary(g, OpType::PRelu, h);
        if (variant == 2) a = f.unary(g, OpType::LeakyRelu, f.affine(g, f.affine(g, h)), 0.2f);
        a = f.conv(g, a, out, 1, 1, variant != 0);
        if (variant == 0) a = f.unary(g, OpType::Relu, a);
        if (variant == 1) a = f.affine(g, f.unary(g, OpType::PRelu, a, 0.f, true));
        g.output = f.conv(g, f.concat(g, {h, a}), 3, 3);
        g.validate_and_infer();
        CAPTURE(mid);
        CAPTURE(out);
        CAPTURE(variant);
        Plan plan = make_plan(g, 16);
        int pointwise = 0;
        for (const Step &st : plan.steps) pointwise += st.kind == StepKind::Pointwise;
        CHECK(pointwise == 1);
        LoadedModel m = load_graph(g);
        HwcImage in = random_image(17, 13, 3, 4);
        HwcImage want = run_oracle(m.model->graph(), in);
        CHECK(max_abs_diff(run_engine(*m.model, in, 0, 2), want) <= 1e-4f);
        CHECK(max_abs_diff(run_engine(*m.model, in, 5, 1, 3), want) <= 1e-4f);
      }
}

TEST_CASE("engine resizes with every mode and coordinate rule, whole, tiled and streamed") {
  GraphFactory f(22);
  for (ResizeMode mode : {ResizeMode::Nearest, ResizeMode::Linear, ResizeMode::Cubic})
    for (ResizeCoordinates coords : {ResizeCoordinates::HalfPixel, ResizeCoordinates::Asymmetric})
      for (int factor : {2, 3}) {
        for (int channels : {1, 3}) {
          NearestRounding rounding =
              factor == 3 ? NearestRounding::RoundPreferFloor : NearestRounding::Floor;
          Graph g = f.resampler(channels, 20, factor, mode, coords, rounding);
          CAPTURE(resize_mode_name(int(mode)));
          CAPTURE(resize_coordinates_name(int(coords)));
          CAPTURE(factor);
          LoadedModel m = load_graph(g);
          HwcImage in = random_image(14, 11, channels, 3);
          HwcImage want = run_oracle(m.model->graph(), in);
          CHECK(max_abs_diff(run_engine(*m.model, in, 0, 2), want) <= 1e-4f);
          CHECK(max_abs_diff(run_engine(*m.model, in, 4, 2, 2), want) <= 1e-4f);
          CHECK(max_abs_diff(run_engine(*m.model, in, 1, 1, 1), want) <= 1e-4f);
        }
      }
}

TEST_CASE(
    "tiled output equals untiled for every tile size, including tiles smaller than the halo") {
  GraphFactory f(4);
  Graph g = f.xdncnn(3, 16, 1, 5);
  LoadedModel m = load_graph(g);
  CHECK(m.model->graph().halo() > 4);
  for (auto [w, h] : {std::pair{1, 1}, {1, 9}, {9, 1}, {19, 14}, {40, 33}}) {
    HwcImage in = random_image(w, h, 3, unsigned(w * 100 + h));
    HwcImage whole = run_engine(*m.model, in, 0, 1);
    for (int tile : {1, 2, 3, 7, 16, 64, -1}) {
      CAPTURE(w);
      CAPTURE(h);
      CAPTURE(tile);
      CHECK(max_abs_diff(run_engine(*m.model, in, tile, 2), whole) <= 1e-5f);
    }
  }
}

TEST_CASE("streaming: any chunk height gives the reference result, rows never recomputed") {
  // Chunks smaller than a layer's radius, than the total halo, not dividing the height, and one
  // chunk for the whole image: the row schedule, ring sizes and window carry-over all vary.
  GraphFactory f(12);
  for (int family = 0; family < 3; ++family) {
    Graph g = family == 0 ? f.xdncnn(3, 16, 2) : family == 1 ? f.xsrgan(3, 16, 1, 4) : f.mixed(3);
    LoadedModel m = load_graph(g);
    HwcImage in = random_image(13, 29, 3, unsigned(family));
    HwcImage want = run_oracle(m.model->graph(), in);
    for (int chunk : {1, 2, 3, 5, 8, 13, 29, 64}) {
      CAPTURE(family);
      CAPTURE(chunk);
      CHECK(max_abs_diff(run_engine(*m.model, in, 0, 1, chunk), want) <= 1e-4f);
      CHECK(max_abs_diff(run_engine(*m.model, in, 6, 2, chunk), want) <= 1e-4f);
    }
  }
}

TEST_CASE("streaming: memory depends on the stripe width and chunk height, not the image height") {
  GraphFactory f(13);
  for (int family = 0; family < 2; ++family) {
    Graph g = family == 0 ? f.xdncnn(3, 32, 3) : f.xsrgan(3, 16, 2, 2);
    LoadedModel m = load_graph(g);
    const size_t tall = StripeExecutor::arena_bytes(*m.model, 4000, 100, {16});
    CHECK(StripeExecutor::arena_bytes(*m.model, 40000, 100, {16}) == tall);
    CHECK(StripeExecutor::arena_bytes(*m.model, 4000, 200, {16}) > tall);
    CHECK(StripeExecutor::arena_bytes(*m.model, 4000, 100, {32}) > tall);
  }
}

TEST_CASE("automatic stripes keep within the memory budget") {
  GraphFactory f(14);
  Graph g = f.xdncnn(3, 32, 2);
  LoadedModel m = load_graph(g);
  RunConfig cfg;
  cfg.memory_budget = size_t(4) << 20;
  StripeGeometry geo = choose_geometry(*m.model, 3000, 2000, cfg);
  CHECK(geo.tile_width < 3000);
  const int halo = m.model->graph().halo();
  CHECK(StripeExecutor::arena_bytes(*m.model, 2000, geo.tile_width + 2 * halo, geo.stream) <=
        cfg.memory_budget);
  cfg.memory_budget = 0;  // the default budget fits a small image in one stripe
  CHECK(choose_geometry(*m.model, 300, 200, cfg).tile_width == 300);
  // The result does not depend on the geometry the budget forces.
  HwcImage in = random_image(97, 41, 3, 3);
  cfg.memory_budget = size_t(1) << 20;
  xunit_image a{in.width, in.height, 3, XUNIT_PIXEL_F32, size_t(in.width) * 12, in.data.data()};
  HwcImage out{in.width, in.height, 3, std::vector<float>(in.data.size())};
  xunit_image b{in.width, in.height, 3, XUNIT_PIXEL_F32, size_t(in.width) * 12, out.data.data()};
  run_image(*m.model, a, b, cfg);
  CHECK(max_abs_diff(out, run_engine(*m.model, in, 0, 1)) <= 1e-5f);
}

TEST_CASE("8-lane channel blocks (the AVX2 layout) and direct convs give the same result") {
  GraphFactory f(15);
  for (int family = 0; family < 3; ++family) {
    Graph g = family == 0 ? f.xdncnn(3, 24, 2) : family == 1 ? f.xsrgan(1, 16, 1, 2) : f.mixed(4);
    HwcImage in = random_image(21, 18, g.in_channels(), 9);
    HwcImage want = run_oracle(g, in);
    for (int block : {8, 16})
      for (ConvAlgorithm algo : {ConvAlgorithm::Auto, ConvAlgorithm::Direct}) {
        CAPTURE(family);
        CAPTURE(block);
        LoadedModel m = load_graph(g, DType::F32, {block, algo});
        CHECK(max_abs_diff(run_engine(*m.model, in, 0, 2), want) <= 1e-4f);
        CHECK(max_abs_diff(run_engine(*m.model, in, 7, 1, 5), want) <= 1e-4f);
      }
  }
}

TEST_CASE("super-resolution tiles map to scale x tiles") {
  GraphFactory f(5);
  Graph g = f.xsrgan(1, 16, 1, 4);
  LoadedModel m = load_graph(g);
  HwcImage in = random_image(21, 13, 1, 11);
  HwcImage whole = run_engine(*m.model, in, 0, 1);
  // (3e-5: our AVX2 Winograd F(4x4, 3x3) tiles start at each stripe's edge: its rounding moves
  // with them; a mapping error is of the order of the values.)
  for (int tile : {1, 5, 8}) CHECK(max_abs_diff(run_engine(*m.model, in, tile, 2), whole) <= 3e-5f);
}

TEST_CASE("every forced ISA gives the same result") {
  GraphFactory f(6);
  Graph g = f.xdncnn(3, 32, 1);
  LoadedModel m = load_graph(g);
  HwcImage in = random_image(37, 21, 3, 2);
  HwcImage want = run_oracle(m.model->graph(), in);
  for (auto isa : {kernels::Isa::Scalar, kernels::Isa::Avx2, kernels::Isa::Avx512}) {
    if (isa > kernels::cpu_isa()) {
      // Forcing it would run the best path this CPU has again: nothing new to check.
      MESSAGE("not checked on this CPU: " << std::string(kernels::isa_name(isa)));
      continue;
    }
    ScopedIsa forced(isa);
    const std::string name = kernels::isa_name(isa);
    CAPTURE(name);
    CHECK(kernels::active_isa() == isa);  // really forced: this run is that ISA's path
    CHECK(max_abs_diff(run_engine(*m.model, in, 0, 2), want) <= 1e-4f);
    CHECK(max_abs_diff(run_engine(*m.model, in, 9, 2), want) <= 1e-4f);
  }
}

TEST_CASE("the planner fuses conv+activation, conv+sum and dw-conv+gate+affine") {
  GraphFactory f(7);
  Graph g = f.xdncnn(3, 16, 2);
  Plan plan = make_plan(g, 16);
  std::string d = plan.describe(g);
  CAPTURE(d);
  int gates = 0, sums = 0, affines = 0;
  for (const Step &s : plan.steps) {
    gates += s.kind == StepKind::DwGate;
    for (const PostOp &p : s.post) {
      affines += s.kind == StepKind::DwGate && p.op && p.op->type == OpType::Affine;
      sums += p.is_sum();
    }
  }
  CHECK(gates == 3);
  CHECK(affines == 2);  // the next block's BatchNorm rides on the previous gate
  CHECK(sums == 1);     // the global residual
  CHECK(plan.steps.size() == 1 + 3 * 2 + 1);  // input affine, 3 x (conv, gate), tail conv
}

TEST_CASE("the planner gates xUnitD in one step and reads dense concatenations in place") {
  GraphFactory f(23);
  Graph g = f.xdense(3, 16, {3, 2}, 8, 2);
  Plan plan = make_plan(g, 16);
  std::string d = plan.describe(g);
  CAPTURE(d);
  int gates = 0, separate = 0, concats = 0, chains = 0, pointwise = 0;
  for (const Step &s : plan.steps) {
    gates += s.kind == StepKind::DwGate;
    separate += s.kind == StepKind::DwGate && s.inputs.size() == 2;
    concats += s.kind == StepKind::Concat;
    chains += s.kind == StepKind::Elementwise && !s.post.empty();
    pointwise += s.kind == StepKind::Pointwise && s.pre.size() == 2;
  }
  int virtuals = 0;
  for (const ValuePlan &v : plan.values) virtuals += v.is_virtual();
  CHECK(gates == 1 + 5);     // the head's and every dense layer's xUnitD
  CHECK(separate == gates);  // each gates its conv's input, not the dw conv's own input
  // Every concatenation is read where its parts were written, except the last: the tail conv
  // (to 3 channels, our own kernel) takes planes in place only when every part starts on a
  // 16-channel boundary, and growth 8 does not.
  CHECK(concats == 1);
  CHECK(virtuals == 4);
  // BN -> ReLU before every dense layer's and the transition's conv1x1 rides on that conv.
  CHECK(chains == 0);
  CHECK(pointwise == 5 + 1);
  Graph aligned = f.xdense(3, 16, {3, 2}, 16, 2);
  Plan aligned_plan = make_plan(aligned, 16);
  for (const Step &s : aligned_plan.steps) CHECK(s.kind != StepKind::Concat);
}

TEST_CASE("planner: under bf16 every conv step computes in bf16, by our kernels or by oneDNN's") {
  // Growth 8: the dense layers' 3x3 convs have 8 outputs, too narrow for our Winograd; they
  // must read a bf16 source instead (not silently stay float32).
  GraphFactory f(16);
  const Graph g = f.xdense(3, 16, {3, 2}, 8, 2);
  for (ConvAlgorithm algorithm : {ConvAlgorithm::Auto, ConvAlgorithm::Direct}) {
    const Plan plan = make_plan(g, 16, Precision::Bf16, algorithm);
    int narrow = 0;
    for (const Step &s : plan.steps) {
      if (s.kind != StepKind::Conv && s.kind != StepKind::Pointwise) continue;
      CAPTURE(s.op->name);
      const bool pointwise = s.kind == StepKind::Pointwise;
      const bool in_bf16 = pointwise ? !s.bf16 : (s.bf16 || s.bf16_products);
      CHECK(in_bf16);
      CHECK_FALSE((s.bf16 && s.bf16_products));
      // Without Winograd nothing is ours: every conv reads a bf16 source.
      if (algorithm == ConvAlgorithm::Direct && !pointwise) CHECK(s.bf16);
      if (s.kind == StepKind::Conv && s.op->kernel == 3 && s.op->out_channels < 16) {
        ++narrow;
        CHECK(s.bf16);
      }
    }
    CHECK(narrow > 0);
  }
}

TEST_CASE("bfloat16 and automatic precision stay close to float32, for any chunk and stripe") {
  {
    // Below AVX-512, bf16 is refused: forced down so that this is checked on every CPU.
    ScopedIsa avx2(kernels::Isa::Avx2);
    GraphFactory f(16);
    Graph g = f.xdncnn(3, 16, 1);
    CHECK_THROWS_AS(load_graph(g, DType::F32, {0, ConvAlgorithm::Auto, Precision::Bf16}),
                    UnsupportedError);
  }
  if (kernels::active_isa() < kernels::Isa::Avx512) {
    MESSAGE("bfloat16 accuracy not checked: this CPU runs "
            << std::string(kernels::isa_name(kernels::active_isa())));
    return;
  }
  GraphFactory f(16);
  for (int family = 0; family < 4; ++family) {
    // The last: Dense xUnit, whose BN-ReLU-conv1x1 layers are pointwise steps.
    Graph g = family == 0   ? f.xdncnn(3, 32, 2)
              : family == 1 ? f.xsrgan(3, 16, 1, 2)
              : family == 2 ? f.mixed(3)
                            : f.xdense(3, 32, {3, 2}, 16, 2);
    HwcImage in = random_image(23, 19, 3, 4);
    HwcImage want = run_oracle(g, in);
    float scale = 0;
    for (float v : want.data) scale = std::max(scale, std::abs(v));
    for (Precision p : {Precision::Bf16, Precision::Auto}) {
      LoadedModel m = load_graph(g, DType::F32, {0, ConvAlgorithm::Auto, p});
      // A step of ours with bf16 products (Winograd or pointwise, AVX512-BF16 CPUs).
      bool products = false, pointwise_products = false;
      for (const Step &s : m.model->plan().steps) {
        products |= s.bf16_products;
        pointwise_products |= s.bf16_products && s.kind == StepKind::Pointwise;
      }
      if (family == 3 && kernels::active_isa() >= kernels::Isa::Avx512Bf16)
        CHECK(pointwise_products);
      // A step planned with bf16 products runs a bf16 kernel (the profile's name says which).
      for (size_t i = 0; i < m.model->plan().steps.size(); ++i)
        if (m.model->plan().steps[i].bf16_products) {
          const std::string impl = m.model->program(i).implementation(8, 16);
          CAPTURE(impl);
          CHECK(impl.find("bf16") != std::string::npos);
        }
      for (int chunk : {3, 8, 0})
        for (int tile : {0, 7}) {
          CAPTURE(family);
          CAPTURE(int(p));
          CAPTURE(chunk);
          CAPTURE(tile);
          CAPTURE(products);
          const HwcImage got = run_engine(*m.model, in, tile, 2, chunk);
          const float err = max_abs_diff(got, want), rms = relative_rms_diff(got, want);
          // bfloat16 keeps 8 bits of mantissa: with direct bf16 convs the worst output is within
          // 2 % of the outputs' range and the RMS difference 0.02-0.6 % here (oneDNN's AVX-512
          // bf16 convs without AVX512-BF16 round more than with it). Winograd's
          // transforms amplify the rounding of its bf16 operands about ten-fold on these
          // independent random pixels and weights (RMS 0.8-2.8 %, worst output 4 % of the
          // range); on real images and trained models the PSNR stays within 0.03 dB of float32
          // (README).
          CHECK(err <= (products ? 6e-2f : 2e-2f) * std::max(1.f, scale));
          CHECK(rms <= (products ? 4e-2f : 1e-2f));
          if (p == Precision::Bf16) CHECK(err > 0.f);  // really computed in bfloat16
        }
    }
  }
}

TEST_SUITE_END();
