#!/usr/bin/env bash
# Runs the whole real-guest suite N times in a row while a parallel compile of
# vgpio keeps both CPUs busy: a guest test that passes only when QEMU is quick
# shows up here. Needs a build (scripts/setup.sh build, or test once).
# usage: scripts/stress-guest-tests.sh [N] [REGEX]   (default 20 runs of every
#        guest test; REGEX picks tests by CTest name, e.g. '^guest\.firmware$')
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
tests=${2:-'^guest\.'}
[ -d build ] || { echo "stress: no build/ folder; run scripts/setup.sh test first" >&2; exit 2; }
cmake --build build > /dev/null

scratch=$(mktemp -d)
load() {
  while :; do
    rm -rf "$scratch/build"
    cmake -S . -B "$scratch/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
    cmake --build "$scratch/build" -j"$(nproc)" > /dev/null 2>&1 || true
  done
}
load & load_pid=$!
stop_load() {
  local status=$?
  kill "$load_pid" 2> /dev/null
  wait "$load_pid" 2> /dev/null
  rm -rf "$scratch"
  exit "$status"
}
trap stop_load EXIT

passed=0 failed=0
for i in $(seq "$runs"); do
  start=$(date +%s)
  if ctest --test-dir build -R "$tests" -j2 --output-on-failure > "$scratch/run.log" 2>&1; then
    passed=$((passed + 1)); verdict=pass
  else
    failed=$((failed + 1)); verdict=FAIL
    cp "$scratch/run.log" "stress-guest-run-$i.log"
    grep -E "^\s*[0-9]+ - guest" "$scratch/run.log" || true
  fi
  echo "stress: run $i/$runs: $verdict ($(( $(date +%s) - start )) s, $(grep -oE '[0-9]+ tests failed out of [0-9]+' "$scratch/run.log"))"
done
echo "stress: $passed of $runs runs of the guest suite passed under load"
[ "$failed" -eq 0 ]
