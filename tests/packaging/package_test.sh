#!/usr/bin/env bash
# The Debian package, built as Debian builds it: dpkg-buildpackage -b from a
# copy of the source tree, with its tests (the unit and integration tests run
# in dh_auto_test), and for this machine's architecture with nocheck too;
# lintian without errors.
#   For this machine's architecture: apt install here, then the installed
#   vgpio runs, its units verify, and dpkg -L lists the binary, the units
#   and the man pages; the installed vgpio-clock plugin loads into this
#   machine's QEMU (the one it depends on exactly).
#   For another (--host-arch ARCH, e.g. arm64 or armhf): cross-built with
#   Debian's cross compiler, the tests run under qemu-user; the package
#   must hold the same files (tests/cross runs its vgpio on ARCH).
# The packages are left in OUT_DIR (the systemd guest's tests install vgpio,
# python_package_test.sh python3-vgpio, tests/cross the others).
# usage: package_test.sh SOURCE_DIR OUT_DIR [ARCH]   (as root, or with sudo)
set -euo pipefail
src=$(realpath "$1")
keep=$(realpath -m "$2")
arch=${3:-$(dpkg --print-architecture)}
native=$([ "$arch" = "$(dpkg --print-architecture)" ] && echo true || echo false)
fail() { echo "FAIL: $*"; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

work=$keep/work
rm -rf "$work" && mkdir -p "$work/vgpio"
# A copy: dpkg-buildpackage writes into the tree and beside it.
if git -C "$src" rev-parse --git-dir > /dev/null 2>&1; then
  (cd "$src" && git ls-files -co --exclude-standard | grep -v '^build' | tar -cf - -T -) | tar -xf - -C "$work/vgpio"
else
  (cd "$src" && tar --exclude='./build*' -cf - .) | tar -xf - -C "$work/vgpio"
fi
# The plugin package's header, from Debian's source of the QEMU installed
# here, as debian/rules asks (a build has no network).
"$src/scripts/qemu-plugin-api.sh" "$work/vgpio/qemu-plugin/api"
qemu_version=$(cat "$work/vgpio/qemu-plugin/api/version")
# Through ccache, as the other builds: dpkg-buildflags maps the build
# folder to "." (-ffile-prefix-map), so its objects are the same from any
# folder, and a clone elsewhere finds them. Its cache named outright:
# debhelper gives the build a HOME of its own.
if command -v ccache > /dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CCACHE_BASEDIR=$work/vgpio CCACHE_NOHASHDIR=1 \
    CCACHE_IGNOREOPTIONS='-ffile-prefix-map=*' CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir)}
fi
# Here: -b, every package (vgpio, and python3-vgpio, Architecture: all).
# For another architecture: -B, its own (an all package is built once, here).
cross=(-b)
[ "$native" = true ] || cross=(-B --host-arch "$arch")

# build NAME [nocheck]: dpkg-buildpackage, its log in $work/NAME.log. The
# build profiles, as Debian's tools set them: cross for another
# architecture, nocheck with the option.
build() {
  local options profiles
  options="parallel=$(nproc)${2:+ $2}"
  profiles=$({ [ "$native" = true ] || echo cross; echo "${2:-}"; } | xargs | tr ' ' ,)
  rm -f "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo
  # The system's PATH, as in a Debian build chroot: pybuild runs the
  # python3.X first on PATH, and only Debian's has Debian's modules.
  (cd "$work/vgpio" && PATH=/usr/sbin:/usr/bin:/sbin:/bin DEB_BUILD_OPTIONS=$options dpkg-buildpackage -us -uc "${cross[@]}" ${profiles:+-P$profiles}) \
    > "$work/$1.log" 2>&1 || { tail -60 "$work/$1.log"; fail "dpkg-buildpackage ${cross[*]} ($options) failed"; }
}

# nocheck on this machine's architecture (for another, the check build alone:
# nocheck changes nothing there that it does not change here).
if [ "$native" = true ]; then
  build nocheck nocheck
  contents_nocheck=$(dpkg-deb -c "$work"/vgpio_*_"$arch".deb | awk '{ print $NF }')
fi
build check
tested=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed' "$work/check.log" || true)
summary=$(grep -E 'tests passed, [0-9]+ tests failed' "$work/check.log" || true)
[ -n "$summary" ] && [ "$tested" -gt 100 ] || fail "dpkg-buildpackage ran no tests (dh_auto_test: '$summary', $tested passed)"
echo "dpkg-buildpackage ${cross[*]}: $summary (in dh_auto_test$([ "$native" = true ] && echo "; and it builds with nocheck" || echo ", under qemu-user"))"
deb=$(cd "$work" && ls vgpio_*_"$arch".deb)
[ "$(dpkg-deb -f "$work/$deb" Architecture)" = "$arch" ] || fail "$deb is not for $arch"
contents=$(dpkg-deb -c "$work/$deb" | awk '{ print $NF }')
[ "$native" = false ] || [ "$contents" = "$contents_nocheck" ] || fail "the nocheck build's package holds other files:
$(diff <(echo "$contents_nocheck") <(echo "$contents"))"
echo "built $(cd "$work" && echo *.deb)"
# The plugin, in a package of its own, tied to the QEMU it was built from.
plugin_deb=$(cd "$work" && ls vgpio-qemu-clock_*_"$arch".deb) || fail "no vgpio-qemu-clock package was built"
[ "$(dpkg-deb -c "$work/$plugin_deb" | awk '$NF !~ /\/$/ { print $NF }' | grep -v '^./usr/share/doc/')" = \
  ./usr/lib/vgpio/vgpio-clock.so ] || fail "$plugin_deb holds: $(dpkg-deb -c "$work/$plugin_deb")"
