#!/usr/bin/env bash
# Unpacks Debian 12's own QEMU 7.2 (qemu-system-x86 or qemu-system-arm, with
# qemu-system-common, from bookworm, not backports) into the cache with dpkg
# -x, beside the installed QEMU 10. Prints the path of a wrapper that makes it
# load its own modules (TCG is one).
# usage: fetch-qemu72.sh [x86_64|aarch64]
set -euo pipefail
cache=${VGPIO_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/tmp}/.cache}/vgpio}
target=${1:-x86_64}
case "$target" in
  x86_64) package=qemu-system-x86 firmware=(-L /usr/share/seabios) ;;
  aarch64) package=qemu-system-arm firmware=() ;;
  *) echo "fetch-qemu72.sh: unknown target $target (x86_64 or aarch64)" >&2; exit 2 ;;
esac
version=$(apt-cache madison "$package" | awk -F'|' '$2 ~ /^ *1:7\.2/ {gsub(/ /, "", $2); print $2; exit}')
[ -n "$version" ] || { echo "testvm: no QEMU 7.2 ($package) in the apt sources (is Debian 12 main listed?)" >&2; exit 1; }
out="$cache/qemu-${version//:/_}-$target"
wrapper="$out/qemu-system-$target"
if [ -x "$wrapper" ]; then echo "$wrapper"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"  # apt's _apt user downloads into it
(cd "$tmp" && apt-get download -q "$package=$version" "qemu-system-common=$version" >&2 2> /dev/null)
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$out.tmp"; done
cat > "$out.tmp/qemu-system-$target" <<WRAPPER
#!/bin/sh
QEMU_MODULE_DIR="$out/usr/lib/x86_64-linux-gnu/qemu" exec "$out/usr/bin/qemu-system-$target" -L /usr/share/qemu ${firmware[*]} "\$@"
WRAPPER
chmod +x "$out.tmp/qemu-system-$target"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "$wrapper"
