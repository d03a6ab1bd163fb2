#!/usr/bin/env bash
# The README's commands on a brand-new Debian 12 machine: a root made by
# mmdebstrap (variant apt: no compiler, no python3), a clone of the committed
# HEAD in it, then
#   1. scripts/setup.sh build        (the build's dependencies come from the setup alone)
#   2. the unit tests
#   3. scripts/setup.sh serve        in the background, until it says "vgpio is serving"
#   4. vgpio ctl list                must answer
#   5. the tests' packages and each other architecture's build dependencies
#      (scripts/setup.sh test installs them): apt resolves every one of them
#      there (simulated, apt-get -s: installing them all is the test
#      command's own first run)
# A package that only this machine has installed by hand fails here, at the
# step that needs it. Commit first: what is not committed is not in the clone.
# usage: scripts/fresh-check.sh [--command CMD]   (as root)
#   --command CMD   run CMD in the new root instead (e.g. 'scripts/setup.sh test')
# Kept between runs, under /var/tmp/vgpio-fresh: the base root (made once, in
# about a minute) and apt's downloaded packages; with the machine's compiler
# cache, a check costs the install and the link, not the downloads and the
# compile. Nothing of them is installed: the root itself is new every time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
source scripts/dependencies.sh

command=""
[ "${1:-}" = --command ] && command=${2:?--command needs a command}
[ "$(id -u)" = 0 ] || { echo "fresh-check: run as root (it makes a root with mmdebstrap and chroots into it)" >&2; exit 2; }
step() { echo "fresh-check: $*" >&2; }
fail() { echo "fresh-check: FAILED at $*" >&2; exit 1; }

cache=${VGPIO_FRESH_CACHE:-/var/tmp/vgpio-fresh}
mirror=$(debian_mirror)
# ccache is the check's own tool, not vgpio's: a repeated build compiles nothing.
base_packages=ccache
base="$cache/bookworm-$(echo "$mirror $base_packages" | sha256sum | cut -c1-12).tar"
# The compiler cache: this machine's own when it has one (its build of the
# same tree fills it), else the check's. A header the new root lacks still
# fails there: ccache looks a compile up only after finding its headers.
# VGPIO_FRESH_CCACHE names another (an empty one: a measure from nothing).
ccache_dir=${VGPIO_FRESH_CCACHE:-$(ccache -k cache_dir 2> /dev/null || echo "$cache/ccache")}
mkdir -p "$cache/apt-archives/partial" "$ccache_dir"
# One check at a time on a machine: they share apt's downloads (and its lock).
exec 9> "$cache/lock"
flock -n 9 || { step "waiting for another fresh-check to finish"; flock 9; }
if [ ! -s "$base" ]; then
  step "making the base root once ($mirror, mmdebstrap variant apt)"
  mmdebstrap --quiet --variant=apt --include="$base_packages" bookworm "$base.part.tar" \
    "deb $mirror bookworm main" "deb $mirror bookworm-updates main" || fail "making the base root with mmdebstrap"
  mv "$base.part.tar" "$base"  # mmdebstrap writes a tarball for a name ending in .tar
fi

root=$(mktemp -d /var/tmp/vgpio-fresh-root.XXXXXX)
server=""
cleanup() {
  [ -z "$server" ] || kill -TERM -- "-$server" 2> /dev/null || true
  for m in root/.cache/ccache var/cache/apt/archives dev/pts dev sys proc; do umount -l "$root/$m" 2> /dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
tar -C "$root" -xf "$base"
# The machine's own network settings come along: its resolver, and the CAs
# it trusts (a proxy that inspects TLS, as npm's registry may be reached
# through, has its CA there), for what the tests fetch with npm.
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/host-ca-certificates.crt" 2> /dev/null || true
git clone -q "$here" "$root/src" || fail "cloning HEAD into the new root"
step "a new Debian 12 root with HEAD $(git -C "$root/src" rev-parse --short HEAD) in $root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
mkdir -p "$root/root/.cache/ccache"
mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
mount --bind "$ccache_dir" "$root/root/.cache/ccache"

# in_root CMD: CMD in the new root, in the clone, with a clean environment.
in_root() {
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 VGPIO_FRESH_ROOT=1 \
    NODE_EXTRA_CA_CERTS=/etc/host-ca-certificates.crt \
    bash -c "cd /src && $1"
}

if [ -n "$command" ]; then
  step "running '$command'"
  in_root "$command" || fail "'$command'"
  step "'$command' passed"
  exit 0
fi

# run_step N WHAT CMD: CMD in the root, its output in $cache/step-N.log, and
# the end of it shown when it fails.
run_step() {
  step "$1/5 $2"
  in_root "$3" > "$cache/step-$1.log" 2>&1 || { tail -30 "$cache/step-$1.log" >&2; fail "step $1/5, $2 (whole output: $cache/step-$1.log)"; }
}

started=$SECONDS
run_step 1 "scripts/setup.sh build" "scripts/setup.sh build"
run_step 2 "the unit tests" "ctest --test-dir build -R '^unit\\.' -j2 --output-on-failure"
tail -3 "$cache/step-2.log" >&2

step "3/5 scripts/setup.sh serve"
serve_log=$cache/step-3.log
setsid bash -c "$(declare -f in_root); root=$root; in_root 'scripts/setup.sh serve'" > "$serve_log" 2>&1 &
server=$!
for _ in $(seq 600); do  # a bound only a hang reaches; it builds nothing by now
  grep -q "vgpio is serving" "$serve_log" && break
  kill -0 "$server" 2> /dev/null || { cat "$serve_log"; fail "step 3/5, scripts/setup.sh serve exited"; }
  sleep 0.5
done
grep -q "vgpio is serving" "$serve_log" || { cat "$serve_log"; fail "step 3/5, no \"vgpio is serving\" in 5 minutes"; }

run_step 4 "vgpio ctl list" "timeout 10 build/vgpio ctl list"
cat "$cache/step-4.log" >&2
run_step 5 "the tests' and the other architectures' packages resolve" \
  "VGPIO_APT_SIMULATE=1 bash -c 'source scripts/dependencies.sh && install_dependencies test arm64 && install_cross_dependencies \$(cross_architectures)'"
grep -c '^Inst ' "$cache/step-5.log" | sed 's/^/fresh-check: packages apt would install for the tests and the cross builds: /' >&2
step "passed in $((SECONDS - started)) s: setup.sh build, the unit tests, setup.sh serve, vgpio ctl list and the tests' packages on a new Debian 12 root"
