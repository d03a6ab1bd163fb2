#!/usr/bin/env bash
# Builds the test guest kernel from Debian's linux-source-6.12 and prints the
# path of its bzImage. Cached under a key made of the fragment and the source
# version, so later runs only print the path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${VGPIO_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/tmp}/.cache}/vgpio}
tarball=$(ls /usr/src/linux-source-6.12.tar.xz)
version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( (cat "$here/kernel.fragment"; echo "$version") | sha256sum | cut -c1-16)
out="$cache/kernel-$key"
if [ -f "$out/bzImage" ]; then echo "$out/bzImage"; exit 0; fi

work="$cache/build-$key"
rm -rf "$work" && mkdir -p "$work"
echo "testvm: building the guest kernel (linux-source $version, about 3 minutes)" >&2
tar -xf "$tarball" -C "$work" --strip-components=1
cd "$work"
make -s ARCH=x86_64 tinyconfig > /dev/null
./scripts/kconfig/merge_config.sh -m .config "$here/kernel.fragment" > /dev/null
make -s ARCH=x86_64 olddefconfig > /dev/null
# Every line of the fragment must have survived: a missing dependency would
# otherwise drop an option without a word.
while IFS= read -r line; do
  case "$line" in CONFIG_*) grep -qx "$line" .config || { echo "testvm: $line did not stick" >&2; exit 1; } ;; esac
done < "$here/kernel.fragment"
make -s ARCH=x86_64 -j"$(nproc)" bzImage >&2
mkdir -p "$out"
cp arch/x86/boot/bzImage "$out/bzImage"
cp .config "$out/config"
cd / && rm -rf "$work"
echo "$out/bzImage"
