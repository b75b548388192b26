#!/usr/bin/env bash
# xunit-bench's command line, exit status and output both checked (CTest's PASS_REGULAR_EXPRESSION
# would ignore the exit status): a conditioned model timed at a fixed sigma beside a blind one,
# which gets a note that --sigma does not apply to it; an out-of-range level fails in one line.
# usage: check_bench_cli.sh XUNIT_BENCH CONDITIONED_MODEL.xunit
set -uo pipefail
bench=$1 model=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$bench" --model "$model" --synthetic xdncnn-16-2 --size 24x20 --threads 1 --repeat 1 --warmup 0 \
  --sigma 25 2>&1)
rc=$?
((rc == 0)) || { echo "$out"; fail "a valid run exited $rc"; }
echo "$out"
name=$(basename "$model")
mapfile -t lines <<<"$out"
row=-1 note=-1 blind=-1
for i in "${!lines[@]}"; do
  l=${lines[$i]}
  [[ $l == "$name "*" 24x20 "* ]] && row=$i
  [[ $l == "note: xdncnn-16-2 takes no noise level"*"--sigma 25 does not apply" ]] && note=$i
  [[ $l == "xdncnn-16-2 "*" 24x20 "* ]] && blind=$i
done
((row >= 0)) || fail "no timing row for $name at 24x20"
((note > row)) || fail "no note after it that --sigma does not apply to the blind model"
((blind == note + 1)) || fail "the blind model's row does not follow its note"

out=$("$bench" --sigma 300 2>&1) && fail "--sigma 300 exited 0"
[[ $(wc -l <<<"$out") -eq 1 && $out == *"--sigma expects a level from 0 to 255"* ]] ||
  fail "--sigma 300: expected one line naming the range, got: $out"
echo "ok"
