#!/usr/bin/env bash
# Unpacks Debian 12's own QEMU 7.2 (qemu-system-x86 and qemu-system-common
# from bookworm, not backports) into the cache with dpkg -x, beside the
# installed QEMU 10. Prints the path of a qemu-system-x86_64 wrapper that
# makes it load its own modules (TCG is one).
set -euo pipefail
cache=${VGPIO_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/tmp}/.cache}/vgpio}
version=$(apt-cache madison qemu-system-x86 | awk -F'|' '$2 ~ /^ *1:7\.2/ {gsub(/ /, "", $2); print $2; exit}')
[ -n "$version" ] || { echo "testvm: no QEMU 7.2 in the apt sources (is Debian 12 main listed?)" >&2; exit 1; }
out="$cache/qemu-${version//:/_}"
wrapper="$out/qemu-system-x86_64"
if [ -x "$wrapper" ]; then echo "$wrapper"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "qemu-system-x86=$version" "qemu-system-common=$version" >&2 2> /dev/null)
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$out.tmp"; done
cat > "$out.tmp/qemu-system-x86_64" <<WRAPPER
#!/bin/sh
QEMU_MODULE_DIR="$out/usr/lib/x86_64-linux-gnu/qemu" exec "$out/usr/bin/qemu-system-x86_64" -L /usr/share/qemu -L /usr/share/seabios "\$@"
WRAPPER
chmod +x "$out.tmp/qemu-system-x86_64"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "$wrapper"
