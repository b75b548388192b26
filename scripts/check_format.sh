#!/usr/bin/env bash
# Fails when a C or C++ source differs from what clang-format makes of it with .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*.cpp' '*.h' '*.c' | grep -v '^tests/fixtures/' | xargs clang-format --dry-run --Werror
