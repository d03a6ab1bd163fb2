#!/usr/bin/env bash
# Builds the test guest's initramfs: busybox-static, the libgpiod v2 tools with
# their libraries, the guest init, and any extra programs given (with theirs).
# With --arm64 DIR, the userland is Debian's arm64 packages unpacked in DIR
# (fetch-arm64-userland.sh), and no host programs go in.
# usage: build-initramfs.sh [--arm64 DIR] OUT.cpio.gz [program...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
arm64=
if [ "${1:-}" = --arm64 ]; then arm64=$2; shift 2; fi
out=$(realpath -m "$1")
shift
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,lib,lib64,proc,sys,dev,tmp,etc,root}

if [ -n "$arm64" ]; then
  cp -a "$arm64/." "$stage/"
else
  cp /bin/busybox "$stage/bin/busybox"
fi
# The host's busybox lists the applets: the arm64 one cannot run here, and it
# is the same Debian package built for another architecture.
for applet in $(/bin/busybox --list); do
  [ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done

# A program and every library it loads, at the same paths as on the host.
add_program() {
  local prog=$1
  # Stripped: the guest has little RAM for its root, and a test copies vgpio there.
  install -D -m 0755 -s "$prog" "$stage/usr/bin/$(basename "$prog")"
  ldd "$prog" | grep -oE '/[^ ]+' | while read -r lib; do
    [ -e "$stage$lib" ] || install -D -m 0755 "$(realpath "$lib")" "$stage$lib"
  done
}
if [ -z "$arm64" ]; then
  for tool in gpiodetect gpioinfo gpioget gpioset gpiomon gpionotify; do add_program "/usr/bin/$tool"; done
  for prog in "$@"; do add_program "$prog"; done
fi

install -m 0755 "$here/guest-init.sh" "$stage/init"
(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
