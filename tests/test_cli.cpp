// The command-line tools end to end, run as a user runs them: exit status, one line on stderr
// for every failure, no output file left behind on failure, results equal to PyTorch's.
#include <dirent.h>
#include <doctest/doctest.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/image_io.h"
#include "cli/progress.h"
#include "cli/quality.h"
#include "cli/restore.h"
#include "cli/ycbcr_sr.h"
#include "common/file_io.h"
#include "common/printable.h"
#include "engine/model_file.h"
#include "models/synthetic/graph_factory.h"
#include "photo_metadata.h"
#include "temp_dir.h"
#include "test_paths.h"
#include "xunit/xunit.h"

using xunit::cli::Image;
using xunit::testing::bin_dir;
using xunit::testing::parity_dir;

namespace {

struct Result {
  int status = -1;
  std::string out, err;
  int err_lines() const {
    int n = 0;
    for (char c : err) n += c == '\n';
    return n;
  }
};

std::string slurp(const std::string &path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

using xunit::testing::TempDir;

Result run(const TempDir &dir, const std::string &tool, const std::string &args,
           const std::string &env = "") {
  const std::string out = dir / ".stdout", err = dir / ".stderr";
  const std::string cmd = env + bin_dir() + tool + " " + args + " >" + out + " 2>" + err;
  int raw = std::system(cmd.c_str());
  Result r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  r.out = slurp(out);
  r.err = slurp(err);
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

// Files in dir/out after an interrupted batch: each must be a whole 300-pixel-wide image, no
// temporary file left. Returns their count.
int whole_outputs(const TempDir &dir) {
  int whole = 0;
  DIR *d = opendir((dir / "out").c_str());
  REQUIRE(d != nullptr);
  while (dirent *e = readdir(d)) {
    const std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    CHECK(n[0] != '.');  // no temporary file left
    CHECK(xunit::cli::load_image(dir / ("out/" + n)).width == 300);
    ++whole;
  }
  closedir(d);
  return whole;
}

// A failure as the guide wants it: non-zero exit, exactly one line on stderr containing `text`.
void expect_failure(const Result &r, const std::string &text) {
  CHECK(r.status != 0);
  CHECK(r.err_lines() == 1);
  CHECK_MESSAGE(r.err.find(text) != std::string::npos, "stderr: " << r.err);
}

float max_diff(const Image &a, const Image &b) {
  if (a.width != b.width || a.height != b.height || a.channels != b.channels) return 1e30f;
  float m = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) m = std::max(m, std::abs(a.pixels[i] - b.pixels[i]));
  return m;
}

Image gradient(int w, int h, int channels, int bits) {
  Image img;
  img.width = w;
  img.height = h;
  img.channels = channels;
  img.bits = bits;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c)
        img.pixels.push_back(float((x * 7 + y * 13 + c * 50) % 256) / 255.f);
  return img;
}

}  // namespace

TEST_CASE("cli: xunit-convert reads every checkpoint format and xunit-run matches PyTorch") {
  TempDir dir;
  const std::string fx = parity_dir() + "xsrgan_c3_f16_b2_x2/";
  const Image want = xunit::cli::load_image(fx + "output.npy");
  for (const char *ckpt :
       {"model.pt", "model_legacy.pt", "model.safetensors", "model_wrapped.pt"}) {
    CAPTURE(ckpt);
    const std::string model = dir / (std::string(ckpt) + ".xunit");
    Result c = run(dir, "xunit-convert", fx + ckpt + " " + model);
    REQUIRE(c.status == 0);
    CHECK(c.err.find("xsrgan, sr, 3 -> 3 channels, scale 2") != std::string::npos);
    for (const char *opts : {"-t 0 -j 1", "-t 7 -j 2", ""}) {
      CAPTURE(opts);
      Result r = run(dir, "xunit-run",
                     std::string("-q -y -m ") + model + " -i " + fx + "input.npy -o " +
                         (dir / "out.npy") + " " + opts);
      REQUIRE(r.status == 0);
      CHECK(r.err.empty());
      CHECK(max_diff(xunit::cli::load_image(dir / "out.npy"), want) <= 1e-4f);
    }
  }
}

TEST_CASE("cli: xunit-convert options and failures") {
  TempDir dir;
  const std::string ckpt = parity_dir() + "xdncnn_c3_f16_b2/model.pt";
  REQUIRE(run(dir, "xunit-convert", ckpt + " " + (dir / "a.xunit")).status == 0);

  // Never overwrites unasked; -y does.
  expect_failure(run(dir, "xunit-convert", ckpt + " " + (dir / "a.xunit")), "output exists");
  CHECK(run(dir, "xunit-convert", ckpt + " " + (dir / "a.xunit") + " -y").status == 0);

  // fp16 storage halves the weights; the model still loads and runs.
  REQUIRE(run(dir, "xunit-convert", ckpt + " " + (dir / "h.xunit") + " --dtype fp16").status == 0);
  struct stat s32, s16;
  stat((dir / "a.xunit").c_str(), &s32);
  stat((dir / "h.xunit").c_str(), &s16);
  CHECK(s16.st_size < s32.st_size * 6 / 10);
  CHECK(run(dir, "xunit-run",
            "-q -m " + (dir / "h.xunit") + " -i " + parity_dir() +
                "xdncnn_c3_f16_b2/input.npy -o " + (dir / "h.npy"))
            .status == 0);

  // --meta adds model-card entries; keys the converter owns are refused.
  REQUIRE(run(dir, "xunit-convert", ckpt + " " + (dir / "m.xunit") + " --meta 'title=A test model'")
              .status == 0);
  xunit_model *m = nullptr;
  REQUIRE(xunit_model_load((dir / "m.xunit").c_str(), &m) == XUNIT_OK);
  CHECK(std::string(xunit_model_get_metadata(m, "title")) == "A test model");
  CHECK(std::string(xunit_model_get_metadata(m, "source_format")) == "torch-zip");
  CHECK(std::string(xunit_model_get_metadata(m, "source_sha256")).size() == 64);
  xunit_model_free(m);
  expect_failure(run(dir, "xunit-convert", ckpt + " " + (dir / "b.xunit") + " --meta family=x"),
                 "--meta family");

  Result help = run(dir, "xunit-convert", "--help");
  CHECK(help.status == 0);
  CHECK(help.out.find("usage: xunit-convert") != std::string::npos);
  CHECK(run(dir, "xunit-convert", "").status == 2);
  expect_failure(run(dir, "xunit-convert", ckpt + " " + (dir / "b.xunit") + " --dtype fp8"),
                 "--dtype");
  expect_failure(run(dir, "xunit-convert", ckpt + " " + (dir / "b.xunit") + " --frobnicate"),
                 "unknown option");
  expect_failure(run(dir, "xunit-convert", ckpt + " " + (dir / "b.xunit") + " --arch srgan"),
                 "look like family xdncnn");
  expect_failure(run(dir, "xunit-convert", ckpt + " " + (dir / "b.xunit") + " --set nonsense=1"),
                 "nonsense");
  expect_failure(run(dir, "xunit-convert", (dir / "missing.pt") + " " + (dir / "b.xunit")),
                 "missing.pt");
  expect_failure(run(dir, "xunit-convert", (dir / "a.xunit") + " " + (dir / "b.xunit")),
                 "unrecognised checkpoint format");
  const std::string hostile = xunit::testing::fixtures_dir() + "readers/hostile_os_system.pt";
  expect_failure(run(dir, "xunit-convert", hostile + " " + (dir / "b.xunit")), "posix.system");
  expect_failure(run(dir, "xunit-convert", ckpt + " " + (dir / "no/such/dir/b.xunit")),
                 "no/such/dir");
  CHECK(!xunit::file_exists(dir / "b.xunit"));
}

