#!/usr/bin/env bash
# Virtual HIL from the shell: config wires (and a reload that drops one),
# `ctl wait` exit codes, stimuli, and `ctl record` VCDs that sigrok-cli and
# GTKWave read back, with their default options, with the same edges the
# daemon reported; a 10 s one too. Scripted drivers (vgpio-frontend)
# stand in for the guests.
set -euo pipefail
vgpio=$(realpath "$1")
frontend=$(realpath "$2")
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
cd "$dir"
fail() { echo "FAIL: $*"; echo "--- daemon stderr:"; cat serve.err 2>/dev/null; exit 1; }
wait_for() { for _ in $(seq 1200); do eval "$1" && return 0; sleep 0.05; done; fail "waited 60 s for: $1"; }
ctl() { "$vgpio" ctl --control "$dir/ctl.sock" "$@"; }

"$vgpio" ctl --help > help.txt
for cmd in list get set pulse clock bounce pattern stop wire unwire wires watch wait record; do
  grep -qE "^  $cmd " help.txt || fail "vgpio ctl --help does not list $cmd"
done

write_config() {  # $1: the [[wire]] tables
  cat > vgpio.toml <<TOML
control = "$dir/ctl.sock"
[[device]]
name = "plc"
socket = "$dir/plc.sock"
[[device.line]]
name = "relay"
simulated = true
[[device.line]]
name = "lamp"
simulated = true
[[device]]
name = "plant"
socket = "$dir/plant.sock"
[[device.line]]
name = "pump"
simulated = true
[[device.line]]
name = "btn"
simulated = true
$1
TOML
}
write_config $'[[wire]]\nfrom = "plc:relay"\nto = "plant:pump"\n[[wire]]\nfrom = "plc:lamp"\nto = "plant:btn"\ninvert = true'
"$vgpio" check vgpio.toml > /dev/null || fail "vgpio check rejected the wires"
"$vgpio" serve --config vgpio.toml > /dev/null 2> serve.err & pids+=($!); daemon=$!
wait_for "[ -S ctl.sock ]"

# A guest output drives the wired input; ctl wait sees it without polling.
[ "$(ctl get plant btn)" = 1 ] || fail "the inverted wire does not hold plant:btn at 1"
set +e; ctl wait plant pump 1 --timeout 200ms 2> wait.err; rc=$?; set -e
[ "$rc" = 1 ] || fail "ctl wait on a line that stays 0: exit $rc, not 1"
grep -q "timed out after 200ms: plant pump is 0, not 1" wait.err || fail "timeout message: $(cat wait.err)"
ctl wait plant pump 1 --timeout 60s & waiter=$!
"$frontend" plc.sock dir 0 out set 0 1 await "$dir/plc.done" > plc.out & pids+=($!)
wait "$waiter" || fail "ctl wait did not see plant:pump go to 1 (exit $?)"
set +e; ctl wait plant nope 1 2> wait.err; rc=$?; set -e
[ "$rc" = 2 ] && grep -q 'no line "nope"' wait.err || fail "ctl wait on a missing line: exit $rc, $(cat wait.err)"
ctl set plant pump 0 2> set.err && fail "ctl set on a wired line succeeded"
grep -q "unwire it" set.err || fail "ctl set on a wired line: $(cat set.err)"
ctl wires | grep -q "plc:relay -> plant:pump  delay 0ns  (from the config)" || fail "ctl wires: $(ctl wires)"

# A reload takes away the wire the file no longer has, and keeps the other.
write_config $'[[wire]]\nfrom = "plc:relay"\nto = "plant:pump"'
kill -HUP "$daemon"
wait_for '! ctl wires | grep -q "plc:lamp"'
ctl wires | grep -q "plc:relay -> plant:pump" || fail "the reload dropped a wire it should keep"
ctl set plant btn 0 || fail "plant:btn is still wired after the reload"

# A harness drives an input before any firmware has configured it (no guest
# has set a direction on plant:btn yet): the recording shows the level.
"$vgpio" ctl --control ctl.sock record plant btn --vcd early.vcd 2> early.err & recorder=$!
wait_for 'grep -q "recording 1 lines" early.err'
ctl set plant btn 1
wait_for '[ "$(ctl get plant btn)" = 1 ]'
ctl list | grep -qE '^ +1 +btn +none +1 ' || fail "ctl list does not show plant:btn at 1 with no direction: $(ctl list)"
kill -INT "$recorder"; wait "$recorder" || fail "ctl record exit status $?"
dumped=$(sed -n '/^\$dumpvars/,/^\$end/p' early.vcd)
grep -qx '0!' <<< "$dumped" && grep -qx 'z"' <<< "$dumped" ||
  fail "the recording does not start with plant:btn at 0 and no direction: $(cat early.vcd)"
sed -n '/^\$dumpvars/,$p' early.vcd | sed '1,/^\$end/d' | grep -qx '1!' ||
  fail "the recording does not show plant:btn driven to 1: $(cat early.vcd)"
ctl set plant btn 0

