#!/usr/bin/env bash
# The unit and integration tests again, built with ASan + UBSan, then with
# TSan (the daemon runs a thread per device beside its main loop). Any report
# fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
for build in "address,undefined build-asan" "thread build-tsan"; do
  # shellcheck disable=SC2086 # two words: the sanitizers and the build folder
  set -- $build
  echo "== sanitizers: $1"
  # A unity build (several files compiled as one): these two builds are for
  # the tests only, and it takes 40% off their time (5 against 8.5 minutes
  # each, from nothing, on 2 cores). -O1 with line tables only, as the
  # sanitizers' own docs advise: reports keep their file:line, the compile
  # is quicker.
  cmake -S . -B "$2" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
    -DVGPIO_SANITIZE="$1" -DCMAKE_UNITY_BUILD=ON > /dev/null
  cmake --build "$2" --target unit_tests integration_tests
  ctest --test-dir "$2" --output-on-failure -j2 -R '^(unit|integration)\.'
done
