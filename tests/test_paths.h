// Where the tests find their fixtures and the built tools (set by tests/CMakeLists.txt).
#pragma once
#include <string>

namespace xunit::testing {

inline std::string fixtures_dir() { return std::string(XUNIT_TEST_DATA_DIR) + "/"; }
inline std::string parity_dir() { return fixtures_dir() + "parity/"; }
inline std::string bin_dir() { return std::string(XUNIT_BIN_DIR) + "/"; }

}  // namespace xunit::testing
