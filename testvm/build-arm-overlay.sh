#!/usr/bin/env bash
# A second initramfs archive for the arm64 test guest: programs built for Arm
# (arm64, or armhf for the guest kernel's 32-bit compat mode), each with every
# library it loads and its dynamic loader, taken from this machine's
# multiarch install of that architecture (the same Debian packages the cross
# build linked against). The kernel unpacks it after the guest's own
# initramfs: cat the two. The programs go to /usr/bin, where the guest
# finds them as it would its own.
# usage: build-arm-overlay.sh OUT.cpio.gz ARCH PROGRAM...
set -euo pipefail
out=$(realpath -m "$1")
arch=$2
shift 2
triplet=$(dpkg-architecture -a "$arch" -qDEB_HOST_MULTIARCH)
readelf=$triplet-readelf
command -v "$readelf" > /dev/null || { echo "build-arm-overlay.sh: no $readelf (crossbuild-essential-$arch)" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# add_library NAME: NAME (a file name) and what it loads, from ARCH's library folders.
add_library() {
  local name=$1 path
  for dir in "/lib/$triplet" "/usr/lib/$triplet"; do
    [ -e "$dir/$name" ] && { path=$dir/$name; break; }
  done
  [ -n "${path:-}" ] || { echo "build-arm-overlay.sh: no $name for $arch here (is its package installed for $arch?)" >&2; exit 1; }
  [ -e "$stage$path" ] && return
  install -D -m 0755 "$(realpath "$path")" "$stage$path"
  add_needed "$path"
}
add_needed() {
  for needed in $("$readelf" -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do add_library "$needed"; done
}

for program in "$@"; do
  install -D -m 0755 "$program" "$stage/usr/bin/$(basename "$program")"
  loader=$("$readelf" -l "$program" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
  [ -n "$loader" ] || { echo "build-arm-overlay.sh: $program has no program interpreter" >&2; exit 1; }
  [ -e "$stage$loader" ] || install -D -m 0755 "$(realpath "$loader")" "$stage$loader"
  add_needed "$program"
done
(cd "$stage" && find . -mindepth 1 -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
