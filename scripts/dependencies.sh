# shellcheck shell=bash
# Installing what vgpio needs from Debian 12's packages, for scripts/setup.sh
# (sourced; run from the source tree's top). The lists are written once:
#   the build's:  debian/control's Build-Depends (what the Debian package builds with)
#   the tests':   tests/packages.txt
# An entry that asks for a version Debian 12 itself lacks (libgpiod 2, QEMU 10)
# comes from bookworm-backports, whose apt source is added when it is missing.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The build's dependencies, one a line, without build profiles or architecture
# lists. debhelper-compat and Build-Depends-Indep (the Python client's
# package) only with --packaging: only the package build uses them; those of
# the <cross> profile only with --cross (which builds no Architecture: all
# package, so has no Build-Depends-Indep). build-essential (the
# compiler) is implied, as for every Debian package (policy 4.2):
# debian/control does not name it, so that a cross build's dependencies
# (apt-get satisfy -a ARCH) can be resolved at all.
build_dependencies() {
  local packaging=false cross=false
  for option in "$@"; do
    case "$option" in --packaging) packaging=true ;; --cross) cross=true ;; esac
  done
  [ "$cross" = true ] || echo build-essential
  # A cross build builds the architecture's packages only (dpkg-buildpackage -B).
  local indep=$packaging
  [ "$cross" = false ] || indep=false
  awk -v indep="$indep" '
       index($0, "Build-Depends:") == 1 { f = 1; print substr($0, 15); next }
       index($0, "Build-Depends-Indep:") == 1 && indep == "true" { f = 1; print substr($0, 21); next }
       /^#/ { next } f && /^[ \t]/ { print; next } { f = 0 }' debian/control |
    tr ',' '\n' | sed -E 's/^[ \t]+//; s/[ \t]+$//' | grep -v '^$' |
    { if [ "$cross" = true ]; then cat; else grep -v '<cross>'; fi; } |
    sed -E 's/<[^>]*>//g; s/\[[^]]*\]//g; s/[ \t]+$//' |
    { if [ "$packaging" = true ]; then cat; else grep -v '^debhelper-compat'; fi; }
}

# The other architectures vgpio is built and tested for (tests/cross).
cross_architectures() {
  sed -E 's/#.*//; s/[ \t]+//g' tests/cross/architectures.txt | grep -v '^$'
}

# The tests' own, one a line.
test_dependencies() {
  sed -E 's/#.*//; s/^[ \t]+//; s/[ \t]+$//' tests/packages.txt | grep -v '^$'
}

# The mirror this system already uses for bookworm (its own mirror or proxy),
# from a one-line source ("deb [opts] URI bookworm ...") or a deb822 one.
debian_mirror() {
  local uri
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2> /dev/null | sed -E 's/\[[^]]*\]//' |
        awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
  [ -n "$uri" ] || uri=$(cat /etc/apt/sources.list.d/*.sources 2> /dev/null | awk -v RS= '
      /(^|\n)Suites:([^\n]* )?bookworm( |\n|$)/ && !/(^|\n)Enabled: *no/ {
        if (match($0, /(^|\n)URIs: *[^ \n]+/)) { u = substr($0, RSTART, RLENGTH); sub(/.*URIs: */, "", u); print u; exit }
      }')
  echo "${uri:-http://deb.debian.org/debian}"
}

