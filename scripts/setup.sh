#!/usr/bin/env bash
# One command for each way in, on a fresh Debian 12 machine, safe to repeat:
#   scripts/setup.sh serve [vgpio serve options]   install, build, run the daemon
#   scripts/setup.sh test                          install, build, run every test, then again
#                                                  under sanitizers, then the fuzzers (60 s each)
#   scripts/setup.sh demo                          install, build, boot a guest and show it working
#   scripts/setup.sh build                         install and build only
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian 12 packages for the build (CLI11, toml++, nlohmann-json, GoogleTest)...
PACKAGES=(g++ make cmake ninja-build pkg-config libgtest-dev libgmock-dev nlohmann-json3-dev libcli11-dev
          libtomlplusplus-dev libseccomp-dev scdoc)  # libseccomp: the sandbox; scdoc: the man pages
BACKPORTS_PACKAGES=(libgpiod-dev)  # libgpiod 2 and its C++ bindings; Debian 12 itself has only 1.6
# ...and for the tests: the real guests' kernel, initramfs and QEMU 10 (QEMU 7.2
# is unpacked from Debian's own package by testvm/fetch-qemu72.sh), and clang
# for the fuzzers.
GUEST_PACKAGES=(python3 linux-source-6.12 bc flex bison libelf-dev libssl-dev cpio xz-utils busybox-static
                clang libclang-rt-14-dev  # clang: libFuzzer
                # the service tests: systemd's own tools, the Debian package, man lint, libvirt's schema
                systemd strace procps debhelper dpkg-dev lintian mandoc groff-base man-db libvirt-clients
                sigrok-cli  # an independent reader of the VCD files `vgpio ctl record` writes
                python3-pytest python3-pip python3-setuptools  # the Python client, its plugin, `pip install ./python`
                python3-matplotlib  # bench/charts.py: docs/perf's charts from the bench's JSON
                gcc-aarch64-linux-gnu  # the arm64 guest kernel
                chromium)  # the panel's browser tests (driven by puppeteer-core from npm)
GUEST_BACKPORTS_PACKAGES=(qemu-system-x86 qemu-system-arm gpiod)
FOREIGN_ARCHITECTURES=()  # dpkg architectures whose packages the tests unpack (testvm/fetch-arm64-userland.sh)

with_guest_tools() {
  PACKAGES+=("${GUEST_PACKAGES[@]}")
  # Node for the browser tests: Debian's, unless a node with npm is here already.
  command -v npm > /dev/null || PACKAGES+=(nodejs npm)
  BACKPORTS_PACKAGES+=("${GUEST_BACKPORTS_PACKAGES[@]}")
  FOREIGN_ARCHITECTURES+=(arm64)
}

# Adds the architectures the tests need; true when one was added (the package
# lists must then be updated).
ensure_architectures() {
  local added=1
  for arch in "${FOREIGN_ARCHITECTURES[@]}"; do
    if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
      echo "setup: adding the $arch dpkg architecture (the $arch test guest's userland)"
      as_root dpkg --add-architecture "$arch"
      added=0
    fi
  done
  return $added
}

# The mirror this system already uses for bookworm (its own mirror or proxy),
# from a one-line source ("deb [opts] URI bookworm ...") or a deb822 one.
debian_mirror() {
  local uri
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2> /dev/null | sed -E 's/\[[^]]*\]//' |
        awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
  [ -n "$uri" ] || uri=$(cat /etc/apt/sources.list.d/*.sources 2> /dev/null | awk -v RS= '
      /(^|\n)Suites:([^\n]* )?bookworm( |\n|$)/ && !/(^|\n)Enabled: *no/ {
        if (match($0, /(^|\n)URIs: *[^ \n]+/)) { u = substr($0, RSTART, RLENGTH); sub(/.*URIs: */, "", u); print u; exit }
      }')
  echo "${uri:-http://deb.debian.org/debian}"
}

ensure_backports() {
  if grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then return 1; fi
  local mirror
  mirror=$(debian_mirror)
  echo "setup: adding the bookworm-backports apt source ($mirror)"
  as_root tee /etc/apt/sources.list.d/bookworm-backports.sources > /dev/null <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  return 0
}

missing() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || echo "$p"
  done
}

install_dependencies() {
  local changed=false
  ensure_backports && changed=true
  ensure_architectures && changed=true
  local need=($(missing "${PACKAGES[@]}")) need_bp=($(missing "${BACKPORTS_PACKAGES[@]}"))
  if [ "${#need[@]}" -eq 0 ] && [ "${#need_bp[@]}" -eq 0 ] && [ "$changed" = false ]; then return; fi
  echo "setup: installing ${need[*]} ${need_bp[*]}"
  as_root apt-get update -q
  export DEBIAN_FRONTEND=noninteractive
  [ "${#need[@]}" -eq 0 ] || as_root apt-get install -y -q --no-install-recommends "${need[@]}"
  [ "${#need_bp[@]}" -eq 0 ] || as_root apt-get install -y -q --no-install-recommends -t bookworm-backports "${need_bp[@]}"
}

build() {
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
  cmake --build build
}

# puppeteer-core, pinned by tests/browser/package-lock.json, once.
browser_test_tools() {
  [ -d tests/browser/node_modules/puppeteer-core ] && return
  echo "setup: npm ci in tests/browser (puppeteer-core, for the panel's browser tests)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  serve) install_dependencies; build; exec build/vgpio serve "$@" ;;
  demo) with_guest_tools; install_dependencies; build; exec testvm/demo.sh ;;
  test)
    with_guest_tools; install_dependencies; build; browser_test_tools
    ctest --test-dir build --output-on-failure -j2
    scripts/sanitize.sh
    scripts/fuzz.sh "${VGPIO_FUZZ_SECONDS:-60}" ;;
  build) install_dependencies; build ;;
  *) echo "usage: scripts/setup.sh serve [options] | test | demo | build" >&2; exit 2 ;;
esac
