// A fresh folder under /tmp for one test case, removed with everything in it at scope exit.
#pragma once
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>
#include <string>
#include <system_error>

namespace xunit::testing {

struct TempDir {
  std::string path;
  explicit TempDir(const std::string &prefix = "xunit_test") {
    std::string tmpl = "/tmp/" + prefix + "_XXXXXX";
    char *p = mkdtemp(tmpl.data());
    REQUIRE(p != nullptr);
    path = p;
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string &name) const { return path + "/" + name; }
  std::string operator/(const std::string &name) const { return file(name); }
  std::set<std::string> entries() const {
    std::set<std::string> out;
    for (const auto &e : std::filesystem::directory_iterator(path))
      out.insert(e.path().filename().string());
    return out;
  }
};

}  // namespace xunit::testing
