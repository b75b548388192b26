#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS (default 30)
# from the committed seeds in fuzz/corpus/TARGET (copied: the seeds stay as committed).
# Crashes are saved as build-fuzz/crash-* and fail the script.
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_xunit_model fuzz_checkpoint fuzz_safetensors fuzz_image fuzz_onnx)
scripts/setup.sh  # clang and its fuzzer runtime among the rest
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DXUNIT_FUZZ=ON -DXUNIT_BUILD_TESTS=OFF -DXUNIT_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"${JOBS:-2}" --target "${targets[@]}" >/dev/null
for t in "${targets[@]}"; do
  work=build-fuzz/corpus/$t
  mkdir -p "$work"
  cp -n fuzz/corpus/$t/* "$work"/ 2>/dev/null || true
  cp -n fuzz/regressions/$t/* "$work"/ 2>/dev/null || true  # inputs that once crashed it
  echo "== $t for ${seconds}s"
  (cd build-fuzz && ./bin/$t -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=262144 -timeout=10 \
     -print_final_stats=1 "corpus/$t" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::new_units_added|==.*ERROR|SUMMARY)" || true)
done
if ls build-fuzz/crash-* build-fuzz/timeout-* build-fuzz/oom-* >/dev/null 2>&1; then
  echo "fuzzing found inputs that crash, hang or exhaust memory:" >&2
  ls build-fuzz/crash-* build-fuzz/timeout-* build-fuzz/oom-* >&2
  exit 1
fi
