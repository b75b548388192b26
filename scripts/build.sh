#!/usr/bin/env bash
# Configures and builds into BUILD_DIR (default build/), Release unless told otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} "$@" >/dev/null
cmake --build "$build_dir" -j"${JOBS:-2}" ${TARGET:+--target $TARGET}