# True when a source was added (the package lists must then be updated):
# bookworm-backports' packages, and its source packages (deb-src), from which
# the QEMU plugin API header comes (scripts/qemu-plugin-api.sh).
ensure_backports() {
  local added=1 mirror
  mirror=$(debian_mirror)
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "setup: adding the bookworm-backports apt source ($mirror)"
    backports_source deb bookworm-backports.sources "$mirror"
    added=0
  fi
  if ! cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2> /dev/null | grep -qE '^deb-src .*bookworm-backports' &&
     ! cat /etc/apt/sources.list.d/*.sources 2> /dev/null | awk -v RS= '/Types:[^\n]*deb-src/ && /bookworm-backports/' | grep -q .; then
    echo "setup: adding bookworm-backports' source packages (deb-src; the QEMU plugin API header comes from them)"
    backports_source deb-src bookworm-backports-src.sources "$mirror"
    added=0
  fi
  return $added
}

backports_source() {  # TYPE FILE MIRROR
  as_root tee "/etc/apt/sources.list.d/$2" > /dev/null <<SOURCES
Types: $1
URIs: $3
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
}

# Adds each dpkg architecture named; true when one was added.
ensure_architectures() {
  local added=1
  for arch in "$@"; do
    if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
      echo "setup: adding the $arch dpkg architecture (the arm64 test guest's userland, the builds for Arm)"
      as_root dpkg --add-architecture "$arch"
      added=0
    fi
  done
  return $added
}

joined() { local IFS=,; echo "$*"; }

# True when apt would install nothing for these dependencies (apt itself
# decides, so a package another one provides counts: nodesource's nodejs is npm).
all_installed() {
  local plan
  plan=$(apt-get -s -q satisfy "$(joined "$@")" 2> /dev/null) || return 1
  ! grep -q '^Inst ' <<< "$plan"
}

# True when Debian 12's own candidate cannot satisfy "NAME (OP VERSION)"
# (NAME:ARCH's, with an ARCH).
needs_backports() {
  [[ "$1" =~ ^([^ ]+)\ *\((<<|<=|=|>=|>>)\ *([^\)]+)\) ]] || return 1
  local candidate
  candidate=$(apt-cache policy "${BASH_REMATCH[1]}${2:+:$2}" | awk '/Candidate:/ { print $2 }')
  [ -z "$candidate" ] || [ "$candidate" = "(none)" ] ||
    ! dpkg --compare-versions "$candidate" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}"
}

# install_dependencies build|test [ARCH...]: the build's dependencies, with
# "test" the tests' and the package build's too; ARCHs: dpkg architectures the
# tests need. Quick and quiet when everything is there already.
install_dependencies() {
  local what=$1 changed=false deps=() main=() backports=()
  shift
  ensure_backports && changed=true
  ensure_architectures "$@" && changed=true
  if [ "$what" = test ]; then
    mapfile -t deps < <(build_dependencies --packaging; test_dependencies)
  else
    mapfile -t deps < <(build_dependencies)
  fi
  if [ "$changed" = false ] && all_installed "${deps[@]}"; then return; fi
  echo "setup: installing the build's dependencies (debian/control)$([ "$what" = test ] && echo " and the tests' (tests/packages.txt)")"
  as_root apt-get update -q
  satisfy "" "${deps[@]}"
}

# install_cross_dependencies ARCH...: what building for each dpkg ARCH on this
# machine takes: Debian's cross compiler (crossbuild-essential-ARCH) and the
# build's dependencies for ARCH, read from debian/control as apt-get build-dep
# reads them for a cross build (libraries of ARCH, tools of this machine).
install_cross_dependencies() {
  local changed=false deps=()
  ensure_architectures "$@" && changed=true
  mapfile -t deps < <(build_dependencies --packaging --cross)
  for arch in "$@"; do
    if [ "$changed" = false ] && all_installed "crossbuild-essential-$arch" &&
       all_installed_for "$arch" "${deps[@]}"; then continue; fi
    echo "setup: installing the $arch cross compiler and the build's dependencies for $arch (debian/control)"
    [ "$changed" = false ] || { as_root apt-get update -q; changed=false; }
    satisfy "" "crossbuild-essential-$arch" || return 1
    satisfy "$arch" "${deps[@]}" || return 1
  done
}

# True when apt would install nothing for these dependencies of ARCH, asked
# as satisfy would install them (simulated).
all_installed_for() {  # ARCH DEP...
  local plan
  plan=$(VGPIO_APT_SIMULATE=1 satisfy "$@" 2> /dev/null) || return 1
  ! grep -q '^Inst ' <<< "$plan"
}

# satisfy ARCH DEP...: DEPs (for the host architecture ARCH; "" for this
# machine's), each from Debian 12 or, where it asks for more, from backports.
satisfy() {
  local arch=$1 main=() backports=()
  shift
  for dep in "$@"; do
    if needs_backports "$dep" "$arch"; then backports+=("$dep"); else main+=("$dep"); fi
  done
  # force-unsafe-io: dpkg skips its fsync per unpacked file, which is most of
  # the time a fresh machine spends installing (as in Debian's own container
  # images); the system's own syncs still run.
  # VGPIO_APT_SIMULATE=1: apt only says what it would do (apt-get -s), and
  # fails as it would (the fresh-machine check).
  local apt=(as_root env DEBIAN_FRONTEND=noninteractive apt-get satisfy -y -q --no-install-recommends
             -o Dpkg::Options::=--force-unsafe-io ${arch:+-a "$arch"})
  [ "${VGPIO_APT_SIMULATE:-0}" = 0 ] || apt+=(-s)
  [ "${#main[@]}" -eq 0 ] || "${apt[@]}" "$(joined "${main[@]}")" || return 1
  [ "${#backports[@]}" -eq 0 ] || "${apt[@]}" -t bookworm-backports "$(joined "${backports[@]}")" || return 1
}
