#!/usr/bin/env bash
# The arm64 test guest's userland from Debian's own arm64 packages:
# busybox-static, and the libgpiod v2 tools (gpiod, libgpiod3 from
# bookworm-backports) with the C library they load. Fetched with apt-get
# download and unpacked with dpkg -x into the cache; prints that folder.
# Needs arm64 among dpkg's architectures (scripts/setup.sh test adds it).
set -euo pipefail
cache=${VGPIO_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/tmp}/.cache}/vgpio}
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "testvm: arm64 is not a dpkg architecture here; run: dpkg --add-architecture arm64 && apt-get update" >&2
  exit 1
fi
# name:arch=version for each package, so the cache follows the versions.
pin() { # package, release ("" for the default)
  local v
  v=$(apt-cache madison "$1:arm64" | awk -F'|' -v r="$2" '$3 ~ r {gsub(/ /, "", $2); print $2; exit}')
  [ -n "$v" ] || { echo "testvm: no $1:arm64${2:+ in $2} in the apt sources" >&2; exit 1; }
  echo "$1:arm64=$v"
}
packages=("$(pin busybox-static bookworm/)" "$(pin libc6 bookworm/)" "$(pin libgpiod3 bookworm-backports)"
          "$(pin gpiod bookworm-backports)")
key=$(printf '%s\n' "${packages[@]}" | sha256sum | cut -c1-16)
out="$cache/arm64-userland-$key"
if [ -x "$out/usr/bin/gpiodetect" ]; then echo "$out"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"  # apt's _apt user downloads into it
(cd "$tmp" && apt-get download -q "${packages[@]}" >&2)
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$out.tmp"; done
rm -rf "$out.tmp/usr/share" "$out.tmp"/usr/lib/*/gconv  # documentation, locales, charsets: not for the guest
rm -rf "$out" && mv "$out.tmp" "$out"
echo "$out"
