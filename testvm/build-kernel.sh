#!/usr/bin/env bash
# Builds a test guest kernel from Debian's linux-source-6.12 and prints the
# path of its image: bzImage for x86_64, Image for arm64 (cross-built with
# Debian's gcc-aarch64-linux-gnu). Cached under a key made of the fragments,
# the architecture and the source version, so later runs only print the path.
# usage: build-kernel.sh [x86_64|arm64]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
arch=${1:-x86_64}
case "$arch" in
  x86_64) image=arch/x86/boot/bzImage make_args=(ARCH=x86_64) ;;
  arm64) image=arch/arm64/boot/Image make_args=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) ;;
  *) echo "build-kernel.sh: unknown architecture $arch (x86_64 or arm64)" >&2; exit 2 ;;
esac
fragments=("$here/kernel.fragment" "$here/kernel-$arch.fragment")
cache=${VGPIO_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/tmp}/.cache}/vgpio}
tarball=$(ls /usr/src/linux-source-6.12.tar.xz)
version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( (cat "${fragments[@]}"; echo "$arch $version") | sha256sum | cut -c1-16)
out="$cache/kernel-$key"
name=$(basename "$image")
if [ -f "$out/$name" ]; then echo "$out/$name"; exit 0; fi

work="$cache/build-$key"
rm -rf "$work" && mkdir -p "$work"
echo "testvm: building the $arch guest kernel (linux-source $version, a few minutes)" >&2
tar -xf "$tarball" -C "$work" --strip-components=1
cd "$work"
make -s "${make_args[@]}" tinyconfig > /dev/null
./scripts/kconfig/merge_config.sh -m .config "${fragments[@]}" > /dev/null
make -s "${make_args[@]}" olddefconfig > /dev/null
# Every line of the fragments must have survived: a missing dependency would
# otherwise drop an option without a word.
cat "${fragments[@]}" | while IFS= read -r line; do
  case "$line" in CONFIG_*) grep -qx "$line" .config || { echo "testvm: $line did not stick ($arch)" >&2; exit 1; } ;; esac
done
make -s "${make_args[@]}" -j"$(nproc)" "$name" >&2
mkdir -p "$out"
cp "$image" "$out/$name"
cp .config "$out/config"
cd / && rm -rf "$work"
echo "$out/$name"
