// xunit-bench: end-to-end throughput of models x image sizes x precisions x thread counts,
// through the public C API, with the machine's FMA peak measured in the same process.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench/fma_peak.h"
#include "bench/model_cost.h"
#include "common/error.h"
#include "common/file_io.h"
#include "engine/model_file.h"
#include "models/synthetic/graph_factory.h"
#include "xunit/xunit.h"

namespace {

const char *kUsage =
    "usage: xunit-bench [options]\n"
    "\n"
    "Times whole runs (u8 image in, u8 image out) through the C API and reports megapixels/s,\n"
    "GFLOP/s of the convolutions and the share of the FMA peak measured in the same process.\n"
    "\n"
    "  --model FILE.xunit    a model file; repeatable\n"
    "  --synthetic NAME      a random-weight network: FAMILY[-gray]-FEATURES-BLOCKS[-xSCALE],\n"
    "                        FAMILY one of xdncnn, dncnn, xsrgan (e.g. xdncnn-64-8, "
    "xsrgan-64-10-x4);\n"
    "                        repeatable. Default: xdncnn-64-8\n"
    "  --size WxH            input size; repeatable. Default: 512x512\n"
    "  --threads N[,N...]    thread counts. Default: all cores\n"
    "  --precision P[,P...]  fp32, bf16, auto. Default: fp32\n"
    "  --tile T              stripe width (0 whole image, -1 automatic). Default: -1\n"
    "  --repeat R            timed runs per configuration (median reported). Default: 5\n"
    "  --warmup W            untimed runs first (oneDNN code generation, page faults). Default: 1\n"
    "  --sigma N             models conditioned on the noise level: run at this fixed level (in\n"
    "                        8-bit levels). Default: estimated from the input in every run, as\n"
    "                        xunit-run does\n"
    "  --csv FILE            also write the results as CSV\n"
    "  --profile             after timing, one more run printing where its time went (warm)\n"
    "  -h, --help            this text\n";

struct ModelUnderTest {
  std::string name;
  std::vector<uint8_t> bytes;
  xunit::Graph graph;  // for counting FLOPs
};

xunit::Graph synthetic(const std::string &spec) {
  // FAMILY[-gray]-F-B[-xS]
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= spec.size(); ++i)
    if (i == spec.size() || spec[i] == '-') {
      parts.push_back(spec.substr(start, i - start));
      start = i + 1;
    }
  auto fail = [&] {
    throw xunit::Error("--synthetic: cannot parse '" + spec +
                       "' (e.g. xdncnn-64-8, xsrgan-gray-64-10-x4)");
  };
  if (parts.size() < 3) fail();
  size_t at = 1;
  int channels = 3;
  if (parts[at] == "gray") channels = 1, ++at;
  if (parts.size() < at + 2) fail();
  const int features = std::atoi(parts[at].c_str()), blocks = std::atoi(parts[at + 1].c_str());
  int scale = 4;
  if (parts.size() == at + 3) {
    if (parts[at + 2].size() < 2 || parts[at + 2][0] != 'x') fail();
    scale = std::atoi(parts[at + 2].c_str() + 1);
  } else if (parts.size() != at + 2) {
    fail();
  }
  if (features < 1 || features > 1024 || blocks < 0 || blocks > 100) fail();
  xunit::synthetic::GraphFactory f(1);
  if (parts[0] == "xdncnn") return f.xdncnn(channels, features, blocks);
  if (parts[0] == "dncnn") return f.dncnn(channels, features, blocks);
  if (parts[0] == "xsrgan" && (scale == 2 || scale == 4 || scale == 8))
    return f.xsrgan(channels, features, blocks, scale);
  fail();
  return {};
}

std::vector<int> parse_ints(const char *s) {
  std::vector<int> v;
  for (const char *p = s; *p;) {
    char *end = nullptr;
    long n = std::strtol(p, &end, 10);
    if (end == p || n < 0 || n > 4096)
      throw xunit::Error(std::string("bad number list '") + s + "'");
    v.push_back(int(n));
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') throw xunit::Error(std::string("bad number list '") + s + "'");
  }
  return v;
}

