#!/usr/bin/env bash
# The units, man pages and libvirt example as the tools that read them see
# them: systemd-analyze verify (no complaint at all), systemd-analyze security
# (exposure 1.5 or lower), mandoc and groff lint, virt-xml-validate.
# usage: units_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$(realpath "$1")
build=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$work"

# The units as installed, with the build's vgpio and man pages standing in
# for the installed ones: verify looks for both, and this test must not need
# the package installed (tests/packaging/package_test.sh verifies the units it
# installs).
sed "s|@CMAKE_INSTALL_FULL_BINDIR@|$build|" "$src/systemd/vgpio@.service.in" > 'vgpio@.service'
mkdir -p man/man1 man/man5 man/man7
cp "$build"/man/*.1 man/man1/ && cp "$build"/man/*.5 man/man5/ && cp "$build"/man/*.7 man/man7/
export MANPATH=$work/man
cp "$src/systemd/vgpio@.socket" .
# The template and an instance of each: verify must not say a word.
cp 'vgpio@.service' 'vgpio@vm1.service'
cp 'vgpio@.socket' 'vgpio@vm1.socket'
out=$(systemd-analyze verify ./vgpio@.service ./vgpio@.socket ./vgpio@vm1.service ./vgpio@vm1.socket 2>&1) ||
  fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify complains:
$out"

report=$(systemd-analyze security --offline=true ./vgpio@.service)
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<< "$report")
[ -n "$exposure" ] || fail "no exposure level in:
$report"
echo "systemd-analyze security: exposure $exposure"
awk -v e="$exposure" 'BEGIN { exit !(e <= 1.5) }' || fail "exposure $exposure is above 1.5:
$(grep '✗' <<< "$report")"

# Man pages: built by scdoc, clean for mandoc (errors) and groff (all warnings).
for page in vgpio.1 vgpio.toml.5 vgpio-panel.1 vgpio-control.7; do
  [ -s "$build/man/$page" ] || fail "man page $page was not built"
  mandoc -T lint -W error "$build/man/$page" || fail "mandoc lint: $page"
  warnings=$(groff -man -ww -z "$build/man/$page" 2>&1)
  [ -z "$warnings" ] || fail "groff warnings in $page: $warnings"
done
# Every option of `vgpio serve` and every config key is documented.
for option in $("$build/vgpio" serve --help | grep -oE -- '--[a-z-]+' | sort -u); do
  [ "$option" = "--help" ] && continue
  grep -q -- "$option" "$src/man/vgpio.1.scd" || fail "vgpio(1) does not document serve $option"
done
for key in control socket_mode socket_owner socket_group control_mode control_observe control_act create_dir name socket \
           connect simulated chip offset host_name \
           direction safe_level initial when_idle active_low bias debounce; do
  grep -q "\*$key\* (" "$src/man/vgpio.toml.5.scd" || fail "vgpio.toml(5) does not document \"$key\""
done

virt-xml-validate "$src/examples/libvirt/vgpio-domain.xml" domain || fail "the libvirt example does not validate"
echo "PASS"
