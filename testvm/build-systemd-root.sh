#!/usr/bin/env bash
# Builds the service tests' guest root and prints the path of its cpio: a
# Debian 12 userland (mmdebstrap) that the test kernel boots as its initramfs
# with systemd as PID 1, with the packages of systemd-root/packages.txt and
# every package the vgpio .deb depends on (so that `apt install ./vgpio_*.deb`
# in the guest needs no network), and the harness's shell on ttyS1
# (systemd-root/vgpio-test-agent). Cached under a key made of those inputs and
# the mirror: later runs only print the path.
# usage: build-systemd-root.sh DEB   (as root: the root's files keep their owners)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/dependencies.sh"  # debian_mirror, joined
deb=$1
[ "$(id -u)" = 0 ] || { echo "build-systemd-root.sh: run as root" >&2; exit 2; }

# "libc6 (>= 2.34), libgpiod3 (>= 2.1)" -> libc6 libgpiod3 (an alternative: its first)
mapfile -t depends < <(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' | grep -v '^$')
mapfile -t listed < <(sed -E 's/#.*//; s/[[:space:]]//g' "$here/systemd-root/packages.txt" | grep -v '^$')
mirror=$(debian_mirror)
cache=${VGPIO_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/tmp}/.cache}/vgpio}
key=$( (cat "$0" "$here"/systemd-root/*; echo "$mirror ${depends[*]}") | sha256sum | cut -c1-16)
out="$cache/systemd-root-$key.cpio"
if [ -s "$out" ]; then echo "$out"; exit 0; fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/systemd-root-build.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
echo "testvm: making the systemd guest's Debian 12 root with mmdebstrap ($mirror, once)" >&2
# Docs, man pages and translations stay out: the root lives in the guest's RAM.
mmdebstrap --quiet --variant=apt --include="$(joined "${listed[@]}" "${depends[@]}")" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  bookworm "$work/root" "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
  "deb $mirror bookworm-backports main" >&2

root=$work/root
install -m 0755 "$here/systemd-root/vgpio-test-agent" "$root/usr/local/sbin/vgpio-test-agent"
install -m 0644 "$here/systemd-root/vgpio-test-agent.service" "$root/etc/systemd/system/vgpio-test-agent.service"
mkdir -p "$root/etc/systemd/system/sysinit.target.wants"
ln -sf ../vgpio-test-agent.service "$root/etc/systemd/system/sysinit.target.wants/"
# The kernel starts /init from an initramfs; the machine is no initrd
# (no /etc/initrd-release), so systemd boots it as the system itself.
ln -sf /lib/systemd/systemd "$root/init"
echo vgpio-guest > "$root/etc/hostname"
# Nothing to log in to, no timers to wake the one vCPU.
for unit in getty.target apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
            fstrim.timer systemd-tmpfiles-clean.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) > "$out.part"
mv "$out.part" "$out"
echo "$out"
