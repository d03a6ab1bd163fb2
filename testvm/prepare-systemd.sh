#!/usr/bin/env bash
# What the systemd guest's tests boot (tests/systemd), under one folder:
#   bzImage            the x86_64 test kernel (built once, cached; it has what systemd needs)
#   systemd-root.cpio  the cached Debian 12 root (build-systemd-root.sh) and, after it,
#                      the vgpio package in /root and the test programs in /usr/local/bin
# usage: prepare-systemd.sh OUT_DIR DEB_DIR PROGRAM...   (as root; DEB_DIR holds one vgpio_*.deb)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "$1")
deb=$(ls "$2"/vgpio_*.deb)
[ "$(echo "$deb" | wc -l)" = 1 ] || { echo "prepare-systemd.sh: not one vgpio_*.deb in $2: $deb" >&2; exit 1; }
shift 2
mkdir -p "$out"
ln -sf "$("$here/build-kernel.sh" x86_64)" "$out/bzImage"
base=$("$here/build-systemd-root.sh" "$deb")

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -D -m 0644 "$deb" "$stage/root/$(basename "$deb")"
for prog in "$@"; do install -D -m 0755 -s "$prog" "$stage/usr/local/bin/$(basename "$prog")"; done
# The kernel unpacks one archive after the other: the second adds to the first.
(cat "$base"; cd "$stage" && find . -mindepth 1 -print0 | cpio --null -o -H newc --quiet) > "$out/systemd-root.cpio.part"
mv "$out/systemd-root.cpio.part" "$out/systemd-root.cpio"
echo "systemd guest ready in $out: $(basename "$base") and $(basename "$deb")"