TEST_CASE("cli: xunit-run on images: formats, 16-bit, alpha, gray/color adaptation, folders") {
  TempDir dir;
  const std::string color = dir / "color.xunit", gray = dir / "gray.xunit", sr = dir / "sr.xunit";
  REQUIRE(run(dir, "xunit-convert", parity_dir() + "xdncnn_c3_f16_b2/model.pt " + color).status ==
          0);
  REQUIRE(run(dir, "xunit-convert", parity_dir() + "xdncnn_c1_f24_b3/model.pt " + gray).status ==
          0);
  REQUIRE(run(dir, "xunit-convert", parity_dir() + "xsrgan_c1_f16_b1_x4/model.pt " + sr).status ==
          0);

  xunit::cli::save_image(dir / "rgb.png", gradient(21, 14, 3, 8), false);
  xunit::cli::save_image(dir / "rgba16.png", gradient(21, 14, 4, 16), false);
  xunit::cli::save_image(dir / "ga.png", gradient(9, 6, 2, 8), false);

  // 16-bit RGBA stays 16-bit RGBA, and its alpha is passed through exactly.
  REQUIRE(run(dir, "xunit-run",
              "-q -m " + color + " -i " + (dir / "rgba16.png") + " -o " + (dir / "o16.png"))
              .status == 0);
  Image in16 = xunit::cli::load_image(dir / "rgba16.png"),
        o16 = xunit::cli::load_image(dir / "o16.png");
  CHECK(o16.bits == 16);
  CHECK(o16.channels == 4);
  bool alpha_same = true;
  for (size_t i = 3; i < in16.pixels.size(); i += 4) alpha_same &= in16.pixels[i] == o16.pixels[i];
  CHECK(alpha_same);

  // The PNG result is the .npy result rounded: the image path adds nothing but quantization.
  Image rgb = xunit::cli::load_image(dir / "rgb.png");
  xunit::cli::save_image(dir / "rgb.npy", rgb, false);
  REQUIRE(run(dir, "xunit-run",
              "-q -m " + color + " -i " + (dir / "rgb.png") + " -o " + (dir / "o.png"))
              .status == 0);
  REQUIRE(run(dir, "xunit-run",
              "-q -m " + color + " -i " + (dir / "rgb.npy") + " -o " + (dir / "o.npy"))
              .status == 0);
  Image o_png = xunit::cli::load_image(dir / "o.png"),
        o_npy = xunit::cli::load_image(dir / "o.npy");
  for (float &v : o_npy.pixels) v = std::nearbyint(std::min(std::max(v, 0.f), 1.f) * 255.f) / 255.f;
  CHECK(max_diff(o_png, o_npy) <= 1e-6f);

  // Other encoders.
  for (const char *ext : {"jpg", "bmp", "tga"}) {
    CAPTURE(ext);
    REQUIRE(run(dir, "xunit-run",
                "-q -m " + color + " -i " + (dir / "rgb.png") + " -o " + (dir / "o.") + ext)
                .status == 0);
    CHECK(xunit::cli::load_image(dir / "o." + ext).width == 21);
  }

  // A gray model on a color image (per channel), a color model on gray+alpha, SR with alpha.
  REQUIRE(
      run(dir, "xunit-run", "-q -m " + gray + " -i " + (dir / "rgb.png") + " -o " + (dir / "g.png"))
          .status == 0);
  CHECK(xunit::cli::load_image(dir / "g.png").channels == 3);
  REQUIRE(
      run(dir, "xunit-run", "-q -m " + color + " -i " + (dir / "ga.png") + " -o " + (dir / "c.png"))
          .status == 0);
  CHECK(xunit::cli::load_image(dir / "c.png").channels == 2);
  REQUIRE(
      run(dir, "xunit-run", "-q -m " + sr + " -i " + (dir / "ga.png") + " -o " + (dir / "s.png"))
          .status == 0);
  Image s = xunit::cli::load_image(dir / "s.png");
  CHECK(s.width == 36);
  CHECK(s.height == 24);
  CHECK(s.channels == 2);

  // Folders: every supported file, names kept; a broken file fails alone (exit 1, one line).
  mkdir((dir / "in").c_str(), 0755);
  xunit::cli::save_image(dir / "in/a.png", gradient(10, 9, 3, 8), false);
  xunit::cli::save_image(dir / "in/b.bmp", gradient(12, 5, 3, 8), false);
  std::ofstream(dir / "in/notes.txt") << "not an image";
  Result r =
      run(dir, "xunit-run", "-q -m " + color + " -i " + (dir / "in") + " -o " + (dir / "out"));
  CHECK(r.status == 1);  // notes.txt is skipped: said in the final count, and the status
  CHECK(r.err.find("2 written to " + (dir / "out")) != std::string::npos);
  CHECK(r.err.find("1 skipped: notes.txt (unsupported format)") != std::string::npos);
  CHECK(xunit::file_exists(dir / "out/a.png"));
  CHECK(xunit::file_exists(dir / "out/b.bmp"));
  CHECK(!xunit::file_exists(dir / "out/notes.txt"));
  std::ofstream(dir / "in/c.png") << "broken";
  r = run(dir, "xunit-run", "-q -y -m " + color + " -i " + (dir / "in") + " -o " + (dir / "out"));
  CHECK(r.status == 1);
  CHECK(r.err_lines() == 2);  // c.png's failure, and the count (notes.txt skipped)
  CHECK(r.err.find("c.png") != std::string::npos);
  CHECK(!xunit::file_exists(dir / "out/c.png"));
}

TEST_CASE("cli: xunit-run refuses bad requests with one line and writes nothing") {
  TempDir dir;
  const std::string model = dir / "m.xunit";
  REQUIRE(run(dir, "xunit-convert", parity_dir() + "xdncnn_c3_f16_b2/model.pt " + model).status ==
          0);
  xunit::cli::save_image(dir / "in.png", gradient(8, 8, 3, 8), false);
  const std::string in = dir / "in.png";
  auto failing = [&](const std::string &args, const std::string &text) {
    CAPTURE(args);
    expect_failure(run(dir, "xunit-run", args), text);
  };
  failing("-m " + model + " -i " + in + " -o " + in + " -y", "refusing to write over the input");
  failing("-m " + model + " -i " + (dir / "nope.png") + " -o " + (dir / "o.png"), "nope.png");
  failing("-m " + (dir / "nope.xunit") + " -i " + in + " -o " + (dir / "o.png"), "nope.xunit");
  failing("-m " + in + " -i " + in + " -o " + (dir / "o.png"), "not a .xunit model");
  failing("-m " + model + " -i " + in + " -o " + (dir / "o.gif"), "unsupported output format");
  failing("-m " + model + " -i " + in + " -o " + (dir / "missing/o.png"),
          "cannot create output in");
  failing("-m " + model + " -i " + in + " -o " + (dir / "o.png") + " --max-pixels 10", "pixel");
  failing("-m " + model + " -i " + in, "-i and -o are required");
  failing("-m " + model + " -i " + in + " -o " + (dir / "o.png") + " -t -3", "-t");
  failing("-m " + model + " -i " + in + " -o " + (dir / "o.png") + " --precision fp64",
          "--precision");
  failing("--bogus", "unknown argument");
  CHECK(!xunit::file_exists(dir / "o.png"));
  CHECK(!xunit::file_exists(dir / "o.gif"));

  Result help = run(dir, "xunit-run", "--help");
  CHECK(help.status == 0);
  CHECK(help.out.find("SYNOPSIS") != std::string::npos);
  CHECK(help.out.find("EXIT STATUS") != std::string::npos);

  // An existing output is kept unless -y.
  std::ofstream(dir / "keep.png") << "precious";
  failing("-m " + model + " -i " + in + " -o " + (dir / "keep.png"), "output exists");
  CHECK(slurp(dir / "keep.png") == "precious");
}

namespace {

// A model folder as shipped: the fixtures converted under the shipped names.
std::string make_model_dir(const TempDir &dir) {
  const std::string models = dir / "models";
  mkdir(models.c_str(), 0755);
  const std::pair<const char *, const char *> shipped[] = {{"xdncnn_c3_f16_b2", "xdncnn-color"},
                                                           {"xdncnn_c1_f24_b3", "xdncnn-gray"},
                                                           {"xsrgan_c3_f16_b2_x2", "xsrgan-x2"},
                                                           {"xsrgan_c1_f16_b1_x4", "xsrgan-x4"}};
  for (auto [fixture, name] : shipped) {
    Result r = run(dir, "xunit-convert",
                   parity_dir() + fixture + "/model.pt " + models + "/" + name +
                       ".xunit --meta 'title=test " + name + "'");
    REQUIRE(r.status == 0);
  }
  return models;
}

std::string read_bytes(const std::string &path) { return slurp(path); }

}  // namespace

TEST_CASE("cli: shipped models are found, listed, described and picked by channels and -s") {
  TempDir dir;
  const std::string models = make_model_dir(dir);
  const std::string env = "XUNIT_MODEL_DIR=" + models + " ";
  Result list = run(dir, "xunit-run", "--list-models", env);
  CHECK(list.status == 0);
  for (const char *n : {"xdncnn-color", "xdncnn-gray", "xsrgan-x2", "xsrgan-x4"})
    CHECK(list.out.find(n) != std::string::npos);
  CHECK(list.out.find("super-resolution x4") != std::string::npos);
  Result info = run(dir, "xunit-run", "--info xsrgan-x2", env);
  CHECK(info.status == 0);
  CHECK(info.out.find("super-resolution x2") != std::string::npos);
  CHECK(info.out.find("test xsrgan-x2") != std::string::npos);
  CHECK(info.out.find("noise level") == std::string::npos);  // a blind model
  expect_failure(run(dir, "xunit-run", "--info nosuch", env), "no model 'nosuch'");
  // A denoiser conditioned on the noise level says so.
  REQUIRE(
      run(dir, "xunit-convert", parity_dir() + "xdncnn_nm_c1_f16_b1/model.pt " + (dir / "nm.xunit"))
          .status == 0);
  Result conditioned = run(dir, "xunit-run", "--info " + (dir / "nm.xunit"));
  CHECK(conditioned.status == 0);
  CHECK(conditioned.out.find("noise level:      an input") != std::string::npos);

  xunit::cli::save_image(dir / "rgb.png", gradient(20, 12, 3, 8), false);
  xunit::cli::save_image(dir / "gray.png", gradient(20, 12, 1, 8), false);
  // No -m: the shipped denoiser of the image's channels, the same as naming it.
  for (auto [img, model] : {std::pair{"rgb.png", "xdncnn-color"}, {"gray.png", "xdncnn-gray"}}) {
    CAPTURE(img);
    REQUIRE(run(dir, "xunit-run", "-q -i " + (dir / img) + " -o " + (dir / "auto.png") + " -y", env)
                .status == 0);
    REQUIRE(run(dir, "xunit-run",
                "-q -m " + std::string(model) + " -i " + (dir / img) + " -o " +
                    (dir / "named.png") + " -y",
                env)
                .status == 0);
    CHECK(read_bytes(dir / "auto.png") == read_bytes(dir / "named.png"));
  }
  // -s picks the super-resolution model (here x4 is a gray model: it runs on each of R, G, B).
  REQUIRE(run(dir, "xunit-run", "-q -s 4 -i " + (dir / "rgb.png") + " -o " + (dir / "big.png"), env)
              .status == 0);
  Image big = xunit::cli::load_image(dir / "big.png");
  CHECK(big.width == 80);
  CHECK(big.height == 48);
  CHECK(run(dir, "xunit-run", "-s 3 -i a -o b").status == 2);
  CHECK(run(dir, "xunit-run", "-m x -s 2 -i a -o b").status == 2);
}

