# Installing what vgpio needs from Debian 12's packages, for scripts/setup.sh
# (sourced; run from the source tree's top). The lists are written once:
#   the build's:  debian/control's Build-Depends (what the Debian package builds with)
#   the tests':   tests/packages.txt
# An entry that asks for a version Debian 12 itself lacks (libgpiod 2, QEMU 10)
# comes from bookworm-backports, whose apt source is added when it is missing.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The build's dependencies, one a line, without build profiles or architecture
# lists. debhelper-compat only with --packaging: only the package build uses it.
build_dependencies() {
  awk 'index($0, "Build-Depends:") == 1 { f = 1; print substr($0, 15); next }
       f && /^[ \t]/ { print; next } { f = 0 }' debian/control |
    tr ',' '\n' | sed -E 's/<[^>]*>//g; s/\[[^]]*\]//g; s/^[ \t]+//; s/[ \t]+$//' | grep -v '^$' |
    if [ "${1:-}" = --packaging ]; then cat; else grep -v '^debhelper-compat'; fi
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
      echo "setup: adding the $arch dpkg architecture (the $arch test guest's userland)"
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

# True when Debian 12's own candidate cannot satisfy "NAME (OP VERSION)".
needs_backports() {
  [[ "$1" =~ ^([^ ]+)\ *\((<<|<=|=|>=|>>)\ *([^\)]+)\) ]] || return 1
  local candidate
  candidate=$(apt-cache policy "${BASH_REMATCH[1]}" | awk '/Candidate:/ { print $2 }')
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
  for dep in "${deps[@]}"; do
    if needs_backports "$dep"; then backports+=("$dep"); else main+=("$dep"); fi
  done
  # force-unsafe-io: dpkg skips its fsync per unpacked file, which is most of
  # the time a fresh machine spends installing (as in Debian's own container
  # images); the system's own syncs still run.
  local apt=(as_root env DEBIAN_FRONTEND=noninteractive apt-get satisfy -y -q --no-install-recommends
             -o Dpkg::Options::=--force-unsafe-io)
  "${apt[@]}" "$(joined "${main[@]}")"
  [ "${#backports[@]}" -eq 0 ] || "${apt[@]}" -t bookworm-backports "$(joined "${backports[@]}")"
}
