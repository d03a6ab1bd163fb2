#!/usr/bin/env bash
# Builds the test guest's initramfs: busybox-static, the libgpiod v2 tools with
# their libraries, the guest init, and any extra programs given (with theirs).
# usage: build-initramfs.sh OUT.cpio.gz [program...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "$1")
shift
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,lib,lib64,proc,sys,dev,tmp,etc,root}

cp /bin/busybox "$stage/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done

# A program and every library it loads, at the same paths as on the host.
add_program() {
  local prog=$1
  install -D -m 0755 "$prog" "$stage/usr/bin/$(basename "$prog")"
  ldd "$prog" | grep -oE '/[^ ]+' | while read -r lib; do
    [ -e "$stage$lib" ] || install -D -m 0755 "$(realpath "$lib")" "$stage$lib"
  done
}
for tool in gpiodetect gpioinfo gpioget gpioset gpiomon gpionotify; do add_program "/usr/bin/$tool"; done
for prog in "$@"; do add_program "$prog"; done

install -m 0755 "$here/guest-init.sh" "$stage/init"
(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
