#!/usr/bin/env bash
# One command for each way in, on a fresh Debian 12 machine, safe to repeat:
#   scripts/setup.sh serve [vgpio serve options]   install, build, run the daemon
#   scripts/setup.sh test                          install, build, run every test, then again
#                                                  under sanitizers, then the fuzzers (60 s each)
#   scripts/setup.sh demo                          install, build, boot a guest and show it working
#   scripts/setup.sh build                         install and build only
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/dependencies.sh

# Decided once, before anything is installed: a build configured with and
# then without ccache (or the other way round) would compile everything again.
use_ccache=$(command -v ccache || true)

# With "all", every test must be there: a test package that is missing from
# tests/packages.txt fails the configure instead of skipping its tests. A
# warning is an error here (Debian 12's g++ 12 builds it clean; CI builds
# through here), and the same flags every time: switching commands compiles
# nothing again.
build() {
  # Through ccache when it is here, this build and the sanitizer and fuzzer
  # builds after it: CI builds a clean clone, in a new folder, every time
  # (paths relative to the tree, and not the build folder's own, make the key).
  if [ -n "$use_ccache" ]; then
    export CMAKE_CXX_COMPILER_LAUNCHER=ccache CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
  fi
  local log=build/configure.log
  mkdir -p build
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVGPIO_ALL_TESTS="$([ "${1:-}" = all ] && echo ON || echo OFF)" \
    -DVGPIO_WERROR=ON > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
  # (Early, the tests' packages are still on their way: nothing to say yet.)
  [ "${1:-}" = early ] || grep '^-- Skipping' "$log" || true
  cmake --build build
}

# The build's dependencies, then the tests' installed while the build runs:
# dpkg spends its time on the disk, the compiler on the CPU.
install_and_build_for_tests() {
  install_dependencies build
  local log=build/test-packages.log
  mkdir -p build
  # shellcheck disable=SC2046 # a word per architecture
  { install_dependencies test arm64 && install_cross_dependencies $(cross_architectures); } > "$log" 2>&1 &
  local installing=$!
  build early
  wait $installing || { cat "$log" >&2; echo "setup: installing the tests' packages failed" >&2; exit 1; }
  grep '^setup:' "$log" || true
  scripts/qemu-plugin-api.sh build/qemu-plugin-api  # for the vgpio-clock QEMU plugin
  build all  # configures the tests the new packages allow; compiles little again
}

# puppeteer-core, pinned by tests/browser/package-lock.json, once.
browser_test_tools() {
  [ -d tests/browser/node_modules/puppeteer-core ] && return
  echo "setup: npm ci in tests/browser (puppeteer-core, for the panel's browser tests)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
}

# The project's own fresh-machine check (scripts/fresh-check.sh): a package
# that only this machine has fails the test command here too. Not inside the
# check's own root, where it is already what runs.
fresh_machine_check() {
  if [ -n "${VGPIO_FRESH_ROOT:-}" ]; then
    echo "setup: skipping the fresh-machine check: this is its new root already"
    return
  fi
  as_root scripts/fresh-check.sh
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  serve) install_dependencies build; build; exec build/vgpio serve "$@" ;;
  demo) install_dependencies test; build; exec testvm/demo.sh ;;
  test)
    install_and_build_for_tests; browser_test_tools
    fresh_machine_check
    ctest --test-dir build --output-on-failure -j2
    scripts/sanitize.sh
    scripts/fuzz.sh "${VGPIO_FUZZ_SECONDS:-60}" ;;
  build) install_dependencies build; build ;;
  *) echo "usage: scripts/setup.sh serve [options] | test | demo | build" >&2; exit 2 ;;
esac
