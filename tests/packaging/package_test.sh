#!/usr/bin/env bash
# The Debian package, built and installed as a user would: dpkg-buildpackage
# from a copy of the source tree, lintian without errors, apt install on this
# machine, then the installed vgpio runs, its units verify, and dpkg -L lists
# the binary, the units and the man pages. With OUT_DIR, the package is left
# there (the systemd guest's tests install it: tests/systemd).
# usage: package_test.sh SOURCE_DIR [OUT_DIR]   (as root, or with sudo)
set -euo pipefail
src=$(realpath "$1")
keep=${2:+$(realpath -m "$2")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# A copy: dpkg-buildpackage writes into the tree and beside it.
mkdir "$work/vgpio"
if git -C "$src" rev-parse --git-dir > /dev/null 2>&1; then
  (cd "$src" && git ls-files -co --exclude-standard | grep -v '^build' | tar -cf - -T -) | tar -xf - -C "$work/vgpio"
else
  (cd "$src" && tar --exclude='./build*' -cf - .) | tar -xf - -C "$work/vgpio"
fi
cd "$work/vgpio"
DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck" dpkg-buildpackage -b -us -uc > "$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log"; fail "dpkg-buildpackage failed"; }
cd "$work"
deb=$(ls vgpio_*_*.deb)
echo "built $deb"
if [ -n "$keep" ]; then
  mkdir -p "$keep" && rm -f "$keep"/vgpio_*.deb && cp "$deb" "$keep/"
fi
lintian --fail-on error --tag-display-limit 0 ./*.changes || fail "lintian reports errors"

DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --reinstall "./$deb" > "$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "apt could not install $deb"; }

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
[ "$(/usr/bin/vgpio --version)" = "vgpio $version" ] || fail "installed vgpio --version: $(/usr/bin/vgpio --version)"
id vgpio | grep -q '(gpio)' || fail "no vgpio user in group gpio: $(id vgpio 2>&1)"

listed=$(dpkg -L vgpio)
for f in /usr/bin/vgpio /usr/bin/vgpio-panel /usr/share/man/man1/vgpio-panel.1.gz /lib/systemd/system/vgpio@.service /lib/systemd/system/vgpio@.socket \
         /usr/share/man/man1/vgpio.1.gz /usr/share/man/man5/vgpio.toml.5.gz /usr/share/man/man7/vgpio-control.7.gz /usr/lib/sysusers.d/vgpio.conf \
         /usr/lib/udev/rules.d/60-vgpio.rules /usr/share/doc/vgpio/examples/vm1.toml; do
  grep -qx "$f" <<< "$listed" || fail "dpkg -L vgpio does not list $f"
done
out=$(cd / && systemd-analyze verify vgpio@vm1.socket vgpio@vm1.service 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify of the installed units complains:
$out"
man -w vgpio.toml > /dev/null || fail "man cannot find vgpio.toml(5)"
echo "PASS"