TEST_CASE("cli: noisy test inputs, PSNR/SSIM against references, output formats for folders") {
  TempDir dir;
  const std::string models = make_model_dir(dir);
  const std::string env = "XUNIT_MODEL_DIR=" + models + " ";
  mkdir((dir / "clean").c_str(), 0755);
  xunit::cli::save_image(dir / "clean/a.png", gradient(32, 24, 3, 8), false);
  xunit::cli::save_image(dir / "clean/b.png", gradient(40, 16, 3, 8), false);

  // --add-noise --no-model makes test inputs: reproducible, different per file and per seed.
  REQUIRE(
      run(dir, "xunit-run",
          "-q --add-noise 25 --seed 7 --no-model -i " + (dir / "clean") + " -o " + (dir / "noisy"))
          .status == 0);
  REQUIRE(run(dir, "xunit-run",
              "-q --add-noise 25 --seed 7 --no-model -i " + (dir / "clean/a.png") + " -o " +
                  (dir / "a7.png"))
              .status == 0);
  REQUIRE(run(dir, "xunit-run",
              "-q --add-noise 25 --seed 8 --no-model -i " + (dir / "clean/a.png") + " -o " +
                  (dir / "a8.png"))
              .status == 0);
  CHECK(read_bytes(dir / "noisy/a.png") == read_bytes(dir / "a7.png"));
  CHECK(read_bytes(dir / "a7.png") != read_bytes(dir / "a8.png"));
  const xunit::cli::Quality nq = xunit::cli::measure(xunit::cli::load_image(dir / "noisy/a.png"),
                                                     xunit::cli::load_image(dir / "clean/a.png"));
  CHECK(nq.psnr > 19.0);  // sigma 25 of 255: 20.2 dB before clipping
  CHECK(nq.psnr < 21.5);

  // --psnr with a folder of references: one line per file and the mean; -f sets the format.
  Result r = run(
      dir, "xunit-run",
      "-i " + (dir / "noisy") + " -o " + (dir / "out") + " -f bmp --psnr " + (dir / "clean"), env);
  REQUIRE(r.status == 0);
  CHECK(xunit::file_exists(dir / "out/a.bmp"));
  CHECK(xunit::file_exists(dir / "out/b.bmp"));
  CHECK(r.out.find("a.bmp: PSNR") != std::string::npos);
  CHECK(r.out.find("mean: PSNR") != std::string::npos);
  CHECK(r.err.find('\r') == std::string::npos);  // no progress bar when stderr is not a terminal
  // An image against itself: infinite PSNR, SSIM 1.
  Result same = run(dir, "xunit-run",
                    "--add-noise 0 --no-model -q -i " + (dir / "clean/a.png") + " -o " +
                        (dir / "copy.png") + " --psnr " + (dir / "clean/a.png"));
  CHECK(same.out.find("PSNR inf dB, SSIM 1.0000") != std::string::npos);
  expect_failure(run(dir, "xunit-run", "--no-model -i a -o b"), "--add-noise");
}

TEST_CASE("cli: test-time augmentation averages the 8 symmetries") {
  TempDir dir;
  // A pixel-wise network (1x1 convs only) is exactly equivariant: augmentation changes nothing.
  xunit::synthetic::GraphFactory f(3);
  xunit::Graph g;
  int x = g.add_input("x", 3);
  int h = f.unary(g, xunit::OpType::Relu, f.conv(g, x, 8, 1));
  g.output = f.binary(g, xunit::OpType::Add, f.conv(g, h, 3, 1), x);
  g.validate_and_infer();
  g.metadata["family"] = "test";
  std::vector<uint8_t> bytes = xunit::serialize_model(g, xunit::DType::F32);
  xunit::write_file_atomic(dir / "pointwise.xunit", bytes.data(), bytes.size(), true);
  Image img = gradient(13, 9, 3, 8);
  xunit::cli::save_image(dir / "in.npy", img, false);
  for (const char *tta : {"", "-x"})
    REQUIRE(run(dir, "xunit-run",
                std::string("-q -m ") + (dir / "pointwise.xunit") + " -i " + (dir / "in.npy") +
                    " -o " + (dir / (std::string("out") + tta + ".npy")) + " " + tta)
                .status == 0);
  CHECK(max_diff(xunit::cli::load_image(dir / "out.npy"),
                 xunit::cli::load_image(dir / "out-x.npy")) <= 1e-6f);

  // A real denoiser with a 7x7 gate is not: the augmented result differs, a little.
  REQUIRE(run(dir, "xunit-convert", parity_dir() + "xdncnn_c3_f16_b2/model.pt " + (dir / "m.xunit"))
              .status == 0);
  for (const char *tta : {"", "-x"})
    REQUIRE(run(dir, "xunit-run",
                std::string("-q -m ") + (dir / "m.xunit") + " -i " + (dir / "in.npy") + " -o " +
                    (dir / (std::string("d") + tta + ".npy")) + " " + tta)
                .status == 0);
  const float d =
      max_diff(xunit::cli::load_image(dir / "d.npy"), xunit::cli::load_image(dir / "d-x.npy"));
  CHECK(d > 1e-5f);
  CHECK(d < 0.5f);
  // Super-resolution: the output grid transforms with the input's.
  REQUIRE(
      run(dir, "xunit-convert", parity_dir() + "xsrgan_c3_f16_b2_x2/model.pt " + (dir / "sr.xunit"))
          .status == 0);
  REQUIRE(
      run(dir, "xunit-run",
          "-q -x -m " + (dir / "sr.xunit") + " -i " + (dir / "in.npy") + " -o " + (dir / "sr.npy"))
          .status == 0);
  CHECK(xunit::cli::load_image(dir / "sr.npy").width == 26);
}

TEST_CASE("cli: Ctrl-C in a batch leaves whole files only and exits 130") {
  TempDir dir;
  REQUIRE(run(dir, "xunit-convert", parity_dir() + "xdncnn_c3_f16_b2/model.pt " + (dir / "m.xunit"))
              .status == 0);
  mkdir((dir / "in").c_str(), 0755);
  for (int i = 0; i < 40; ++i)
    xunit::cli::save_image(dir / ("in/" + std::to_string(100 + i) + ".png"),
                           gradient(300, 200, 3, 8), false);
  // Interrupt shortly after the start; the run must stop early, cleanly.
  const std::string cmd = "cd " + dir.path + " && (" + bin_dir() +
                          "xunit-run -q -x -j 1 -m m.xunit -i in -o out & pid=$!; sleep 1.5; kill "
                          "-INT $pid; wait $pid; echo $? > status) 2>/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  CHECK(slurp(dir / "status") == "130\n");
  CHECK(whole_outputs(dir) < 40);  // it did stop
}

TEST_CASE("cli: SRCNN-style models (bicubic-upsampled Y) get the whole pipeline from xunit-run") {
  using xunit::cli::ycbcr_to_rgb;
  // BT.601 studio range round trips; bicubic keeps a constant and a linear ramp (inside).
  for (float r : {0.f, 0.3f, 1.f})
    for (float b : {0.f, 0.7f, 1.f}) {
      const float rgb[3] = {r, 0.5f, b};
      float ycc[3], back[3];
      xunit::cli::rgb_to_ycbcr(rgb, ycc);
      ycbcr_to_rgb(ycc, back);
      for (int c = 0; c < 3; ++c) CHECK(std::abs(back[c] - rgb[c]) < 1e-5f);
    }
  Image ramp{8, 6, 1, 8, std::vector<float>(48)};
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 8; ++x) ramp.pixels[size_t(y) * 8 + x] = 0.1f * x + 0.05f;
  const Image up = xunit::cli::upsample_bicubic(ramp, 3);
  REQUIRE(up.width == 24);
  // Away from the border, bicubic reproduces the ramp at the sample positions (x + 0.5) / 3 - 0.5.
  for (int x = 6; x < 18; ++x)
    CHECK(std::abs(up.pixels[size_t(9) * 24 + x] - (0.1f * ((x + 0.5f) / 3 - 0.5f) + 0.05f)) <
          1e-5f);

  TempDir dir;
  const std::string fx = std::string(XUNIT_TEST_DATA_DIR) + "/parity2018/xsrcnnf_c1_f6-4/";
  REQUIRE(run(dir, "xunit-convert", fx + "model_legacy.pt " + dir / "x2.xunit" + " --set scale=2")
              .status == 0);
  REQUIRE(run(dir, "xunit-convert", fx + "model_legacy.pt " + dir / "noscale.xunit").status == 0);
  REQUIRE(run(dir, "xunit-imgtool", "synth 20 14 " + dir / "rgb.png").status == 0);
  Result r = run(dir, "xunit-run",
                 "-q -m " + dir / "x2.xunit" + " -i " + dir / "rgb.png" + " -o " + dir / "big.png");
  REQUIRE(r.status == 0);
  const Image big = xunit::cli::load_image(dir / "big.png");
  CHECK(big.width == 40);
  CHECK(big.height == 28);
  CHECK(big.channels == 3);
  // The same by hand: the network on Y of the bicubic image (the model via .npy), then RGB.
  const Image small = xunit::cli::load_image(dir / "rgb.png");
  Image y = xunit::cli::upsample_bicubic(small, 2);
  Image yplane{y.width, y.height, 1, 32, std::vector<float>(size_t(y.width) * y.height)};
  for (size_t i = 0; i < yplane.pixels.size(); ++i) {
    float rgb[3], ycc[3];
    for (int c = 0; c < 3; ++c) rgb[c] = std::min(std::max(y.pixels[i * 3 + c], 0.f), 1.f);
    xunit::cli::rgb_to_ycbcr(rgb, ycc);
    yplane.pixels[i] = ycc[0];
  }
  xunit::cli::save_image(dir / "y.npy", yplane, true);
  REQUIRE(run(dir, "xunit-run",
              "-q -m " + dir / "x2.xunit" + " -i " + dir / "y.npy" + " -o " + dir / "ry.npy")
              .status == 0);
  const Image ry = xunit::cli::load_image(dir / "ry.npy");
  int off = 0;
  for (size_t i = 0; i < ry.pixels.size(); ++i) {
    float rgb[3], ycc[3], out[3];
    for (int c = 0; c < 3; ++c) rgb[c] = std::min(std::max(y.pixels[i * 3 + c], 0.f), 1.f);
    xunit::cli::rgb_to_ycbcr(rgb, ycc);
    ycc[0] = ry.pixels[i];
    ycbcr_to_rgb(ycc, out);
    for (int c = 0; c < 3; ++c) {
      const float want = std::min(std::max(out[c], 0.f), 1.f);
      off += std::abs(big.pixels[i * 3 + c] - want) > 0.6f / 255;
    }
  }
  CHECK(off == 0);
  // Gray stays gray; without a recorded scale the model says what to do.
  Image gray{20, 14, 1, 8, std::vector<float>(280, 0.4f)};
  xunit::cli::save_image(dir / "gray.png", gray, true);
  REQUIRE(run(dir, "xunit-run",
              "-q -m " + dir / "x2.xunit" + " -i " + dir / "gray.png" + " -o " + dir / "gbig.png")
              .status == 0);
  CHECK(xunit::cli::load_image(dir / "gbig.png").channels == 1);
  expect_failure(
      run(dir, "xunit-run",
          "-q -m " + dir / "noscale.xunit" + " -i " + dir / "rgb.png" + " -o " + dir / "x.png"),
      "--set scale=N");
  CHECK(!xunit::file_exists(dir / "x.png"));
}

