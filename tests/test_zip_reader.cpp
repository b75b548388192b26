// Zip reader: stored/deflate entries, zip64, CRC and bounds checks, hostile archives.
#include <doctest/doctest.h>
#include <zlib.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_io.h"
#include "converter/checkpoint.h"
#include "converter/zip_reader.h"
#include "crafted_files.h"

using xunit::Error;
using xunit::convert::ZipReader;
using namespace xunit::testing::crafted;

namespace {

std::string fixture(const std::string &name) {
  return std::string(XUNIT_TEST_DATA_DIR) + "/readers/" + name;
}

const uint8_t *bytes(const std::string &s) { return reinterpret_cast<const uint8_t *>(s.data()); }

std::string read_entry(const std::string &zip, const std::string &name) {
  ZipReader r(bytes(zip), zip.size());
  const auto *e = r.find(name);
  REQUIRE(e != nullptr);
  const std::vector<uint8_t> v = r.read(*e);
  return std::string(v.begin(), v.end());
}

std::string error_of(const std::string &zip, const std::string &entry = "") {
  try {
    ZipReader r(bytes(zip), zip.size());
    if (!entry.empty()) r.read(*r.find(entry));
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

// Where the central directory starts, from a (non-zip64) end record.
size_t central_offset(const std::string &zip) {
  const uint8_t *p = bytes(zip) + zip.size() - 6;
  return size_t(p[0]) | size_t(p[1]) << 8 | size_t(p[2]) << 16 | size_t(p[3]) << 24;
}

std::string text(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += char('a' + (i * 7 + i / 13) % 26);
  return s;
}

}  // namespace

TEST_CASE("zip: stored and deflated entries round-trip") {
  const std::string zip = build_zip({{"a/one", text(1000)}, {"a/two", text(5000), true}});
  ZipReader r(bytes(zip), zip.size());
  REQUIRE(r.entries().size() == 2);
  CHECK(r.entries()[1].method == 8);
  CHECK(r.entries()[1].compressed_size < 5000);
  CHECK(read_entry(zip, "a/one") == text(1000));
  CHECK(read_entry(zip, "a/two") == text(5000));
  CHECK(r.find("missing") == nullptr);
  CHECK(r.stored_data(r.entries()[1]) == nullptr);
  CHECK(std::memcmp(r.stored_data(r.entries()[0]), text(1000).data(), 1000) == 0);
}

TEST_CASE("zip: empty entries and an empty archive") {
  const std::string zip = build_zip({{"empty", ""}, {"empty_deflated", "", true}});
  CHECK(read_entry(zip, "empty").empty());
  CHECK(read_entry(zip, "empty_deflated").empty());
  const std::string none = build_zip({});
  CHECK(ZipReader(bytes(none), none.size()).entries().empty());
}

TEST_CASE("zip: zip64 directory records and extra fields") {
  const std::string zip = build_zip({{"x", text(300)}, {"y", text(2000), true}}, true);
  ZipReader r(bytes(zip), zip.size());
  REQUIRE(r.entries().size() == 2);
  CHECK(r.entries()[1].local_header_offset > 300);
  CHECK(read_entry(zip, "x") == text(300));
  CHECK(read_entry(zip, "y") == text(2000));
}

TEST_CASE("zip: bad CRC is refused") {
  CHECK(error_of(build_zip({{"s", text(100), false, 1}}), "s").find("CRC mismatch") !=
        std::string::npos);
  CHECK(error_of(build_zip({{"d", text(100), true, 0x100}}), "d").find("CRC mismatch") !=
        std::string::npos);
}

TEST_CASE("zip: declared sizes must match the inflated data") {
  CHECK(error_of(build_zip({{"d", text(4000), true, 0, -1}}), "d").find("more than") !=
        std::string::npos);
  CHECK(error_of(build_zip({{"d", text(4000), true, 0, +1}}), "d").find("size other") !=
        std::string::npos);
  // A stored entry cannot have different sizes.
  CHECK(error_of(build_zip({{"s", text(10), false, 0, 5}})).find("stored entry") !=
        std::string::npos);
}

TEST_CASE("zip: absurd sizes are refused before allocating") {
  Spec bomb{"b", text(100), true};
  bomb.size_delta = int64_t(1) << 40;  // 1 TiB from 100 bytes
  CHECK(error_of(build_zip({bomb}, true)).find("implausibly large") != std::string::npos);
  Spec ratio{"r", text(100), true};
  ratio.size_delta = 1 << 26;  // deflate cannot expand ~30 bytes to 64 MiB
  CHECK(error_of(build_zip({ratio}, true)).find("compression ratio") != std::string::npos);
}

TEST_CASE("zip: overlapping entries and entries reaching the directory are refused") {
  // Two entries of one archive sharing a local header.
  Spec a{"a", text(50)}, b{"b", text(50)};
  b.offset_override = 0;
  CHECK(error_of(build_zip({a, b})).find("disagree on the name") != std::string::npos);
  Spec c{"a", text(50)};
  c.offset_override = 0;
  CHECK(error_of(build_zip({a, c})).find("duplicate") != std::string::npos);
  // The first entry's sizes grown so that its data runs into the second entry's header.
  std::string two = build_zip({{"a", text(50)}, {"b", text(50)}});
  size_t cd = central_offset(two);
  for (size_t field : {cd + 20, cd + 24}) two[field] = char(uint8_t(two[field]) + 10);
  CHECK(error_of(two).find("entries overlap each other") != std::string::npos);
  // Entry data claimed to run into the central directory.
  std::string one = build_zip({{"a", text(50)}});
  cd = central_offset(one);
  for (size_t field : {cd + 20, cd + 24}) one[field] = char(uint8_t(one[field]) + 10);
  CHECK(error_of(one).find("overlaps the central directory") != std::string::npos);
}

TEST_CASE("zip: encrypted entries and unknown methods are refused") {
  Spec enc{"e", text(10)};
  enc.flags = 1;
  CHECK(error_of(build_zip({enc})).find("encrypted") != std::string::npos);
  std::string zip = build_zip({{"m", text(10)}});
  zip[central_offset(zip) + 10] = 12;  // bzip2 in the central record
  CHECK(error_of(zip).find("compression method 12") != std::string::npos);
}

TEST_CASE("zip: every truncation of an archive is refused") {
  const std::string zip = build_zip({{"a", text(200)}, {"b", text(900), true}}, true);
  for (size_t n = 0; n < zip.size(); ++n) {
    const std::string cut = zip.substr(0, n);
    CHECK_THROWS_AS(ZipReader(bytes(cut), cut.size()), Error);
  }
}

TEST_CASE("zip: every single-byte corruption is either refused or harmless") {
  const std::vector<std::string> data = {text(200), text(900)};
  const std::string zip = build_zip({{"a", data[0]}, {"b", data[1], true}}, true);
  size_t refused = 0;
  for (size_t i = 0; i < zip.size(); ++i) {
    CAPTURE(i);
    std::string bad = zip;
    bad[i] = char(bad[i] ^ 0x41);
    try {
      ZipReader r(bytes(bad), bad.size());
      // Harmless: an archive that is not refused still gives both entries their own data.
      REQUIRE(r.entries().size() == data.size());
      for (size_t k = 0; k < data.size(); ++k) {
        const std::vector<uint8_t> v = r.read(r.entries()[k]);
        CHECK(std::string(v.begin(), v.end()) == data[k]);
      }
    } catch (const Error &) {
      ++refused;
    }
  }
  // At least every byte of the stored entry's data is covered by its CRC.
  CHECK(refused >= data[0].size());
}

TEST_CASE("zip: a real torch archive, and its deflated rewrite, hold the same entries") {
  const auto plain = xunit::read_file(fixture("zip_basic.pt"));
  const auto deflated = xunit::read_file(fixture("zip_deflated.pt"));
  ZipReader a(plain.data(), plain.size()), b(deflated.data(), deflated.size());
  REQUIRE(a.entries().size() == b.entries().size());
  bool saw_deflate = false;
  for (const auto &e : a.entries()) {
    const auto *other = b.find(e.name);
    REQUIRE(other != nullptr);
    saw_deflate |= other->method == 8;
    CHECK(a.read(e) == b.read(*other));
  }
  CHECK(saw_deflate);
  CHECK(a.find("zip_basic/data.pkl") != nullptr);
}

TEST_CASE("zip: a flipped bit in a real torch archive's tensor data fails the CRC check") {
  auto file = xunit::read_file(fixture("zip_basic.pt"));
  ZipReader r(file.data(), file.size());
  const auto *e = r.find("zip_basic/data/0");
  REQUIRE(e != nullptr);
  file[size_t(e->data_offset) + 3] ^= 0x10;
  try {
    xunit::convert::load_checkpoint(file);
    FAIL("corrupted checkpoint loaded");
  } catch (const Error &err) {
    CHECK(std::string(err.what()).find("CRC mismatch in entry 'zip_basic/data/0'") !=
          std::string::npos);
  }
}

TEST_CASE("zip: an archive of many entries finds each one (hashed lookup)") {
  // A checkpoint with one entry per storage looked each one up by a scan (issue 17, row 12).
  const int n = 20000;
  std::vector<Spec> specs;
  for (int i = 0; i < n; ++i)
    specs.push_back({"archive/data/" + std::to_string(i), std::to_string(i)});
  const std::string zip = build_zip(specs);
  const auto started = std::chrono::steady_clock::now();
  ZipReader r(bytes(zip), zip.size());
  int found = 0;
  for (int i = n - 1; i >= 0; --i) {
    const std::string name = "archive/data/" + std::to_string(i);
    const xunit::convert::ZipEntry *e = r.find(name);
    if (e && e->name == name) {
      const std::vector<uint8_t> data = r.read(*e);
      found += std::string(data.begin(), data.end()) == std::to_string(i);
    }
  }
  MESSAGE(n << " entries: opened and looked up in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
            << " s");
  CHECK(found == n);
  CHECK(r.find("archive/data/") == nullptr);
  CHECK(r.find("archive/data/20000") == nullptr);
  CHECK(r.find(std::string("archive/data/1\0", 15)) == nullptr);
}