std::vector<std::string> parse_words(const char *s) {
  std::vector<std::string> v;
  std::string cur;
  for (const char *p = s;; ++p) {
    if (*p == ',' || *p == 0) {
      v.push_back(cur);
      cur.clear();
      if (!*p) break;
    } else {
      cur += *p;
    }
  }
  return v;
}

double peak_rss_mb() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char **argv) {
  try {
    std::vector<ModelUnderTest> models;
    std::vector<std::pair<int, int>> sizes;
    std::vector<int> threads;
    std::vector<std::string> precisions = {"fp32"};
    int tile = -1, repeat = 5, warmup = 1;
    float sigma = -1.f;  // < 0: estimated (XUNIT_NOISE_LEVEL_AUTO)
    std::string csv_path;
    bool profile = false;
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto value = [&]() -> const char * {
        if (i + 1 >= argc) throw xunit::Error(a + " needs a value");
        return argv[++i];
      };
      if (a == "-h" || a == "--help") {
        std::fputs(kUsage, stdout);
        return 0;
      } else if (a == "--model") {
        std::string path = value();
        ModelUnderTest m;
        m.name = path.substr(path.find_last_of('/') + 1);
        m.bytes = xunit::read_file(path);
        m.graph = xunit::parse_model(m.bytes.data(), m.bytes.size());
        m.graph.tensors.clear();  // points into bytes, which may move; only shapes are needed
        models.push_back(std::move(m));
      } else if (a == "--synthetic") {
        ModelUnderTest m;
        m.name = value();
        m.graph = synthetic(m.name);
        m.bytes = xunit::serialize_model(m.graph, xunit::DType::F32);
        models.push_back(std::move(m));
      } else if (a == "--size") {
        int w = 0, h = 0;
        if (std::sscanf(value(), "%dx%d", &w, &h) != 2 || w < 1 || h < 1 || w > 65536 || h > 65536)
          throw xunit::Error("--size expects WxH");
        sizes.push_back({w, h});
      } else if (a == "--threads") {
        threads = parse_ints(value());
      } else if (a == "--precision") {
        precisions = parse_words(value());
      } else if (a == "--tile") {
        tile = std::atoi(value());
      } else if (a == "--repeat") {
        repeat = std::max(1, std::atoi(value()));
      } else if (a == "--warmup") {
        warmup = std::max(0, std::atoi(value()));
      } else if (a == "--sigma") {
        char *end = nullptr;
        const char *v = value();
        sigma = std::strtof(v, &end);
        if (end == v || *end || !(sigma >= 0.f && sigma <= 255.f))
          throw xunit::Error("--sigma expects a level from 0 to 255");
      } else if (a == "--csv") {
        csv_path = value();
      } else if (a == "--profile") {
        profile = true;
      } else {
        throw xunit::Error("unknown argument '" + a + "' (see --help)");
      }
    }
    if (models.empty()) {
      ModelUnderTest m;
      m.name = "xdncnn-64-8";
      m.graph = synthetic(m.name);
      m.bytes = xunit::serialize_model(m.graph, xunit::DType::F32);
      models.push_back(std::move(m));
    }
    if (sizes.empty()) sizes.push_back({512, 512});
    if (threads.empty()) threads.push_back(0);
    for (int &t : threads)
      if (t == 0) t = int(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));

    std::vector<double> peaks;
    for (int t : threads) peaks.push_back(xunit::bench::measure_fma_peak_gflops(t));
    std::printf("xunit %s; FP32 FMA peak measured here:", xunit_version());
    for (size_t i = 0; i < threads.size(); ++i)
      std::printf(" %d thread%s %.1f GFLOP/s;", threads[i], threads[i] > 1 ? "s" : "", peaks[i]);
    std::printf("\n\n%-22s %11s %4s %-9s %10s %9s %9s %7s %9s\n", "model", "size", "thr",
                "precision", "median ms", "MP/s", "GFLOP/s", "% peak", "peak RSS");
    FILE *csv = csv_path.empty() ? nullptr : std::fopen(csv_path.c_str(), "w");
    if (!csv_path.empty() && !csv) throw xunit::Error("cannot write '" + csv_path + "'");
    if (csv)
      std::fprintf(csv,
                   "model,width,height,threads,precision,median_ms,min_ms,mp_per_s,gflops,percent_"
                   "peak,peak_rss_mb\n");

    for (const ModelUnderTest &m : models) {
      xunit_model *model = nullptr;
      if (xunit_model_load_memory(m.bytes.data(), m.bytes.size(), &model) != XUNIT_OK)
        throw xunit::Error(xunit_last_error());
      xunit_model_info info;
      info.struct_size = sizeof info;
      xunit_model_get_info(model, &info);
      if (sigma >= 0.f && !info.noise_level_input)  // said, so a table is not read as sigma's
        std::printf("note: %s takes no noise level (a blind model): --sigma %g does not apply\n",
                    m.name.c_str(), double(sigma));
      for (auto [w, h] : sizes) {
        std::vector<uint8_t> in(size_t(w) * h * info.in_channels);
        std::mt19937 rng(1);
        for (auto &v : in) v = uint8_t(rng());
        std::vector<uint8_t> out(size_t(w) * info.scale * h * info.scale * info.out_channels);
        xunit_image a{w,        h, info.in_channels, XUNIT_PIXEL_U8, size_t(w) * info.in_channels,
                      in.data()};
        xunit_image b{w * info.scale,
                      h * info.scale,
                      info.out_channels,
                      XUNIT_PIXEL_U8,
                      size_t(w) * info.scale * info.out_channels,
                      out.data()};
        const double flops = xunit::bench::conv_flops(m.graph, w, h);
        for (size_t ti = 0; ti < threads.size(); ++ti)
          for (const std::string &p : precisions) {
            xunit_run_options o;
            xunit_run_options_init(&o);
            o.threads = threads[ti];
            o.tile_size = tile;
            if (sigma >= 0.f && info.noise_level_input) {
              o.noise_level_mode = XUNIT_NOISE_LEVEL_FIXED;
              o.noise_level = sigma;
            }
            o.precision = p == "bf16"   ? XUNIT_PRECISION_BF16
                          : p == "auto" ? XUNIT_PRECISION_AUTO
                                        : XUNIT_PRECISION_FP32;
            char size[32];
            std::snprintf(size, sizeof size, "%dx%d", w, h);
            bool failed = false;
            for (int wu = 0; wu < warmup && !failed; ++wu)  // primitives, page faults
              failed = xunit_run(model, &o, &a, &b) != XUNIT_OK;
            if (failed) {
              std::printf("%-22s %11s %4d %-9s %s\n", m.name.c_str(), size, threads[ti], p.c_str(),
                          xunit_last_error());
              continue;
            }
            std::vector<double> ms;
            for (int r = 0; r < repeat; ++r) {
              auto t0 = std::chrono::steady_clock::now();
              if (xunit_run(model, &o, &a, &b) != XUNIT_OK) throw xunit::Error(xunit_last_error());
              ms.push_back(
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                      .count());
            }
            if (profile) {  // engine/image_runner.cpp prints the profile of this run to stderr
              setenv("XUNIT_PROFILE", "1", 1);
              xunit_run(model, &o, &a, &b);
              unsetenv("XUNIT_PROFILE");
            }
            std::sort(ms.begin(), ms.end());
            const double med = ms[ms.size() / 2];
            const double mps = double(w) * h / 1e6 / (med / 1e3),
                         gflops = flops / 1e9 / (med / 1e3);
            std::printf("%-22s %11s %4d %-9s %10.1f %9.3f %9.1f %6.1f%% %6.0f MB\n", m.name.c_str(),
                        size, threads[ti], p.c_str(), med, mps, gflops, 100 * gflops / peaks[ti],
                        peak_rss_mb());
            std::fflush(stdout);
            if (csv)
              std::fprintf(csv, "%s,%d,%d,%d,%s,%.3f,%.3f,%.4f,%.2f,%.2f,%.1f\n", m.name.c_str(), w,
                           h, threads[ti], p.c_str(), med, ms[0], mps, gflops,
                           100 * gflops / peaks[ti], peak_rss_mb());
          }
      }
      xunit_model_free(model);
    }
    if (csv) std::fclose(csv);
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "xunit-bench: %s\n", e.what());
    return 1;
  }
}