namespace {

// A denoiser converted into `dir` (xdncnn, 3 channels, halo 14 pixels).
std::string make_denoiser(const TempDir &dir) {
  const std::string model = dir / "m.xunit";
  REQUIRE(run(dir, "xunit-convert", parity_dir() + "xdncnn_c3_f16_b2/model.pt " + model).status ==
          0);
  return model;
}

}  // namespace

TEST_CASE("cli: folder outputs that collide, land on an input or exist are refused up front") {
  TempDir dir;
  const std::string model = make_denoiser(dir);
  mkdir((dir / "d").c_str(), 0755);
  xunit::cli::save_image(dir / "d/x.png", gradient(20, 12, 3, 8), false);
  xunit::cli::save_image(dir / "d/x.jpg", gradient(16, 10, 3, 8), false);
  const std::string before = slurp(dir / "d/x.png");
  // x.jpg would become d/x.png, the input x.png: refused before anything is written.
  expect_failure(run(dir, "xunit-run",
                     "-q -y -m " + model + " -i " + (dir / "d") + " -o " + (dir / "d") + " -f png"),
                 "outputs collide: x.jpg and x.png both become " + (dir / "d/x.png"));
  CHECK(slurp(dir / "d/x.png") == before);

  // y.JPG and y.jpg become one y.png: refused, and the output folder is not even made.
  mkdir((dir / "e").c_str(), 0755);
  xunit::cli::save_image(dir / "e/y.jpg", gradient(16, 10, 3, 8), false);
  xunit::cli::save_image(dir / "e/y.JPG", gradient(12, 10, 3, 8), false);
  expect_failure(
      run(dir, "xunit-run",
          "-q -y -m " + model + " -i " + (dir / "e") + " -o " + (dir / "out") + " -f png"),
      "y.JPG and y.jpg both become");
  CHECK(!xunit::file_exists(dir / "out"));
  // -o the input folder itself: every output is its input.
  expect_failure(run(dir, "xunit-run",
                     "-q -y -m " + model + " -i " + (dir / "e") + " -o " + (dir / "e") + "/"),
                 "refusing to write over the inputs");

  // Without -y, an existing output is reported before any file is processed.
  mkdir((dir / "f").c_str(), 0755);
  mkdir((dir / "out2").c_str(), 0755);
  xunit::cli::save_image(dir / "f/a.png", gradient(20, 12, 3, 8), false);
  xunit::cli::save_image(dir / "f/b.png", gradient(20, 12, 3, 8), false);
  std::ofstream(dir / "out2/b.png") << "precious";
  expect_failure(
      run(dir, "xunit-run", "-q -m " + model + " -i " + (dir / "f") + " -o " + (dir / "out2")),
      "output exists (use -y to overwrite): " + (dir / "out2/b.png"));
  CHECK(!xunit::file_exists(dir / "out2/a.png"));
  CHECK(slurp(dir / "out2/b.png") == "precious");
  // A symbolic link to an input is that input.
  REQUIRE(symlink((dir / "f/a.png").c_str(), (dir / "out2/a.png").c_str()) == 0);
  std::remove((dir / "out2/b.png").c_str());
  expect_failure(
      run(dir, "xunit-run", "-q -y -m " + model + " -i " + (dir / "f") + " -o " + (dir / "out2")),
      "refusing to write over the input " + (dir / "f/a.png"));
  CHECK(!xunit::file_exists(dir / "out2/b.png"));
}

TEST_CASE("cli: a read-only output folder is refused with one line before any work") {
  TempDir dir;
  // root may write anywhere: the tool runs as nobody then (the test's files readable to it).
  std::string as_user;
  if (geteuid() == 0) {
    if (std::system("command -v setpriv >/dev/null") != 0) return;
    as_user = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  }
  chmod(dir.path.c_str(), 0755);
  const std::string model = make_denoiser(dir);
  mkdir((dir / "in").c_str(), 0755);
  xunit::cli::save_image(dir / "in/a.png", gradient(20, 12, 3, 8), false);
  xunit::cli::save_image(dir / "in/b.png", gradient(20, 12, 3, 8), false);
  mkdir((dir / "ro").c_str(), 0555);
  chmod((dir / "ro").c_str(), 0555);
  const std::string args = "-m " + model + " -i ";
  expect_failure(run(dir, "xunit-run", args + (dir / "in") + " -o " + (dir / "ro"), as_user),
                 "cannot write to output folder '" + (dir / "ro") + "': Permission denied");
  expect_failure(run(dir, "xunit-run", args + (dir / "in") + " -o " + (dir / "ro/sub"), as_user),
                 "cannot write to '" + (dir / "ro") + "' (to create the output folder");
  expect_failure(
      run(dir, "xunit-run", args + (dir / "in/a.png") + " -o " + (dir / "ro/a.png"), as_user),
      "cannot write to output folder '" + (dir / "ro") + "'");
  chmod((dir / "ro").c_str(), 0755);
  CHECK(!xunit::file_exists(dir / "ro/a.png"));
  CHECK(!xunit::file_exists(dir / "ro/sub"));
}

TEST_CASE("cli: FIFOs are never opened, and SIGTERM stops a batch as Ctrl-C does") {
  TempDir dir;
  make_denoiser(dir);
  mkdir((dir / "in").c_str(), 0755);
  for (int i = 0; i < 40; ++i)
    xunit::cli::save_image(dir / ("in/" + std::to_string(100 + i) + ".png"),
                           gradient(300, 200, 3, 8), false);
  // A FIFO with an image's name, first in the folder: opening it would block for ever.
  REQUIRE(mkfifo((dir / "in/0.png").c_str(), 0644) == 0);
  REQUIRE(mkfifo((dir / "fifo.png").c_str(), 0644) == 0);
  // -i FIFO: one line, at once.
  expect_failure(
      run(dir, "xunit-run",
          "-q -m " + (dir / "m.xunit") + " -i " + (dir / "fifo.png") + " -o " + (dir / "f.png"),
          "timeout -s KILL 20 "),
      "is not a regular file");
  // SIGTERM shortly after the start: the run stops early, cleanly, whole files only (a run
  // still alive 10 s later is killed: status 137).
  const std::string cmd = "cd " + dir.path + " && (" + bin_dir() +
                          "xunit-run -q -x -j 1 -m m.xunit -i in -o out & pid=$!; sleep 1.5; kill "
                          "-TERM $pid; for i in $(seq 100); do kill -0 $pid || break; sleep 0.1; "
                          "done; kill -KILL $pid; wait $pid; echo $? > status) 2>/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  CHECK(slurp(dir / "status") == "130\n");
  CHECK(whole_outputs(dir) < 40);  // it did stop
  CHECK(!xunit::file_exists(dir / "out/0.png"));
}

TEST_CASE("cli: the final count of a folder names what was skipped, and the status says so") {
  TempDir dir;
  const std::string model = make_denoiser(dir);
  mkdir((dir / "in").c_str(), 0755);
  for (const char *n : {"a.png", "b.jpg", "c.bmp"})
    xunit::cli::save_image(dir / "in" + "/" + n, gradient(20, 12, 3, 8), false);
  for (const char *n : {"d.gif", "e.heic", "f.psd", "notes.txt"})
    std::ofstream(dir / "in" + "/" + n) << "not readable here";
  REQUIRE(mkfifo((dir / "in/fifo").c_str(), 0644) == 0);
  REQUIRE(symlink((dir / "nowhere.png").c_str(), (dir / "in/g.png").c_str()) == 0);
  mkdir((dir / "in/sub").c_str(), 0755);  // not recursive: left alone
  std::ofstream(dir / "in/.hidden.png") << "hidden";
  Result r = run(dir, "xunit-run", "-m " + model + " -i " + (dir / "in") + " -o " + (dir / "out"));
  CHECK(r.status == 1);
  CHECK(r.err_lines() == 1);
  CHECK_MESSAGE(r.err.find("3 written to " + (dir / "out")) != std::string::npos, r.err);
  CHECK_MESSAGE(
      r.err.find("6 skipped: d.gif (unsupported format), e.heic (unsupported format), "
                 "f.psd (unsupported format), fifo (not a regular file), g.png (No "
                 "such file or directory) and notes.txt (unsupported format)") != std::string::npos,
      r.err);
  CHECK(xunit::file_exists(dir / "out/c.bmp"));
  // -q keeps the count when files were skipped; a folder of nothing readable is one error.
  r = run(dir, "xunit-run", "-q -y -m " + model + " -i " + (dir / "in") + " -o " + (dir / "out"));
  CHECK(r.status == 1);
  CHECK(r.err.find("6 skipped") != std::string::npos);
  mkdir((dir / "none").c_str(), 0755);
  std::ofstream(dir / "none/x.gif") << "gif";
  expect_failure(
      run(dir, "xunit-run", "-m " + model + " -i " + (dir / "none") + " -o " + (dir / "o2")),
      "no supported images in folder '" + (dir / "none") +
          "' (skipped x.gif (unsupported format))");
  // Everything done: status 0, and -q is silent.
  std::system(("rm -rf '" + (dir / "in") + "'/[d-z]* '" + (dir / "out") + "'").c_str());
  r = run(dir, "xunit-run", "-q -m " + model + " -i " + (dir / "in") + " -o " + (dir / "out"));
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  Result help = run(dir, "xunit-run", "--help");
  CHECK(help.out.find("some files of a folder failed or were skipped") != std::string::npos);
}

