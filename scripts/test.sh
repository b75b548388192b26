#!/usr/bin/env bash
# The whole test suite: set-up, the format check, Release build + ctest, the same tests under ASan + UBSan, the
# concurrency tests under ThreadSanitizer, then every fuzzer for a while.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/check_format.sh
BUILD_DIR=build scripts/build.sh
(cd build && ctest --output-on-failure)
if [ "${XUNIT_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo scripts/build.sh -DXUNIT_SANITIZE=ON -DXUNIT_BUILD_BENCH=OFF
  # oneDNN's JIT code is opaque to the sanitizers; leaks in it are not ours to report.
  # The engine suite forced to scalar runs in the Release pass only: under the sanitizers it is
  # the slowest entry (oneDNN at SSE4.1, ~7 min on 2 cores), and what it adds is the scalar
  # kernels inside the engine's steps, which `unit` runs under the sanitizers against every
  # SIMD variant on buffers of their own. engine_avx512 (AVX-512 without BF16) likewise: `unit`'s
  # testers run its kernel variants under the sanitizers.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -E '^engine_(scalar|avx512)$')
  echo "== one model shared by 8 threads, under ThreadSanitizer"
  TARGET=xunit-thread-tests BUILD_DIR=build-tsan BUILD_TYPE=RelWithDebInfo scripts/build.sh -DXUNIT_TSAN=ON -DXUNIT_BUILD_BENCH=OFF
  # Both cases must have run: a renamed case would otherwise leave the filter matching nothing, and pass.
  TSAN_OPTIONS=halt_on_error=1 timeout 1800 build-tsan/bin/xunit-thread-tests \
    -tc="c api: one model shared*,c api: the last error*" | tee build-tsan/threads.log
  grep -Eq "test cases: +2 \| +2 passed" build-tsan/threads.log
fi
if [ "${XUNIT_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== libFuzzer targets, ${XUNIT_FUZZ_SECONDS:-20} s each"
  scripts/fuzz.sh "${XUNIT_FUZZ_SECONDS:-20}"
fi
