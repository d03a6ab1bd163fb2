#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default
# 60) from its seed corpus in tests/fuzz/corpus. A crash, leak, hang (over
# 10 s) or sanitizer report fails the run and leaves the input in build-fuzz/.
# usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVGPIO_FUZZ=ON > /dev/null
cmake --build build-fuzz
status=0
for target in vhost_user virtqueue config; do
  work=$(mktemp -d)
  log=build-fuzz/fuzz_$target.log
  if build-fuzz/fuzz_$target -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix=build-fuzz/ "$work" "tests/fuzz/corpus/$target" > "$log" 2>&1; then
    echo "fuzz $target: $(grep -E '^Done' "$log")"
  else
    echo "fuzz $target: FAILED"; grep -E "ERROR|SUMMARY|artifact" "$log" | head -5; status=1
  fi
  rm -rf "$work"
done
exit $status
