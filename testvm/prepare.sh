#!/usr/bin/env bash
# Everything the guest tests boot, under one folder of the build tree:
#   bzImage            the test kernel (built once, cached)
#   initramfs.cpio.gz  busybox, the libgpiod tools, the guest init, vgpio
#   qemu72             Debian 12's QEMU 7.2, unpacked (cached)
# usage: prepare.sh OUT_DIR PROGRAM...   (programs to put into the guest: vgpio, vgpio-frontend)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
mkdir -p "$out"
kernel=$("$here/build-kernel.sh")
ln -sf "$kernel" "$out/bzImage"
"$here/build-initramfs.sh" "$out/initramfs.cpio.gz" "${@:2}" > /dev/null
qemu72=$("$here/fetch-qemu72.sh")
ln -sfn "$(dirname "$qemu72")" "$out/qemu72"
echo "testvm ready in $out: kernel $(readlink "$out/bzImage"), $(qemu-system-x86_64 --version | head -1), $("$out/qemu72/qemu-system-x86_64" --version | head -1)"