# Record a pattern with the guest holding the line as an input, then read the
# file back with sigrok-cli.
"$frontend" plant.sock dir 1 in await "$dir/plant.done" > plant.out & pids+=($!)
wait_for 'ctl get plant btn --json | grep -q "\"direction\": \"in\""'
"$vgpio" ctl --control ctl.sock watch plant --json > watch.jsonl & pids+=($!)
# Started directly, not through a function: a background subshell would
# ignore the Ctrl-C (SIGINT) that ends the recording.
"$vgpio" ctl --control ctl.sock record plant btn --vcd rec.vcd 2> record.err & recorder=$!
wait_for 'grep -q "recording 1 lines" record.err'
ctl pattern plant btn 1:10ms 0:10ms 1:10ms 0:10ms 1:10ms 0:10ms 1:10ms > /dev/null
wait_for '[ "$(ctl get plant btn --json | grep -c "\"driver\": \"\"")" = 1 ]'
kill -INT "$recorder"; wait "$recorder" || fail "ctl record exit status $?"
grep -q "written to rec.vcd" record.err || fail "ctl record did not finish the file: $(cat record.err)"
grep -q "in units of 1 us" record.err || fail "a host-clock recording is not in microseconds: $(cat record.err)"
# Two independent readers, with their default options: sigrok (as PulseView
# imports a VCD) and GTKWave's own VCD reader (its vcd2fst, back through fst2vcd).
sigrok-cli -I vcd -i rec.vcd -O vcd > sigrok.vcd 2> sigrok.err || fail "sigrok-cli cannot read the file: $(cat sigrok.err)"
vcd2fst rec.vcd rec.fst > /dev/null 2> gtkwave.err && fst2vcd rec.fst > gtkwave.vcd 2>> gtkwave.err ||
  fail "GTKWave's vcd2fst cannot read the file: $(cat gtkwave.err)"
python3 - rec.vcd sigrok.vcd gtkwave.vcd watch.jsonl <<'PY' || fail "the recording does not match what was driven"
import json, sys
UNITS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
def changes(path, name):
    """(ns, level) of each change of the signal `name`, in the file's own $timescale."""
    text = open(path).read()
    scale = "".join(text.split("$timescale", 1)[1].split("$end", 1)[0].split())  # "1us", "1 us"
    unit = scale.lstrip("0123456789")
    ns = int(scale[: len(scale) - len(unit)]) * UNITS[unit]
    ids, out, t = {}, [], 0
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["$var"]: ids[words[3]] = words[4]
        for w in words if not line.startswith("$") else []:
            if w.startswith("#"): t = int(w[1:]) * ns
            elif ids.get(w[1:]) == name and w[0] in "01": out.append((t, int(w[0])))
    return out
ours = changes(sys.argv[1], "plant.btn")
events = [json.loads(l) for l in open(sys.argv[4])]
edges = [e["ns"] for e in events if e["name"] == "btn" and e["field"] == "value"][-7:]
print("ours", ours)
assert [v for _, v in ours] == [0, 1, 0, 1, 0, 1, 0, 1], "levels: the line at 0, then the pattern's 7 edges"
for reader, path in (("sigrok", sys.argv[2]), ("GTKWave", sys.argv[3])):
    theirs = changes(path, "plant.btn")
    print(reader, theirs)
    assert theirs == ours, f"{reader} reads other edges"
# The file's times are the daemon's own edge times (its watch stream), each
# rounded to the microsecond.
for t, e in zip([t for t, _ in ours[1:]], edges):
    assert abs(t - ours[1][0] - (e - edges[0])) <= 1000, f"an edge {t - ours[1][0]} ns after the first, the daemon's {e - edges[0]}"
PY

# A 10 s recording of a 1 kHz clock loads in sigrok with its default options
# (made a sample per microsecond: ten million). No time is asserted, only
# printed; the bound is one only a hang reaches.
ctl clock plant btn --period 1ms > /dev/null
"$vgpio" ctl --control ctl.sock record plant btn --vcd long.vcd --duration 10s 2> long.err ||
  fail "ctl record --duration 10s: $(cat long.err)"
ctl stop plant btn > /dev/null
grep -q "in units of 1 us" long.err || fail "the 10 s recording: $(cat long.err)"
started=$(date +%s%N)
timeout 600 sigrok-cli -I vcd -i long.vcd -O vcd > long.sigrok.vcd 2> sigrok.err || fail "sigrok-cli on 10 s: $(cat sigrok.err)"
echo "sigrok-cli loaded the 10 s recording in $(( ($(date +%s%N) - started) / 1000000 )) ms"
# The same levels at the same times, read back. A late wake-up plays the
# steps it missed at one instant (a loaded machine); a reader keeps the last
# value of an instant, so both are compared that way.
python3 - long.vcd long.sigrok.vcd <<'PY' || fail "sigrok does not read the 10 s recording's levels"
import sys
def levels(path):
    """[(time, level)] of signal '!', the last value at each time, repeats dropped."""
    at, t = {}, 0
    for word in open(path).read().split("$enddefinitions", 1)[1].split():
        if word.startswith("#"): t = int(word[1:])
        elif word in ("0!", "1!"): at[t] = word[0]
    out = []
    for time in sorted(at):
        if not out or out[-1][1] != at[time]: out.append((time, at[time]))
    return out
ours, theirs = levels(sys.argv[1]), levels(sys.argv[2])
print(f"10 s of a 1 kHz clock: {len(ours)} levels written, sigrok read {len(theirs)}")
assert len(ours) > 10000 and ours == theirs
PY
touch plc.done plant.done
kill -TERM "$daemon"; wait "$daemon" || fail "daemon exit status $?"
echo "PASS"
