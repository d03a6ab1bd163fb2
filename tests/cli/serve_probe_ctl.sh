#!/usr/bin/env bash
# The embedded default as a user meets it: `vgpio serve` with no options, then
# probe and ctl from another shell, then SIGTERM; plus the socket-file rules.
set -euo pipefail
vgpio=$(realpath "$1")
frontend=$(realpath "$2")  # vgpio-frontend: a scripted driver
dir=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
cd "$dir"
fail() { echo "FAIL: $*"; echo "--- daemon stderr:"; cat serve.err 2>/dev/null; exit 1; }
wait_for_socket() { for _ in $(seq 400); do [ -S "$1" ] && return 0; sleep 0.05; done; fail "no socket $1"; }

"$vgpio" serve > serve.out 2> serve.err & pid=$!
wait_for_socket vgpio.sock.ctl

out=$("$vgpio" probe ./vgpio.sock) || fail "probe failed"
echo "$out"
grep -q "8 lines" <<< "$out" || fail "probe does not report 8 lines"
[ "$(grep -cE 'line +[0-7]  sim[0-7] ' <<< "$out")" = 8 ] || fail "probe does not show 8 named lines"
grep -q "vhost-user-gpio-pci,chardev=vgpio0" serve.out || fail "serve does not print the QEMU options"
[ "$(stat -c %a vgpio.sock)" = 600 ] || fail "device socket is not 0600"

# The sandbox is on by default, and says so.
grep -q "^NoNewPrivs:.1" /proc/$pid/status || fail "no_new_privs is not set"
grep -q "^Seccomp:.2" /proc/$pid/status || fail "no seccomp filter"
status=$("$vgpio" ctl status) || fail "ctl status"
grep -q "no_new_privs    yes" <<< "$status" && grep -q "seccomp         filter" <<< "$status" \
  || fail "ctl status does not show the sandbox: $status"
grep -q "sandbox: running as" serve.err || fail "the sandbox is not in the log"
# Devices made at run time get their sockets in the create directory only
# (here the control socket's): vgpio checks it itself, Landlock or not.
outside=$(mktemp -d)
if "$vgpio" ctl create made "$outside/made.sock" --line a 2> create.err; then fail "a socket was made outside"; fi
[ -z "$(ls "$outside")" ] || fail "ctl create left a file outside: $(ls "$outside")"
rmdir "$outside"
grep -q "devices made at run time get their sockets in $PWD" create.err \
  || fail "ctl create outside the create directory: $(cat create.err)"
[ "$(stat -c %a vgpio.sock.ctl)" = 600 ] || fail "the control socket is not owner-only"

"$vgpio" ctl set vgpio0 sim3 1 || fail "ctl set"
[ "$("$vgpio" ctl get vgpio0 3)" = 1 ] || fail "ctl get by number"
[ "$("$vgpio" ctl get vgpio0 sim3)" = 1 ] || fail "ctl get by name"
"$vgpio" ctl list | grep -q "sim7" || fail "ctl list"
"$vgpio" ctl get vgpio0 sim99 2> err.txt && fail "ctl get of a missing line succeeded"
grep -q "no line" err.txt || fail "missing line error unclear: $(cat err.txt)"

# A second daemon on the same path refuses clearly and leaves the first alone.
if "$vgpio" serve > /dev/null 2> second.err; then fail "second daemon started"; fi
grep -q "in use" second.err || fail "second daemon error unclear: $(cat second.err)"
"$vgpio" probe ./vgpio.sock > /dev/null || fail "first daemon harmed by the second"

# Signals that must not end the daemon without the safe path: HUP and USR1
# are logged and it carries on; a watcher that vanished (EPIPE on the next
# event, SIGPIPE if it were not ignored) changes nothing.
"$vgpio" ctl watch > /dev/null & watcher=$!
for _ in $(seq 200); do "$vgpio" ctl set vgpio0 sim4 1 && break; sleep 0.05; done
kill -9 "$watcher"; wait "$watcher" 2>/dev/null || true
"$vgpio" ctl set vgpio0 sim4 0 && "$vgpio" ctl set vgpio0 sim4 1 || fail "ctl set after a watcher vanished"
kill -HUP "$pid"; kill -USR1 "$pid"
for _ in $(seq 200); do grep -q "received User defined signal 1" serve.err && break; sleep 0.05; done
grep -q "received Hangup: reloading the configuration" serve.err && grep -q "nothing to reload" serve.err || fail "no log line for SIGHUP"
grep -q "received User defined signal 1: ignored" serve.err || fail "no log line for SIGUSR1"
"$vgpio" probe ./vgpio.sock > /dev/null || fail "the daemon stopped serving after HUP and USR1"

# SIGTERM: sockets removed.
kill -TERM "$pid"; wait "$pid" || fail "daemon exit status $?"; pid=""
[ ! -e vgpio.sock ] && [ ! -e vgpio.sock.ctl ] || fail "sockets left after SIGTERM"

