#!/usr/bin/env bash
# The package for ARCH (arm64, armhf), installed as a user on such a board
# installs it: a new Debian 12 root of that architecture (mmdebstrap; its
# programs run under qemu-user through binfmt_misc), where apt installs
# vgpio_ARCH.deb with what it depends on (libgpiod 2 from bookworm-backports)
# and its maintainer scripts run; then that vgpio runs there: --version, a
# device served with the embedded default's simulated lines, read back over
# the control socket and, as a frontend would, over vhost-user (vgpio probe).
# qemu-user has no seccomp or Landlock: vgpio serves with --no-sandbox there
# (tests/cross/arm_guest.sh runs it with its sandbox on an Arm kernel).
# usage: install_test.sh SOURCE_DIR ARCH DEB_DIR   (as root)
set -euo pipefail
src=$(realpath "$1") arch=$2 debs=$(realpath "$3")
source "$src/scripts/dependencies.sh"
fail() { echo "FAIL: $*"; exit 1; }
deb=$(ls "$debs"/vgpio_*_"$arch".deb) || fail "no vgpio package for $arch in $debs (packaging.deb.$arch makes it)"
cpu=$(dpkg-architecture -a "$arch" -q DEB_HOST_GNU_CPU 2> /dev/null)

# ARCH's programs run through qemu-user's binfmt_misc entry (qemu-user-binfmt),
# registered here when the machine has not (no systemd as PID 1 to do it at
# boot). F: the kernel keeps the interpreter open, so it runs in the root too.
binfmt=/proc/sys/fs/binfmt_misc
[ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt" ||
  fail "binfmt_misc is not mounted at $binfmt and cannot be"
if [ ! -e "$binfmt/qemu-$cpu" ]; then
  echo "registering qemu-user for $arch programs (/usr/lib/binfmt.d/qemu-$cpu.conf)"
  /usr/lib/systemd/systemd-binfmt "/usr/lib/binfmt.d/qemu-$cpu.conf" || fail "cannot register qemu-$cpu with binfmt_misc"
fi
grep -qx enabled "$binfmt/qemu-$cpu" || fail "binfmt_misc's qemu-$cpu entry is disabled"

mirror=$(debian_mirror)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# In the root: the control socket's answer and the probe's, kept for the checks here.
cat > "$work/run.sh" << 'EOF'
set -eu
vgpio --version
dpkg-query -W -f='${Status} ${Architecture}\n' vgpio
vgpio serve --no-sandbox --socket /tmp/vm.sock --name board --sim 4 --names led,relay,button,door > /tmp/serve.log 2>&1 &
i=0
until [ -S /tmp/vm.sock.ctl ]; do
  i=$((i + 1)); [ "$i" -lt 600 ] || { cat /tmp/serve.log; exit 1; }
  sleep 0.1
done
vgpio ctl --control /tmp/vm.sock.ctl set board led 1
vgpio ctl --control /tmp/vm.sock.ctl list
vgpio probe /tmp/vm.sock
kill -TERM $!
wait $! || { echo "vgpio serve ended with $?"; cat /tmp/serve.log; exit 1; }
EOF
mmdebstrap --quiet --arch="$arch" --variant=apt \
  --customize-hook="copy-in $deb $work/run.sh /tmp" \
  --customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/$(basename "$deb")" \
  --customize-hook='chroot "$1" sh /tmp/run.sh' \
  bookworm /dev/null "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
  "deb $mirror bookworm-backports main" > "$work/log" 2>&1 || { tail -60 "$work/log"; fail "see above"; }
log=$(cat "$work/log")
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
grep -qx "vgpio $version" <<< "$log" || fail "vgpio --version in the $arch root: $(tail -30 "$work/log")"
grep -qx "install ok installed $arch" <<< "$log" || fail "dpkg does not have vgpio:$arch installed: $(tail -30 "$work/log")"
grep -qE '^ +0 +led +none +1 ' <<< "$log" || fail "ctl list does not show led at 1: $(tail -30 "$work/log")"
grep -q '/tmp/vm.sock: virtio-gpio, 4 lines, names block 22 bytes, interrupts yes' <<< "$log" &&
  grep -qE '^ +line +3 +door ' <<< "$log" || fail "vgpio probe (vhost-user) in the $arch root: $(tail -30 "$work/log")"
grep -E '^Setting up vgpio|^vgpio [0-9]|^install ok|virtio-gpio, ' <<< "$log"
echo "$(basename "$deb"): installed by apt in a Debian 12 $arch root, vgpio $version served a device there"
echo "PASS"
