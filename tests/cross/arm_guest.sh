#!/usr/bin/env bash
# A host-line scenario (tests/guest/host_line_tests.py) in the arm64 test
# guest, with vgpio and the scripted driver built for ARCH (arm64, or armhf
# for the guest kernel's 32-bit compat mode) from that architecture's
# package build (tests/packaging/package_test.sh leaves them in DEB_DIR):
# gpio-sim chips of an Arm kernel, vgpio in its sandbox with that
# architecture's system calls.
# usage: arm_guest.sh ARCH DEB_DIR TESTVM_DIR SCENARIO
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
arch=$1 deb_dir=$2 testvm=$3 scenario=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/../../testvm/build-arm-overlay.sh" "$work/overlay.cpio.gz" "$arch" \
  "$deb_dir/root/usr/bin/vgpio" "$deb_dir/tools/vgpio-frontend" > /dev/null
# The kernel unpacks one archive after the other: the second adds to the first.
cat "$testvm/initramfs-arm64.cpio.gz" "$work/overlay.cpio.gz" > "$work/initramfs.cpio.gz"
VGPIO_PLATFORM=arm64 VGPIO_KERNEL_ARM64=$testvm/Image VGPIO_INITRD_ARM64=$work/initramfs.cpio.gz \
  python3 "$here/../guest/host_line_tests.py" "$scenario"