TEST_CASE("cli: -o makes a folder with its parents, refuses a file name for a folder; --version") {
  TempDir dir;
  const std::string model = make_denoiser(dir);
  mkdir((dir / "in").c_str(), 0755);
  xunit::cli::save_image(dir / "in/a.png", gradient(20, 12, 3, 8), false);
  Result r =
      run(dir, "xunit-run", "-q -m " + model + " -i " + (dir / "in") + " -o " + (dir / "a/b/c"));
  CHECK(r.status == 0);
  CHECK(xunit::file_exists(dir / "a/b/c/a.png"));
  // A folder in, an image file's name out: refused, nothing made.
  expect_failure(
      run(dir, "xunit-run", "-q -m " + model + " -i " + (dir / "in") + " -o " + (dir / "x.png")),
      "-i is a folder but -o '" + (dir / "x.png") + "' names an image file");
  CHECK(!xunit::file_exists(dir / "x.png"));
  std::ofstream(dir / "file") << "precious";
  expect_failure(
      run(dir, "xunit-run", "-q -m " + model + " -i " + (dir / "in") + " -o " + (dir / "file")),
      "-i is a folder but -o is a file");
  CHECK(slurp(dir / "file") == "precious");
  // A bad model is found before the folder is made.
  expect_failure(
      run(dir, "xunit-run",
          "-q -m " + (dir / "in/a.png") + " -i " + (dir / "in") + " -o " + (dir / "d/e")),
      "not a .xunit model");
  CHECK(!xunit::file_exists(dir / "d"));
  // A trailing slash says it is meant as a folder.
  CHECK(run(dir, "xunit-run", "-q -m " + model + " -i " + (dir / "in") + " -o " + (dir / "y.png/"))
            .status == 0);
  CHECK(xunit::file_exists(dir / "y.png/a.png"));

  Result v = run(dir, "xunit-run", "--version");
  CHECK(v.status == 0);
  CHECK(v.out == std::string("xunit-run ") + xunit_version() + "\n");
  CHECK(run(dir, "xunit-run", "--help").out.find("--version") != std::string::npos);
}

TEST_CASE("cli: a stripe width narrower than the model's halo is a warning, and the run goes on") {
  TempDir dir;
  const std::string model = make_denoiser(dir);  // halo 14 pixels
  xunit::cli::save_image(dir / "a.png", gradient(40, 12, 3, 8), false);
  const std::string args = "-m " + model + " -i " + (dir / "a.png") + " -o ";
  Result r = run(dir, "xunit-run", args + (dir / "t4.png") + " -t 4");
  CHECK(r.status == 0);
  CHECK(r.err_lines() == 1);
  CHECK_MESSAGE(
      r.err.find("warning: -t 4 is narrower than the model's receptive field (halo) of 14 "
                 "pixels: each stripe computes 32 columns to produce 4") != std::string::npos,
      r.err);
  REQUIRE(run(dir, "xunit-run", args + (dir / "t0.png") + " -t 0").status == 0);
  CHECK(slurp(dir / "t4.png") == slurp(dir / "t0.png"));  // the same result, only slower
  // Wide enough, automatic, or -q: no warning.
  for (const char *opts : {"-t 14", "", "-q -t 4"}) {
    CAPTURE(opts);
    r = run(dir, "xunit-run", "-y " + args + (dir / "o.png") + " " + opts);
    CHECK(r.status == 0);
    CHECK(r.err.empty());
  }
}

namespace {

using xunit::testing::exif_tag;

// A JPEG as a phone writes it: EXIF with an orientation (and pixel dimensions), an ICC profile.
void write_phone_jpeg(const std::string &path, const Image &stored, int orientation,
                      const std::vector<uint8_t> &icc) {
  Image img = stored;
  img.icc = icc;
  xunit::cli::save_image(path + ".tmp.jpg", img, false);
  const std::vector<uint8_t> jpeg = xunit::read_file(path + ".tmp.jpg");
  std::remove((path + ".tmp.jpg").c_str());
  const std::vector<uint8_t> file = xunit::testing::with_exif_segment(
      jpeg, xunit::testing::make_exif(orientation, uint32_t(img.width), uint32_t(img.height)));
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char *>(file.data()), std::streamsize(file.size()));
}

}  // namespace

TEST_CASE("cli: photos come out upright with their EXIF and ICC, gray stays gray, any size") {
  TempDir dir;
  const std::string model = make_denoiser(dir);
  const std::string sr = dir / "sr.xunit";
  REQUIRE(run(dir, "xunit-convert", parity_dir() + "xsrgan_c1_f16_b1_x4/model.pt " + sr).status ==
          0);
  const std::vector<uint8_t> icc = xunit::testing::make_icc(400, false);
  mkdir((dir / "in").c_str(), 0755);
  write_phone_jpeg(dir / "in/rot6.jpg", gradient(24, 16, 3, 8), 6, icc);     // turned
  write_phone_jpeg(dir / "in/mirror5.jpg", gradient(24, 16, 3, 8), 5, icc);  // transposed
  Image gray = gradient(24, 16, 1, 8);
  xunit::cli::save_image(dir / "in/gray.jpg", gray, false);

  // A folder, in the inputs' formats: upright, orientation 1, true dimensions, ICC kept, gray
  // JPEG still gray. Then into PNG (eXIf, iCCP).
  for (const char *format : {"", " -f png"}) {
    CAPTURE(format);
    const std::string out = dir / (std::string("out") + (*format ? "_png" : ""));
    Result r =
        run(dir, "xunit-run", "-q -m " + model + " -i " + (dir / "in") + " -o " + out + format);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const std::string ext = *format ? ".png" : ".jpg";
    for (const char *name : {"rot6", "mirror5"}) {
      CAPTURE(name);
      const Image o = xunit::cli::load_image(out + "/" + name + ext);
      CHECK(o.width == 16);
      CHECK(o.height == 24);
      CHECK(o.icc == icc);
      CHECK(exif_tag(o.exif, 0, 0x0112) == 1);
      CHECK(exif_tag(o.exif, 1, 0xa002) == 16);
      CHECK(exif_tag(o.exif, 1, 0xa003) == 24);
    }
    CHECK(xunit::cli::load_image(out + "/gray" + ext).channels == 1);
  }
  // Super-resolution: the carried EXIF gives the new size.
  REQUIRE(run(dir, "xunit-run",
              "-q -m " + sr + " -i " + (dir / "in/rot6.jpg") + " -o " + (dir / "big.jpg"))
              .status == 0);
  const Image big = xunit::cli::load_image(dir / "big.jpg");
  CHECK(big.width == 64);
  CHECK(big.height == 96);
  CHECK(exif_tag(big.exif, 1, 0xa002) == 64);
  CHECK(exif_tag(big.exif, 1, 0xa003) == 96);
  CHECK(big.icc == icc);
}

