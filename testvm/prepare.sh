#!/usr/bin/env bash
# Everything the guest tests boot, under one folder of the build tree:
#   bzImage            the x86_64 test kernel (built once, cached)
#   initramfs.cpio.gz  busybox, the libgpiod tools, the guest init, vgpio
#   qemu72             Debian 12's QEMU 7.2 for x86_64, unpacked (cached)
# and with VGPIO_TESTVM_ARM64=1 (the test suite) the Arm guest too:
#   Image              the arm64 test kernel (cross-built once, cached)
#   initramfs-arm64.cpio.gz  Debian's arm64 busybox and libgpiod tools, the guest init
#   qemu72-aarch64     Debian 12's QEMU 7.2 for Arm, unpacked (cached)
# usage: prepare.sh OUT_DIR PROGRAM...   (programs to put into the guest: vgpio, vgpio-frontend)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
mkdir -p "$out"
kernel=$("$here/build-kernel.sh" x86_64)
ln -sf "$kernel" "$out/bzImage"
"$here/build-initramfs.sh" "$out/initramfs.cpio.gz" "${@:2}" > /dev/null
ln -sfn "$(dirname "$("$here/fetch-qemu72.sh" x86_64)")" "$out/qemu72"
if [ "${VGPIO_TESTVM_ARM64:-0}" = 1 ]; then  # the test suite's; the demo needs no Arm guest
  ln -sf "$("$here/build-kernel.sh" arm64)" "$out/Image"
  "$here/build-initramfs.sh" --arm64 "$("$here/fetch-arm64-userland.sh")" "$out/initramfs-arm64.cpio.gz" > /dev/null
  ln -sfn "$(dirname "$("$here/fetch-qemu72.sh" aarch64)")" "$out/qemu72-aarch64"
fi
echo "testvm ready in $out: kernel $(readlink "$out/bzImage")${VGPIO_TESTVM_ARM64:+ and $(readlink "$out/Image")}, $(qemu-system-x86_64 --version | head -1), $("$out/qemu72/qemu-system-x86_64" --version | head -1)"