# SIGQUIT takes the safe path too (its default would dump core and skip it).
"$vgpio" serve > /dev/null 2> serve.err & pid=$!
wait_for_socket vgpio.sock.ctl
kill -QUIT "$pid"; wait "$pid" || fail "daemon exit status after SIGQUIT: $?"; pid=""
grep -q "received Quit: outputs to their safe levels" serve.err || fail "no log line for SIGQUIT"
[ ! -e vgpio.sock ] && [ ! -e vgpio.sock.ctl ] || fail "sockets left after SIGQUIT"

# A crashed daemon's stale socket files are replaced.
"$vgpio" serve > /dev/null 2> serve.err & pid=$!
wait_for_socket vgpio.sock.ctl
kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=""
[ -S vgpio.sock ] || fail "expected a stale socket"
"$vgpio" serve > /dev/null 2> serve.err & pid=$!
for _ in $(seq 200); do grep -q "stale" serve.err && "$vgpio" probe ./vgpio.sock > /dev/null 2>&1 && break; sleep 0.05; done
grep -q "stale" serve.err || fail "no log line about the stale socket"
"$vgpio" probe ./vgpio.sock > /dev/null || fail "daemon did not replace the stale socket"
kill -TERM "$pid"; wait "$pid"; pid=""

# A config file with socket permissions; SIGINT while a frontend holds a line.
cat > vgpio.toml <<TOML
socket_mode = "0660"
socket_group = "root"
[[device]]
name = "cfg"
socket = "$dir/cfg.sock"
  [[device.line]]
  name = "relay"
  simulated = true
  safe_level = 1
TOML
"$vgpio" check vgpio.toml > /dev/null || fail "vgpio check rejected a good file"
"$vgpio" serve --config vgpio.toml > /dev/null 2> serve.err & pid=$!
wait_for_socket cfg.sock.ctl
[ "$(stat -c '%a %G' cfg.sock)" = "660 root" ] || fail "configured socket access: $(stat -c '%a %G' cfg.sock)"
"$vgpio" probe ./cfg.sock | grep -q relay || fail "probe of the configured device"
"$frontend" ./cfg.sock dir 0 out set 0 0 sleep 100000 > frontend.out & holder=$!
for _ in $(seq 200); do "$vgpio" ctl --control cfg.sock.ctl get cfg relay --json | grep -q '"out"' && break; sleep 0.05; done
"$vgpio" ctl --control cfg.sock.ctl get cfg relay --json | grep -q '"holder": "guest"' || fail "the frontend does not hold the relay"
kill -INT "$pid"; wait "$pid" || fail "exit status after SIGINT: $?"; pid=""
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null || true
grep -q "received Interrupt" serve.err || fail "no log line for SIGINT"
grep -q "frontend left (the daemon is stopping); lines back to their safe state" serve.err || fail "lines not released at SIGINT"
[ ! -e cfg.sock ] && [ ! -e cfg.sock.ctl ] || fail "sockets left after SIGINT"

# Beyond what Linux's gpio-virtio probes (21,845 lines on x86_64, 21,844 on
# arm64): a warning, not a refusal.
for n in 21844 21845 21846; do
  "$vgpio" serve --sim "$n" --socket big.sock > big.out 2> big.err & pid=$!
  wait_for_socket big.sock
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  warned=$(grep -c "lines, and .*Linux 6.12's gpio-virtio driver probes at most 21845 lines on x86_64 and 21844 on arm64" big.err || true)
  [ "$warned" = "$([ "$n" -gt 21844 ] && echo 1 || echo 0)" ] || fail "serve --sim $n: $warned warning(s): $(cat big.err)"
done
{ echo '[[device]]'; echo 'name = "big"'; echo "socket = \"$dir/big.sock\""
  for i in $(seq 21846); do printf '[[device.line]]\nname = "l%d"\nsimulated = true\n' "$i"; done; } > big.toml
out=$("$vgpio" check big.toml) || fail "check refused a device over the Linux limit: $out"
grep -q "warning: device big has 21846 lines, and no Linux guest will see it" <<< "$out" || fail "check did not warn: $(head -3 <<< "$out")"
# --no-sandbox: off, and loudly so.
"$vgpio" serve --no-sandbox --socket open.sock > /dev/null 2> open.err & pid=$!
wait_for_socket open.sock.ctl
grep -q "^Seccomp:.0" /proc/$pid/status || fail "--no-sandbox still filters system calls"
grep -q "warning: sandbox: OFF (--no-sandbox)" open.err || fail "--no-sandbox is not in the log: $(cat open.err)"
"$vgpio" ctl --control open.sock.ctl status | grep -q "sandbox         off" || fail "ctl status does not show the sandbox off"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
echo "PASS"