TEST_CASE("cli: WebP and 16-bit TIFF in and out, --quality, and broken files of each format") {
  TempDir dir;
  const std::string model = make_denoiser(dir);
  const std::string pass = "-q --add-noise 0 --no-model -i ";  // the image as read, written
  // WebP: lossless by default (RGBA exactly), lossy and smaller with --quality.
  xunit::cli::save_image(dir / "rgba.png", gradient(30, 20, 4, 8), false);
  REQUIRE(run(dir, "xunit-run", pass + (dir / "rgba.png") + " -o " + (dir / "l.webp")).status == 0);
  CHECK(max_diff(xunit::cli::load_image(dir / "l.webp"),
                 xunit::cli::load_image(dir / "rgba.png")) == 0.f);
  Image photo = gradient(64, 48, 3, 8);  // smooth, with grain: what lossy coding is for
  for (size_t i = 0; i < photo.pixels.size(); ++i)
    photo.pixels[i] =
        float(std::lround(
            (0.5 + 0.3 * std::sin(0.01 * double(i)) + 0.05 * ((i * 7919) % 11) / 11.) * 255)) /
        255.f;
  xunit::cli::save_image(dir / "photo.png", photo, false);
  for (const char *q : {"", " --quality 60"})
    REQUIRE(run(dir, "xunit-run",
                pass + (dir / "photo.png") + " -o " + (dir / "p") + (*q ? "60" : "") + ".webp" + q)
                .status == 0);
  CHECK(slurp(dir / "p60.webp").size() < slurp(dir / "p.webp").size() / 2);
  CHECK(max_diff(xunit::cli::load_image(dir / "p.webp"), photo) == 0.f);
  const Image lossy = xunit::cli::load_image(dir / "p60.webp");
  double err = 0;
  for (size_t i = 0; i < photo.pixels.size(); ++i)
    err += std::abs(lossy.pixels[i] - photo.pixels[i]);
  CHECK(err / double(photo.pixels.size()) < 0.03);
  REQUIRE(run(dir, "xunit-run",
              "-q -m " + model + " -i " + (dir / "l.webp") + " -o " + (dir / "d.webp"))
              .status == 0);
  CHECK(xunit::cli::load_image(dir / "d.webp").channels == 4);

  // 16-bit TIFF: the values through unchanged, and a restored 16-bit TIFF out.
  xunit::cli::save_image(dir / "in16.tif", gradient(30, 20, 3, 16), false);
  REQUIRE(run(dir, "xunit-run", pass + (dir / "in16.tif") + " -o " + (dir / "out16.tif")).status ==
          0);
  const Image t16 = xunit::cli::load_image(dir / "out16.tif");
  CHECK(t16.bits == 16);
  CHECK(max_diff(t16, xunit::cli::load_image(dir / "in16.tif")) == 0.f);
  REQUIRE(run(dir, "xunit-run",
              "-q -m " + model + " -i " + (dir / "in16.tif") + " -o " + (dir / "d16.tiff"))
              .status == 0);
  CHECK(xunit::cli::load_image(dir / "d16.tiff").bits == 16);

  // PNG: the same pixels at every --png-compression, smaller at 9 than at the default 1, and
  // stored uncompressed at 0.
  const std::pair<const char *, const char *> levels[] = {
      {"z.png", ""}, {"z0.png", " --png-compression 0"}, {"z9.png", " --png-compression 9"}};
  for (const auto &[name, option] : levels) {
    REQUIRE(
        run(dir, "xunit-run", pass + (dir / "photo.png") + " -o " + (dir / name) + option).status ==
        0);
    CHECK(max_diff(xunit::cli::load_image(dir / name), photo) == 0.f);
  }
  const std::string z_default = dir / "z.png", z0 = dir / "z0.png", z9 = dir / "z9.png";
  CHECK(slurp(z9).size() < slurp(z_default).size());
  CHECK(slurp(z0).size() > photo.pixels.size());  // 64 x 48 x 3 bytes and more
  for (const char *level : {"-1", "10", "fast"}) {
    CAPTURE(level);
    Result r =
        run(dir, "xunit-run",
            pass + (dir / "photo.png") + " -o " + (dir / "x.png") + " --png-compression " + level);
    CHECK(r.status == 2);
    expect_failure(r, "--png-compression: expected an integer in [0, 9]");
  }
  CHECK(!xunit::file_exists(dir / "x.png"));

  // --quality is checked as usage.
  for (const char *q : {"0", "101", "high"}) {
    CAPTURE(q);
    Result r = run(dir, "xunit-run",
                   pass + (dir / "rgba.png") + " -o " + (dir / "x.jpg") + " --quality " + q);
    CHECK(r.status == 2);
    expect_failure(r, "--quality: expected an integer in [1, 100]");
  }
  CHECK(!xunit::file_exists(dir / "x.jpg"));

  // A truncated file of each format: one line naming the format, no output.
  const std::pair<const char *, const char *> formats[] = {
      {"jpg", "JPEG"}, {"png", "PNG"}, {"webp", "WebP"}, {"tif", "TIFF"}};
  for (auto [ext, name] : formats) {
    CAPTURE(ext);
    const std::string full = dir / (std::string("full.") + ext),
                      cut = dir / (std::string("cut.") + ext);
    xunit::cli::save_image(full, gradient(30, 20, 3, 8), false);
    const std::string bytes = slurp(full);
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    expect_failure(run(dir, "xunit-run", "-m " + model + " -i " + cut + " -o " + (dir / "o.png")),
                   std::string("corrupt or truncated ") + name + " data");
    CHECK(!xunit::file_exists(dir / "o.png"));
  }
}

TEST_CASE("cli: text from files and paths is printed escaped, never raw terminal controls") {
  // A metadata title or a file name with escape sequences reached the terminal raw (issue 17,
  // row 13): ESC [2J clears the screen, ESC ]0;...BEL retitles the window.
  TempDir dir;
  xunit::Graph g = xunit::synthetic::GraphFactory(3).xdncnn(1, 4, 1);
  g.metadata["title"] = "clear\x1b[2Jscreen";
  g.metadata["family"] = "xdncnn\x1b[31m";
  g.metadata["training"] = "bad utf-8 \xff\xc3(";
  const std::vector<uint8_t> bytes = xunit::serialize_model(g, xunit::DType::F32);
  const std::string name = dir / "m\x1b]0;x\x07.xunit";
  xunit::write_file_atomic(name, bytes.data(), bytes.size(), false);
  auto raw_controls = [](const std::string &s) {
    return s.find('\x1b') != std::string::npos || s.find('\x07') != std::string::npos ||
           s.find('\xff') != std::string::npos;
  };

  Result info = run(dir, "xunit-run", "--info '" + name + "'");
  CHECK(info.status == 0);
  CHECK_MESSAGE(!raw_controls(info.out), info.out);
  CHECK(info.out.find("clear\\x1b[2Jscreen") != std::string::npos);
  CHECK(info.out.find("\\x1b]0;x\\x07") != std::string::npos);

  Result missing = run(dir, "xunit-run", "--info '" + (dir / "no\x1b]0;x\x07") + "'");
  expect_failure(missing, "no model");
  CHECK_MESSAGE(!raw_controls(missing.err), missing.err);

  std::vector<uint8_t> damaged = bytes;
  damaged[damaged.size() / 2] ^= 1;
  const std::string bad = dir / "bad\x1b]0;x\x07.xunit";
  xunit::write_file_atomic(bad, damaged.data(), damaged.size(), false);
  Result refused = run(dir, "xunit-run", "--info '" + bad + "'");
  expect_failure(refused, "checksum");
  CHECK_MESSAGE(!raw_controls(refused.err), refused.err);

  Result convert =
      run(dir, "xunit-convert", "'" + (dir / "ckpt\x1b[2J.pt") + "' '" + (dir / "out.xunit") + "'");
  CHECK(convert.status != 0);
  CHECK_MESSAGE(!raw_controls(convert.err), convert.err);
}

TEST_CASE("printable: controls and invalid UTF-8 are escaped, valid UTF-8 is kept") {
  using xunit::printable;
  CHECK(printable("plain text, 100%") == "plain text, 100%");
  CHECK(printable("a\x1b[2Jb\x07\n\t\x7f") == "a\\x1b[2Jb\\x07\\x0a\\x09\\x7f");
  CHECK(printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK(printable("\xc2\x9b"
                  "31m") == "\\xc2\\x9b31m");              // C1 CSI
  CHECK(printable("\xff\xc3(\xe0\x80\x80\xed\xa0\x80") ==  // invalid, overlong, surrogate
        "\\xff\\xc3(\\xe0\\x80\\x80\\xed\\xa0\\x80");
  CHECK(printable("\xe2\x82") == "\\xe2\\x82");                // cut short
  CHECK(printable(printable("x\x1b")) == printable("x\x1b"));  // idempotent
  CHECK(printable(std::string(300, 'a'), 200) == std::string(200, 'a') + "...");
  CHECK(printable(std::string("a\0b", 3)) == "a\\x00b");
}

namespace {

// The shipped denoisers as a model folder: xdncnn-color and xdncnn-gray (tiny fixtures; blind
// ones unless others are named).
std::string make_denoiser_dir(const TempDir &dir, const std::string &folder = "models",
                              const char *color = "xdncnn_c3_f16_b2",
                              const char *gray = "xdncnn_c1_f24_b3") {
  const std::string models = dir / folder;
  mkdir(models.c_str(), 0755);
  for (auto [fixture, name] : {std::pair{color, "xdncnn-color"}, std::pair{gray, "xdncnn-gray"}})
    REQUIRE(run(dir, "xunit-convert",
                parity_dir() + fixture + "/model.pt " + models + "/" + name + ".xunit")
                .status == 0);
  return models;
}

// A gray image with texture and noise (so that the two denoisers give different results).
Image noisy_gray(int w, int h, int channels) {
  Image img;
  img.width = w, img.height = h, img.channels = channels;
  uint32_t state = 12345;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      state = state * 1664525u + 1013904223u;
      const float v = float((x * 9 + y * 5) % 200 + 20 + int(state >> 27)) / 255.f;
      for (int c = 0; c < channels; ++c) img.pixels.push_back(v);
    }
  return img;
}

}  // namespace

TEST_CASE("gray_content: equal channels within JPEG's rounding and without a tint") {
  using xunit::cli::gray_content;
  Image rgb = noisy_gray(16, 8, 3);
  CHECK(gray_content(rgb));
  CHECK(!gray_content(noisy_gray(16, 8, 1)));  // a gray file is gray by its channels already
  Image jitter = rgb;                          // +-2 levels, no bias: JPEG's chroma rounding
  for (size_t i = 0; i < jitter.pixels.size(); i += 3)
    jitter.pixels[i] += (i / 3 % 2 ? 2.f : -2.f) / 255.f;
  CHECK(gray_content(jitter));
  Image wide = rgb;  // one pixel 3 levels apart
  wide.pixels[30] += 3.f / 255.f;
  CHECK(!gray_content(wide));
  Image tint = rgb;  // a uniform tint of one level: a color photo
  for (size_t i = 0; i < tint.pixels.size(); i += 3) tint.pixels[i] += 1.f / 255.f;
  CHECK(!gray_content(tint));
  Image npy = rgb;
  npy.bits = 32;
  CHECK(!gray_content(npy));  // .npy arrays are never adapted
}

