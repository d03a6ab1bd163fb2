#!/usr/bin/env bash
# The demo in one command (after a build): prepares the test VM (the kernel
# build takes about 3 minutes the first time), then runs demo.py.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/testvm/prepare.sh" "$root/build/testvm" "$root/build/vgpio" "$root/build/vgpio-frontend" > /dev/null
VGPIO_BIN="$root/build/vgpio" VGPIO_KERNEL="$root/build/testvm/bzImage" \
  VGPIO_INITRD="$root/build/testvm/initramfs.cpio.gz" exec python3 "$root/testvm/demo.py"