! grep -q vgpio-clock <<< "$contents" || fail "$deb holds the plugin too"
depends=$(dpkg-deb -f "$work/$plugin_deb" Depends)
grep -qF "qemu-system-x86 (= $qemu_version) | qemu-system-arm (= $qemu_version)" <<< "$depends" ||
  fail "$plugin_deb does not depend on exactly QEMU $qemu_version: $depends"
[ "$(dpkg-deb -f "$work/$plugin_deb" Built-Using)" = "qemu (= $qemu_version)" ] ||
  fail "$plugin_deb's Built-Using: $(dpkg-deb -f "$work/$plugin_deb" Built-Using)"
echo "$plugin_deb: Depends: $depends"
rm -f "$keep"/*.deb && cp "$work"/*.deb "$keep/"
(cd "$work" && lintian --fail-on error --tag-display-limit 0 ./*.changes) || fail "lintian reports errors"

listed_files=(/usr/bin/vgpio /usr/bin/vgpio-panel /usr/share/man/man1/vgpio-panel.1.gz /lib/systemd/system/vgpio@.service
  /lib/systemd/system/vgpio@.socket /usr/share/man/man1/vgpio.1.gz /usr/share/man/man5/vgpio.toml.5.gz
  /usr/share/man/man7/vgpio-control.7.gz /usr/lib/sysusers.d/vgpio.conf /usr/lib/udev/rules.d/60-vgpio.rules
  /usr/share/doc/vgpio/examples/vm1.toml)
if [ "$native" = false ]; then
  for f in "${listed_files[@]}"; do grep -qx ".$f" <<< "$contents" || fail "$deb does not hold $f"; done
  # For tests/cross: the package's files, and the scripted driver its build made.
  rm -rf "$keep/root" "$keep/tools" && dpkg-deb -x "$work/$deb" "$keep/root"
  install -D -m 0755 "$work"/vgpio/obj-*/vgpio-frontend "$keep/tools/vgpio-frontend"
  echo "$deb: /usr/bin/vgpio is for $(readelf -h "$keep/root/usr/bin/vgpio" | sed -n 's/^ *\(Class\|Machine\): *//p' | paste -sd' ')"
  dpkg-deb -x "$work/$plugin_deb" "$work/plugin"
  echo "$plugin_deb: vgpio-clock.so is for $(readelf -h "$work/plugin/usr/lib/vgpio/vgpio-clock.so" | sed -n 's/^ *\(Class\|Machine\): *//p' | paste -sd' ')"
  echo "PASS"
  exit 0
fi

# vgpio only: python3-vgpio would register its pytest plugin with every
# pytest on this machine (tests/packaging/python_package_test.sh installs it
# in a root of its own).
compgen -G "$work/python3-vgpio_*_all.deb" > /dev/null || fail "no python3-vgpio package was built"
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --reinstall "$work/$deb" "$work/$plugin_deb" \
  > "$work/install.log" 2>&1 || { cat "$work/install.log"; fail "apt could not install $deb and $plugin_deb"; }

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
[ "$(/usr/bin/vgpio --version)" = "vgpio $version" ] || fail "installed vgpio --version: $(/usr/bin/vgpio --version)"
id vgpio | grep -q '(gpio)' || fail "no vgpio user in group gpio: $(id vgpio 2>&1)"

listed=$(dpkg -L vgpio)
for f in "${listed_files[@]}"; do
  grep -qx "$f" <<< "$listed" || fail "dpkg -L vgpio does not list $f"
done
out=$(cd / && systemd-analyze verify vgpio@vm1.socket vgpio@vm1.service 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify of the installed units complains:
$out"
man -w vgpio.toml > /dev/null || fail "man cannot find vgpio.toml(5)"
# The installed plugin gets past its version check in this QEMU (and stops
# at its socket, which nothing serves): QEMU never starts a guest here.
for qemu in qemu-system-x86_64 qemu-system-aarch64; do
  said=$(timeout 120 "$qemu" -machine none -display none -nodefaults -icount shift=3,sleep=off \
         -plugin "/usr/lib/vgpio/vgpio-clock.so,socket=$work/no-vgpio.sock.clock" 2>&1) &&
    fail "$qemu ran with the plugin and no vgpio"
  grep -q "vgpio-clock: cannot connect to $work/no-vgpio.sock.clock" <<< "$said" ||
    fail "the installed plugin in $qemu: $said"
done
echo "PASS"