TEST_CASE("cli: gray content in an RGB file runs with the gray denoiser, and the log says so") {
  TempDir dir;
  const std::string models = make_denoiser_dir(dir);
  const std::string env = "XUNIT_MODEL_DIR=" + models + " ";
  xunit::cli::save_image(dir / "gray.png", noisy_gray(24, 16, 1), false);
  xunit::cli::save_image(dir / "grayrgb.png", noisy_gray(24, 16, 3), false);
  xunit::cli::save_image(dir / "grayrgb.jpg", noisy_gray(24, 16, 3), false);
  Image tinted = noisy_gray(24, 16, 3);
  for (size_t i = 0; i < tinted.pixels.size(); i += 3) tinted.pixels[i] += 1.f / 255.f;
  xunit::cli::save_image(dir / "tinted.png", tinted, false);
  auto go = [&](const std::string &args, const std::string &out) {
    Result r = run(dir, "xunit-run", args + " -o " + (dir / out), env);
    CHECK_MESSAGE(r.status == 0, r.err);
    return r;
  };

  go("-q -i " + (dir / "gray.png"), "gray_out.png");
  const Image g = xunit::cli::load_image(dir / "gray_out.png");
  // Without -m: the gray denoiser, said once; written as RGB, each channel the gray file's result.
  Result r = go("-i " + (dir / "grayrgb.png"), "auto.png");
  CHECK(r.err_lines() == 1);
  CHECK_MESSAGE(r.err.find("gray content in a color file: denoised with xdncnn-gray (written as "
                           "color)") != std::string::npos,
                r.err);
  const Image a = xunit::cli::load_image(dir / "auto.png");
  REQUIRE(a.channels == 3);
  bool same = true;
  for (size_t i = 0; i < g.pixels.size(); ++i)
    for (int c = 0; c < 3; ++c) same &= a.pixels[i * 3 + c] == g.pixels[i];
  CHECK(same);
  // A JPEG of it too (its chroma rounding stays within the tolerance); -q keeps the log quiet.
  r = go("-i " + (dir / "grayrgb.jpg"), "jpg_out.png");
  CHECK(r.err.find("gray content") != std::string::npos);
  CHECK(go("-q -i " + (dir / "grayrgb.jpg"), "jpg_q.png").err.empty());
  // The shipped color denoiser named: switched, and said; by its file's path: run as given.
  r = go("-m xdncnn-color -i " + (dir / "grayrgb.png"), "named.png");
  CHECK(r.err.find("gray content: denoised with xdncnn-gray instead of xdncnn-color") !=
        std::string::npos);
  CHECK(slurp(dir / "named.png") == slurp(dir / "auto.png"));
  r = go("-m " + models + "/xdncnn-color.xunit -i " + (dir / "grayrgb.png"), "forced.png");
  CHECK(r.err.empty());
  CHECK(slurp(dir / "forced.png") != slurp(dir / "auto.png"));
  // ... and the reverse: the gray one named for a color image.
  r = go("-m xdncnn-gray -i " + (dir / "tinted.png"), "reverse.png");
  CHECK(r.err.find("color content: denoised with xdncnn-color instead of xdncnn-gray") !=
        std::string::npos);
  // A tint of one level is color: the color denoiser, nothing said.
  r = go("-i " + (dir / "tinted.png"), "tinted_out.png");
  CHECK(r.err.empty());
  CHECK(slurp(dir / "tinted_out.png") == slurp(dir / "reverse.png"));
  // A gray model given by its path on gray content: one run, written as RGB of equal channels.
  go("-q -m " + models + "/xdncnn-gray.xunit -i " + (dir / "grayrgb.png"), "path_gray.png");
  CHECK(slurp(dir / "path_gray.png") == slurp(dir / "auto.png"));
}

TEST_CASE("cli: --sigma: auto by default, a number only for a noise-conditioned model") {
  TempDir dir;
  const std::string models = make_denoiser_dir(dir);
  const std::string env = "XUNIT_MODEL_DIR=" + models + " ";
  xunit::cli::save_image(dir / "in.png", gradient(24, 16, 3, 8), false);  // color content
  const std::string in = dir / "in.png", out = dir / "out.png";
  // Blind models (these fixtures): auto is silently fine and runs as without --sigma.
  Result r = run(dir, "xunit-run", "-i " + in + " -o " + out + " --sigma auto", env);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(r.err.empty());
  CHECK(run(dir, "xunit-run", "-q -i " + in + " -o " + (dir / "plain.png"), env).status == 0);
  CHECK(slurp(out) == slurp(dir / "plain.png"));
  // A number for a blind model: one line naming it, before any work, nothing written.
  expect_failure(
      run(dir, "xunit-run", "-i " + in + " -o " + (dir / "n.png") + " --sigma 10", env),
      "--sigma 10: xdncnn-color takes no noise level (a blind model): leave --sigma auto");
  expect_failure(run(dir, "xunit-run",
                     "-m " + models + "/xdncnn-gray.xunit -i " + in + " -o " + (dir / "n.png") +
                         " --sigma 2.5",
                     env),
                 "--sigma 2.5: xdncnn-gray takes no noise level");
  expect_failure(
      run(dir, "xunit-run", "-i " + dir.path + " -o " + (dir / "outs") + " --sigma 0", env),
      "--sigma 0: xdncnn-color");
  CHECK(!xunit::file_exists(dir / "n.png"));
  CHECK(!xunit::file_exists(dir / "outs"));
  // Bad values are usage errors (status 2).
  for (const char *bad : {"-1", "256", "nan", "inf", "10x", "", "AUTO"}) {
    CAPTURE(bad);
    Result u = run(dir, "xunit-run",
                   "-i " + in + " -o " + (dir / "n.png") + " --sigma '" + bad + "'", env);
    CHECK(u.status == 2);
    CHECK(u.err.find("--sigma: expected auto or a noise level in [0, 255]") != std::string::npos);
  }
  expect_failure(run(dir, "xunit-run",
                     "--add-noise 5 --no-model --sigma 5 -i " + in + " -o " + (dir / "n.png")),
                 "--no-model runs no model: drop -m, -s, -x and --sigma");
  CHECK(run(dir, "xunit-run", "--help").out.find("--sigma auto|N") != std::string::npos);

  // Denoisers conditioned on the noise level (the parity fixtures, as the shipped pair): the
  // level is estimated once per image on what the model runs on and said in its log line, or
  // given; the output is the C API's at that level.
  const std::string nm = make_denoiser_dir(dir, "nm", "xdncnn_nm_c3_f16_b2", "xdncnn_nm_c1_f16_b1");
  const std::string nm_env = "XUNIT_MODEL_DIR=" + nm + " ";
  Image noisy = gradient(40, 32, 3, 8);
  uint32_t state = 7;
  for (float &v : noisy.pixels) {  // +-12 levels of uniform noise: sigma about 7
    state = state * 1664525u + 1013904223u;
    v = std::clamp(v + (float(state >> 8) / float(1 << 24) - 0.5f) * 24.f / 255.f, 0.f, 1.f);
  }
  xunit::cli::save_image(dir / "noisy.png", noisy, false);
  const Image read = xunit::cli::load_image(dir / "noisy.png");
  xunit_image img{read.width,
                  read.height,
                  3,
                  XUNIT_PIXEL_F32,
                  size_t(read.width) * 3 * 4,
                  const_cast<float *>(read.pixels.data())};
  float level = 0;
  REQUIRE(xunit_estimate_noise_level(&img, &level) == XUNIT_OK);
  CHECK(level > 3.f);
  char said[64];
  std::snprintf(said, sizeof said, "xunit-run: sigma %.1f (estimated)\n", double(level));
  r = run(dir, "xunit-run", "-i " + (dir / "noisy.png") + " -o " + (dir / "c1.png"), nm_env);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(r.err == said);
  r = run(dir, "xunit-run", "-i " + (dir / "noisy.png") + " -o " + (dir / "c2.png") + " --sigma 10",
          nm_env);
  CHECK(r.err == "xunit-run: sigma 10 (given)\n");
  CHECK(slurp(dir / "c1.png") != slurp(dir / "c2.png"));  // the level matters
  // The output is the model run at that level (the C API's FIXED).
  xunit_model *cm = nullptr;
  REQUIRE(xunit_model_load((nm + "/xdncnn-color.xunit").c_str(), &cm) == XUNIT_OK);
  std::vector<float> result(read.pixels.size());
  xunit_image outimg = img;
  outimg.data = result.data();
  xunit_run_options ro;
  xunit_run_options_init(&ro);
  ro.noise_level_mode = XUNIT_NOISE_LEVEL_FIXED;
  ro.noise_level = level;
  REQUIRE(xunit_run(cm, &ro, &img, &outimg) == XUNIT_OK);
  xunit_model_free(cm);
  Image expected = read;
  expected.pixels = result;
  xunit::cli::save_image(dir / "expected.png", expected, false);
  CHECK(slurp(dir / "c1.png") == slurp(dir / "expected.png"));
  // The same noisy image as a 4:2:0 JPEG (quality 85): estimated by its luma, and said so.
  xunit::cli::SaveOptions q85;
  q85.quality = 85;
  xunit::cli::save_image(dir / "noisy.jpg", noisy, false, q85);
  const Image jpeg = xunit::cli::load_image(dir / "noisy.jpg");
  REQUIRE(jpeg.chroma_subsampled);
  REQUIRE(jpeg.channels == 3);
  const xunit_image jimg{jpeg.width,
                         jpeg.height,
                         3,
                         XUNIT_PIXEL_F32,
                         size_t(jpeg.width) * 3 * 4,
                         const_cast<float *>(jpeg.pixels.data())};
  REQUIRE(xunit_estimate_noise_level_stored(&jimg, XUNIT_CHROMA_SUBSAMPLED, &level) == XUNIT_OK);
  char said_jpeg[96];
  std::snprintf(said_jpeg, sizeof said_jpeg,
                "xunit-run: sigma %.1f (estimated; the file's chroma is subsampled)\n",
                double(level));
  r = run(dir, "xunit-run", "-i " + (dir / "noisy.jpg") + " -o " + (dir / "cj.png"), nm_env);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(r.err == said_jpeg);
  // TTA: one level for the 8 runs; gray content: the gray model, the level of the gray image,
  // said with the switch; a folder names each image; -q says nothing.
  r = run(dir, "xunit-run", "-x -i " + (dir / "noisy.png") + " -o " + (dir / "c3.png"), nm_env);
  CHECK(r.err == said);
  Image gray = read;
  for (size_t i = 0; i < gray.pixels.size(); i += 3)
    gray.pixels[i + 1] = gray.pixels[i + 2] = gray.pixels[i];
  xunit::cli::save_image(dir / "grayrgb.png", gray, false);
  r = run(dir, "xunit-run", "-i " + (dir / "grayrgb.png") + " -o " + (dir / "c4.png"), nm_env);
  CHECK_MESSAGE(r.err.find("xunit-run: gray content in a color file: denoised with xdncnn-gray "
                           "(written as color); sigma ") == 0,
                r.err);
  CHECK(r.err_lines() == 1);
  mkdir((dir / "in").c_str(), 0755);
  xunit::cli::save_image(dir / "in/a.png", noisy, false);
  r = run(dir, "xunit-run", "-i " + (dir / "in") + " -o " + (dir / "out") + " --sigma 3", nm_env);
  CHECK_MESSAGE(r.err.find("xunit-run: a.png: sigma 3 (given)\n") == 0, r.err);
  CHECK(run(dir, "xunit-run", "-q -i " + (dir / "noisy.png") + " -o " + (dir / "c5.png"), nm_env)
            .err.empty());
}

