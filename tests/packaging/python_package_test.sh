#!/usr/bin/env bash
# python3-vgpio as a HIL user gets it: a new Debian 12 root (mmdebstrap), the
# vgpio, vgpio-qemu-clock and python3-vgpio packages that packaging.deb
# built installed there by apt with Debian's python3-pytest (and the QEMU the
# clock plugin depends on), and the system's pytest runs a test file that
# uses the fixtures, finding the pytest plugin, the daemon and the clock
# plugin as installed (no PYTHONPATH, no -p).
# usage: python_package_test.sh SOURCE_DIR DEB_DIR   (as root)
set -euo pipefail
src=$(realpath "$1")
debs=$(realpath "$2")
source "$src/scripts/dependencies.sh"
fail() { echo "FAIL: $*"; exit 1; }
vgpio_deb=$(ls "$debs"/vgpio_*_"$(dpkg --print-architecture)".deb)
python_deb=$(ls "$debs"/python3-vgpio_*_all.deb)
clock_deb=$(ls "$debs"/vgpio-qemu-clock_*_"$(dpkg --print-architecture)".deb)
mirror=$(debian_mirror)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$src/tests/packaging/python/test_installed_fixtures.py" "$work/"

# apt in the root installs the packages by their paths, with what they
# depend on (libgpiod 2 from bookworm-backports, and QEMU, which a user of
# Debian 12 installs from there with -t); then pytest runs there.
# (Not mmdebstrap's --include: its dpkg cannot reach a .deb outside the root.)
mmdebstrap --quiet --variant=apt --include=python3-pytest \
  --customize-hook="copy-in $vgpio_deb $python_deb $clock_deb $work/test_installed_fixtures.py /tmp" \
  --customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -t bookworm-backports /tmp/$(basename "$vgpio_deb") /tmp/$(basename "$python_deb") /tmp/$(basename "$clock_deb") qemu-system-x86" \
  --customize-hook='chroot "$1" sh -c "cd /tmp && python3 -m pytest -v -p no:cacheprovider test_installed_fixtures.py"' \
  bookworm /dev/null "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
  "deb $mirror bookworm-backports main" > "$work/log" 2>&1 || { tail -40 "$work/log"; fail "see above"; }
grep -E "PASSED|passed" "$work/log"
grep -q "2 passed" "$work/log" || fail "pytest did not pass the fixtures' test: $(tail -20 "$work/log")"
echo "PASS"
