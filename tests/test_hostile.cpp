// Hostile inputs handed to the tools, as strangers' files reach users (docs/hostile-inputs.md):
// every one must end with a non-zero exit status, exactly one line on stderr saying what is
// wrong, no output file, and nothing executed. The files are made by
// tests/fixtures/make_hostile_fixtures.py, listed with their expected messages in cases.txt;
// damaged models and path mistakes are made here.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/image_io.h"
#include "common/file_io.h"
#include "test_paths.h"

namespace {

using xunit::testing::bin_dir;
using xunit::testing::fixtures_dir;
using xunit::testing::parity_dir;

const char *kMarker = "/tmp/xunit_hostile_pwned";  // what the malicious pickles would create

struct Outcome {
  int status;
  std::string err;
};

std::string slurp(const std::string &path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

struct Scratch {
  std::string path;
  Scratch() {
    char tmpl[] = "/tmp/xunit_hostile_XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~Scratch() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string operator/(const std::string &n) const { return path + "/" + n; }
};

Outcome run(const Scratch &dir, const std::string &command) {
  const std::string err = dir / ".err";
  const int raw = std::system((bin_dir() + command + " >/dev/null 2>" + err).c_str());
  Outcome o{WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw), slurp(err)};
  std::remove(err.c_str());
  return o;
}

// The contract for every hostile input.
void expect_refused(const Outcome &o, const std::string &fragment, const std::string &output) {
  CHECK(o.status == 1);
  CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
  CHECK_MESSAGE(o.err.find(fragment) != std::string::npos, "stderr: " << o.err);
  CHECK_MESSAGE(!xunit::file_exists(output), "an output file was left: " << output);
  CHECK_MESSAGE(!xunit::file_exists(kMarker), "a hostile input ran a command");
}

std::vector<uint8_t> bytes_of(const std::string &path) { return xunit::read_file(path); }
void write(const std::string &path, const std::vector<uint8_t> &b) {
  xunit::write_file_atomic(path, b.data(), b.size(), true);
}

}  // namespace

TEST_SUITE_BEGIN("hostile");  // ctest's hostile_ulimit runs the suite under ulimit -v

TEST_CASE(
    "hostile: crafted checkpoints and images are refused with one line, nothing run or written") {
  std::remove(kMarker);
  Scratch dir;
  const std::string model = dir / "good.xunit";
  REQUIRE(run(dir, "xunit-convert " + parity_dir() + "xdncnn_c3_f16_b2/model.pt " + model).status ==
          0);
  std::ifstream cases(fixtures_dir() + "hostile/cases.txt");
  std::string line;
  int n = 0;
  while (std::getline(cases, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string tool, file, expect;
    fields >> tool >> file;
    std::getline(fields >> std::ws, expect);
    const std::string input = fixtures_dir() + "hostile/" + file;
    CAPTURE(file);
    if (tool == "convert") {
      expect_refused(run(dir, "xunit-convert " + input + " " + (dir / "out.xunit")), expect,
                     dir / "out.xunit");
    } else {
      REQUIRE(tool == "run_image");
      expect_refused(
          run(dir, "xunit-run -m " + model + " -i " + input + " -o " + (dir / "out.png")), expect,
          dir / "out.png");
    }
    ++n;
  }
  CHECK(n >= 17);
}

TEST_CASE("hostile: damaged models are refused before anything runs") {
  Scratch dir;
  const std::string good = dir / "good.xunit";
  REQUIRE(
      run(dir, "xunit-convert " + parity_dir() + "xsrgan_c3_f16_b2_x2/model.pt " + good).status ==
      0);
  xunit::cli::Image img;
  img.width = img.height = 8;
  img.channels = 3;
  img.pixels.assign(8 * 8 * 3, 0.5f);
  xunit::cli::save_image(dir / "in.png", img, false);
  const std::vector<uint8_t> model = bytes_of(good);

  std::vector<uint8_t> truncated(model.begin(), model.begin() + long(model.size() * 2 / 3));
  write(dir / "truncated.xunit", truncated);
  std::vector<uint8_t> flipped = model;
  flipped[model.size() / 2] ^= 1;
  write(dir / "bitflip.xunit", flipped);
  std::vector<uint8_t> lying = model;
  lying[16] ^= 0x10;  // the header's file size
  write(dir / "lying_size.xunit", lying);
  std::vector<uint8_t> future = model;
  future[8] = 9;  // major version 9
  write(dir / "future.xunit", future);
  write(dir / "empty.xunit", {});
  mkdir((dir / "folder.xunit").c_str(), 0755);
  const std::pair<const char *, const char *> damaged[] = {
      {"truncated.xunit", "truncated"},    {"bitflip.xunit", "checksum mismatch"},
      {"lying_size.xunit", "header says"}, {"future.xunit", "format version 9"},
      {"empty.xunit", "file too small"},   {"folder.xunit", "folder.xunit"},
      {"missing.xunit", "no model"}};
  for (auto [file, expect] : damaged) {
    CAPTURE(file);
    expect_refused(run(dir, "xunit-run -m " + (dir / file) + " -i " + (dir / "in.png") + " -o " +
                                (dir / "out.png")),
                   expect, dir / "out.png");
  }
}

TEST_CASE("hostile: path mistakes never lose a file") {
  Scratch dir;
  const std::string ckpt = dir / "model.pt";
  std::system(("cp " + parity_dir() + "xdncnn_c3_f16_b2/model.pt " + ckpt).c_str());
  const std::string before = slurp(ckpt);
  // The input as the output, even with -y: refused, the input untouched.
  expect_refused(run(dir, "xunit-convert " + ckpt + " " + ckpt + " -y"),
                 "refusing to write over the input", dir / "none");
  CHECK(slurp(ckpt) == before);
  REQUIRE(run(dir, "xunit-convert " + ckpt + " " + (dir / "m.xunit")).status == 0);
  xunit::cli::Image img;
  img.width = img.height = 6;
  img.channels = 3;
  img.pixels.assign(6 * 6 * 3, 0.25f);
  xunit::cli::save_image(dir / "in.png", img, false);
  const std::string image = slurp(dir / "in.png");
  expect_refused(run(dir, "xunit-run -m " + (dir / "m.xunit") + " -i " + (dir / "in.png") + " -o " +
                              (dir / "in.png") + " -y"),
                 "refusing to write over the input", dir / "none");
  CHECK(slurp(dir / "in.png") == image);
  // Missing input, output in a missing folder.
  expect_refused(run(dir, "xunit-run -m " + (dir / "m.xunit") + " -i " + (dir / "nope.png") +
                              " -o " + (dir / "o.png")),
                 "nope.png", dir / "o.png");
  expect_refused(run(dir, "xunit-run -m " + (dir / "m.xunit") + " -i " + (dir / "in.png") + " -o " +
                              (dir / "no/o.png")),
                 "cannot create output in", dir / "no/o.png");
  expect_refused(run(dir, "xunit-convert " + (dir / "nope.pt") + " " + (dir / "o.xunit")),
                 "nope.pt", dir / "o.xunit");
  expect_refused(run(dir, "xunit-convert " + ckpt + " " + (dir / "no/o.xunit")),
                 "cannot create output in", dir / "no/o.xunit");
  // An existing output is kept without -y.
  std::ofstream(dir / "keep.png") << "mine";
  expect_refused(run(dir, "xunit-run -m " + (dir / "m.xunit") + " -i " + (dir / "in.png") + " -o " +
                              (dir / "keep.png")),
                 "output exists", dir / "none");
  CHECK(slurp(dir / "keep.png") == "mine");
  // A folder where a file is expected.
  expect_refused(run(dir, "xunit-convert " + dir.path + " " + (dir / "o.xunit")), dir.path,
                 dir / "o.xunit");
}

TEST_CASE(
    "hostile: a write that fails half-way (a full disk) leaves no file, partial or temporary") {
  Scratch dir;
  REQUIRE(
      run(dir, "xunit-convert " + parity_dir() + "xdncnn_c3_f16_b2/model.pt " + (dir / "m.xunit"))
          .status == 0);
  xunit::cli::Image img;
  img.width = 300;
  img.height = 200;
  img.channels = 3;
  for (int i = 0; i < 300 * 200 * 3; ++i)
    img.pixels.push_back(float((i * 7919) % 256) / 255.f);  // incompressible
  xunit::cli::save_image(dir / "in.png", img, false);
  // A file size limit of 16 KiB makes write() fail with EFBIG, as a full disk fails with ENOSPC.
  const std::string cmd = "ulimit -f 16; trap '' XFSZ; " + bin_dir() + "xunit-run -q -m " +
                          (dir / "m.xunit") + " -i " + (dir / "in.png") + " -o " +
                          (dir / "out.png");
  const int raw = std::system(("bash -c \"" + cmd + "\" 2>" + (dir / "err")).c_str());
  CHECK(WEXITSTATUS(raw) == 1);
  CHECK(slurp(dir / "err").find("cannot write") != std::string::npos);
  CHECK(!xunit::file_exists(dir / "out.png"));
  CHECK(std::system(("ls -A " + dir.path + " | grep -q '^\\\\.out'").c_str()) !=
        0);  // no temporary file
}

TEST_SUITE_END();
