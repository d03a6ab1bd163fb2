#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default
# 60) from its seed corpus in tests/fuzz/corpus, two at a time (a fuzzer uses
# one core). A crash, leak, hang (over 10 s) or sanitizer report fails the run
# and leaves the input in build-fuzz/.
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (default: every target the
# build makes, one per tests/fuzz/fuzz_TARGET.cpp)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
# -O1 and line tables, as libFuzzer's docs advise; a unity build, as the
# sanitizer builds.
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" -DCMAKE_UNITY_BUILD=ON -DVGPIO_FUZZ=ON > /dev/null
cmake --build build-fuzz
if [ ${#targets[@]} -eq 0 ]; then
  for binary in build-fuzz/fuzz_*; do
    [ -x "$binary" ] && [ -f "$binary" ] && targets+=("${binary#build-fuzz/fuzz_}")
  done
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: the build made no fuzz targets" >&2; exit 1; }

run() {
  local target=$1 work log=build-fuzz/fuzz_$1.log
  work=$(mktemp -d)
  if "build-fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix=build-fuzz/ "$work" "tests/fuzz/corpus/$target" > "$log" 2>&1; then
    echo "fuzz $target: $(grep -E '^Done' "$log")"
  else
    echo "fuzz $target: FAILED"; grep -E "ERROR|SUMMARY|artifact" "$log" | head -5
    rm -rf "$work"
    return 1
  fi
  rm -rf "$work"
}

status=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" & first=$!
  second=
  if [ $((i + 1)) -lt ${#targets[@]} ]; then run "${targets[i + 1]}" & second=$!; fi
  wait $first || status=1
  [ -z "$second" ] || wait "$second" || status=1
done
exit $status