TEST_CASE("cli: --psnr finds references by stem and scores the file as written") {
  TempDir dir;
  const std::string model = make_denoiser(dir);
  mkdir((dir / "clean").c_str(), 0755);
  mkdir((dir / "noisy").c_str(), 0755);
  xunit::cli::save_image(dir / "clean/a.png", gradient(24, 16, 3, 8), false);
  xunit::cli::save_image(dir / "clean/b.png", gradient(20, 12, 3, 8), false);
  Image na = gradient(24, 16, 3, 8), nb = gradient(20, 12, 3, 8);
  for (size_t i = 0; i < na.pixels.size(); ++i) na.pixels[i] += (i % 7 - 3.f) / 255.f;
  for (size_t i = 0; i < nb.pixels.size(); ++i) nb.pixels[i] += (i % 5 - 2.f) / 255.f;
  xunit::cli::save_image(dir / "noisy/a.jpg", na, false);
  xunit::cli::save_image(dir / "noisy/b.bmp", nb, false);

  // x.jpg finds clean/x.png; the PSNR printed is that of the JPEG read back.
  Result r = run(dir, "xunit-run",
                 "-q -m " + model + " -i " + (dir / "noisy") + " -o " + (dir / "out") +
                     " -f jpg --psnr " + (dir / "clean"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  for (const char *n : {"a", "b"}) {
    CAPTURE(n);
    const xunit::cli::Quality q =
        xunit::cli::measure(xunit::cli::load_image(dir / "out/" + n + ".jpg"),
                            xunit::cli::load_image(dir / "clean/" + n + ".png"));
    char line[128];
    std::snprintf(line, sizeof line, "%s.jpg: PSNR %.2f dB, SSIM %.4f", n, q.psnr, q.ssim);
    CHECK_MESSAGE(r.out.find(line) != std::string::npos, r.out);
  }
  CHECK(r.out.find("mean: PSNR") != std::string::npos);
  // Several references for one stem, or none: refused before any work, naming them.
  xunit::cli::save_image(dir / "clean/a.bmp", gradient(24, 16, 3, 8), false);
  r = run(dir, "xunit-run",
          "-m " + model + " -i " + (dir / "noisy") + " -o " + (dir / "out2") + " --psnr " +
              (dir / "clean"));
  expect_failure(r, "ambiguous reference for a.jpg in " + (dir / "clean") + ": a.bmp and a.png");
  CHECK(!xunit::file_exists(dir / "out2"));
  std::remove((dir / "clean/a.bmp").c_str());
  std::remove((dir / "clean/b.png").c_str());
  r = run(dir, "xunit-run",
          "-m " + model + " -i " + (dir / "noisy") + " -o " + (dir / "out2") + " --psnr " +
              (dir / "clean"));
  expect_failure(r, "no reference for b.bmp in " + (dir / "clean"));
  CHECK(!xunit::file_exists(dir / "out2"));
  r = run(dir, "xunit-run",
          "-m " + model + " -i " + (dir / "noisy") + " -o " + (dir / "out2") + " --psnr " +
              (dir / "nowhere"));
  expect_failure(r, "--psnr: no such file or folder");
  CHECK(!xunit::file_exists(dir / "out2"));
  // The same name wins over the stem; a reference of another size: written, not scored, status 1.
  xunit::cli::save_image(dir / "clean/b.bmp", gradient(9, 9, 3, 8), false);
  xunit::cli::save_image(dir / "clean/b.png", gradient(20, 12, 3, 8), false);
  r = run(dir, "xunit-run",
          "-m " + model + " -i " + (dir / "noisy") + " -o " + (dir / "out3") + " --psnr " +
              (dir / "clean"));
  CHECK(r.status == 1);
  CHECK(r.err.find("b.bmp: --psnr: reference is 9x9, the image 20x12") != std::string::npos);
  CHECK(r.err.find("2 written to " + (dir / "out3")) != std::string::npos);
  CHECK(r.err.find("1 not scored") != std::string::npos);
  CHECK(xunit::file_exists(dir / "out3/b.bmp"));
}

namespace {

// Runs `command` with its stderr on a pseudo-terminal `columns` wide (0: a size unknown to
// TIOCGWINSZ) and returns everything written there.
std::string run_on_terminal(const std::string &command, int columns) {
  int master = -1, slave = -1;
  winsize ws{};
  ws.ws_row = 24;
  ws.ws_col = static_cast<unsigned short>(columns);
  REQUIRE(openpty(&master, &slave, nullptr, nullptr, &ws) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(master);
    dup2(slave, STDERR_FILENO);
    close(slave);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  close(slave);
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the child's side is closed
    text.append(buf, size_t(n));
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  return text;
}

// The widest stretch of `text` between line starts (\r or \n), escape sequences not counted;
// and how many \n it holds.
int widest_line(const std::string &text, int *newlines) {
  int widest = 0, width = 0;
  *newlines = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' || text[i] == '\n') {
      *newlines += text[i] == '\n';
      width = 0;
    } else if (text[i] == '\x1b') {
      while (i < text.size() && !std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      widest = std::max(widest, ++width);
    }
  }
  return widest;
}

}  // namespace

TEST_CASE("progress_line: fits the width, shortens the name in the middle, never breaks UTF-8") {
  using xunit::cli::progress_line;
  const std::string name = "IMG_20230401_holiday_at_the_seaside_with_the_family_0001.jpg";
  CHECK(progress_line(0, 1, "a.png", 0.5f, 80) ==
        "[###############---------------]  50%  1/1 a.png");
  for (int columns : {200, 80, 60, 40, 30, 20, 12, 5, 1}) {
    CAPTURE(columns);
    const std::string line = progress_line(2, 12, name, 0.25f, columns);
    int newlines = 0;
    CHECK(widest_line(line, &newlines) <= std::max(columns - 1, 1));
    CHECK(newlines == 0);
    if (columns >= 40) {
      CHECK(line.find(" 3/12 ") != std::string::npos);
      CHECK(line.find("IMG_") != std::string::npos);
      CHECK(line.substr(line.size() - 4) == ".jpg");  // head and tail of the name kept
    }
  }
  CHECK(progress_line(2, 12, name, 0.25f, 200).find(name) != std::string::npos);
  CHECK(progress_line(0, 3, "x", 0.f, 40).find('[') != std::string::npos);
  // Non-ASCII names count two cells a character and are cut between characters.
  std::string wide;
  for (int i = 0; i < 40; ++i) wide += "\xe5\x86\x99";  // U+5199
  const std::string line = progress_line(0, 1, wide + ".png", 0.f, 50);
  CHECK(line.find("...") != std::string::npos);
  CHECK(xunit::printable(line) == line);  // whole UTF-8 characters only
  int cells = 0;
  for (unsigned char c : line) cells += (c & 0xC0) == 0x80 ? 0 : c < 0x80 ? 1 : 2;
  CHECK(cells <= 49);
  // Control characters in a name are escaped, not sent to the terminal.
  CHECK(progress_line(0, 1, "a\x1b[2J.png", 0.f, 80).find('\x1b') == std::string::npos);
}

TEST_CASE("cli: the progress bar fits the terminal, redraws in place, and is absent off one") {
  TempDir dir;
  const std::string model = make_denoiser(dir);
  mkdir((dir / "in").c_str(), 0755);
  const std::string long_name = "a_photo_with_a_really_quite_long_file_name_from_a_camera_";
  for (int i = 0; i < 3; ++i)
    xunit::cli::save_image(dir / ("in/" + long_name + std::to_string(i) + ".png"),
                           gradient(40, 30, 3, 8), false);
  const std::string cmd =
      bin_dir() + "xunit-run -m " + model + " -i " + (dir / "in") + " -o " + (dir / "out") + " -y";
  for (auto [columns, env] : {std::pair{50, ""}, std::pair{0, "COLUMNS=40 "}}) {
    CAPTURE(columns);
    const std::string text = run_on_terminal(env + cmd, columns);
    int newlines = 0;
    const int widest = widest_line(text, &newlines);
    // Every redraw within the width (the final count, a line of its own, aside).
    const size_t last = text.rfind("xunit-run: 3 written");
    REQUIRE(last != std::string::npos);
    int bar_newlines = 0;
    CHECK(widest_line(text.substr(0, last), &bar_newlines) <= (columns ? columns : 40) - 1);
    CHECK(bar_newlines == 0);  // updates in place: \r, never a new line
    CHECK(newlines == 1);      // the final count
    CHECK(text.find('\r') != std::string::npos);
    CHECK(text.find("...") != std::string::npos);
    CHECK(widest > 0);
  }
  // Off a terminal: nothing but the final line.
  Result r =
      run(dir, "xunit-run", "-m " + model + " -i " + (dir / "in") + " -o " + (dir / "out") + " -y");
  CHECK(r.status == 0);
  CHECK(r.err.find('\r') == std::string::npos);
  CHECK(r.err_lines() == 1);
  CHECK(r.err.find("xunit-run: 3 written") == 0);
}
