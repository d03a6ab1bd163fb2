#!/bin/bash
# Runs in the systemd guest (tests/systemd/systemd_tests.py writes it there):
# COUNT restarts of vgpio@vm1.service of one KIND, each followed until the
# new daemon holds the lines (gpioinfo) and answers `vgpio ctl list` with
# the levels the guest drove. One line "took MICROSECONDS" a restart (from
# the command to the new daemon's answer), or "FAIL ..." and exit 1.
#   restart-loop.sh KIND COUNT CHIP [LINES]   KIND: restart | crash | upgrade
# LINES: the lines the guest drives, as `ctl list` shows them ("relay=out1 lamp=out0").
set -u
kind=$1 count=$2 chip=$3 expected=${4:-relay=out1 lamp=out0}
unit=vgpio@vm1.service
ctl="vgpio ctl --control /run/vgpio/vm1/control.sock"
fail() {
  echo "FAIL restart $i ($kind): $*"
  $ctl status 2>&1 | tail -8
  journalctl -u $unit -n 40 --no-pager
  exit 1
}
now_us() { echo $(($(date +%s%N) / 1000)); }
if [ "$kind" = upgrade ]; then
  # The package as installed, given a higher version each time: a real
  # upgrade for dpkg and apt, the same program.
  rm -rf /tmp/up && dpkg-deb -R "$(find /root -maxdepth 1 -name "vgpio_*.deb" | head -1)" /tmp/up || exit 1
  installed=$(dpkg-query -W -f='${Version}' vgpio)
  base=${installed%%+up*} n=0
  [ "$base" = "$installed" ] || n=${installed##*+up}
fi
for i in $(seq "$count"); do
  old=$(systemctl show -p MainPID --value $unit)
  [ "$old" != 0 ] || fail "no daemon before the restart"
  if [ "$kind" = upgrade ]; then
    sed -i "s/^Version: .*/Version: $base+up$((n + i))/" /tmp/up/DEBIAN/control
    dpkg-deb -Znone -b /tmp/up /tmp/up.deb > /dev/null || fail "dpkg-deb"
  fi
  t0=$(now_us)
  case $kind in
    restart) systemctl restart $unit || fail "systemctl restart" ;;
    crash) kill -SEGV "$old" ;;
    upgrade) DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/up.deb > /tmp/apt.log 2>&1 ||
               { cat /tmp/apt.log; fail "apt-get install"; } ;;
  esac
  while :; do
    pid=$(systemctl show -p MainPID --value $unit)
    if [ "$pid" != 0 ] && [ "$pid" != "$old" ] && rows=$($ctl list 2> /dev/null); then break; fi
    [ "$(systemctl is-failed $unit)" = failed ] && fail "the unit failed: $(systemctl status --no-pager $unit | tail -5)"
    sleep 0.02
  done
  t1=$(now_us)
  levels=" $(echo "$rows" | awk '{ printf "%s=%s%s ", $2, $3, $4 }')"
  for want in $expected; do
    [[ "$levels" == *" $want "* ]] || fail "the new daemon (pid $pid) answers, not $want: $rows"
  done
  held=$(gpioinfo -c "$chip" 1 2 | grep -Ec 'consumer="?vgpio-vm1"?')
  [ "$held" = 2 ] || fail "gpioinfo: $(gpioinfo -c "$chip" 1 2)"
  echo "took $((t1 - t0))"
  # systemd refuses a sixth start of a unit within 10 s, whoever asks
  # (StartLimitBurst=5, StartLimitIntervalSec=10s; a `systemctl restart` by
  # hand counts too) and the unit fails: restarts 2.5 s apart stay below it
  # (systemd_tests.py's test_what_systemd_does shows the other case).
  left=$((2500000 - ($(now_us) - t0)))
  [ $left -le 0 ] || sleep "$((left / 1000000)).$(printf %06d $((left % 1000000)))"
done
