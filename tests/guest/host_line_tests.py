#!/usr/bin/env python3
"""Host lines against real kernel GPIO chips: two gpio-sim chips inside the
test guest, the vgpio daemon and a scripted driver (vgpio-frontend) beside
them. No virtio device is involved: this is the host side of vgpio.

usage: host_line_tests.py TEST   (environment: VGPIO_KERNEL, VGPIO_INITRD)
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "testvm"))
from guestkit import Guest, wait_until  # noqa: E402
from guest_tests import check, run  # noqa: E402
from gpio_sim import SIM, SimChips, held_lines  # noqa: E402

TESTS = {}

CONFIG = """
[[device]]
name = "vm1"
socket = "/tmp/vm1.sock"

  [[device.line]]
  name = "door"
  host_name = "DOOR"
  direction = "input"

  [[device.line]]
  name = "relay"
  chip = "simB"
  offset = 1
  direction = "output"
  safe_level = 1
  initial = 0

  [[device.line]]
  name = "sensor"
  chip = "{chip_a}"
  offset = 2
  direction = "input"

  [[device.line]]
  name = "knob"
  simulated = true

  [[device.line]]
  name = "inverted"
  chip = "simB"
  offset = 3
  direction = "input"
  active_low = true
  bias = "pull-up"
  debounce = "2ms"

[[device]]
name = "vm2"
socket = "/tmp/vm2.sock"

  [[device.line]]
  name = "shared"
  chip = "simA"
  offset = 6
"""


def test(fn):
    TESTS[fn.__name__.removeprefix("test_")] = fn
    return fn


def frontend(g, socket, *steps):
    """Runs vgpio-frontend; returns {step: result}."""
    out = g.must(f"vgpio-frontend {socket} " + " ".join(steps))
    results = {}
    for line in out.splitlines():
        m = re.match(r"@ (.*?): (.*)$", line)
        if m:
            results.setdefault(m.group(1), []).append(m.group(2))
    return results


def output(g, path):
    return g.read(path)


def write_config(g, path, text):
    g.write(path, text)


def start_daemon(g, config, log="/tmp/daemon.log"):
    pid = g.spawn(f"vgpio serve --config {config} > {log}")
    wait_until(lambda: g.sh("test -S /tmp/vm1.sock.ctl || test -S /tmp/vm1.sock")[0] == 0, "the daemon to listen")
    return pid


@test
def test_aggregate_and_policy():
    """Three lines from two chips (one by name, one by label, one by path),
    some skipped, plus a simulated one: one virtual chip in config order; the
    VM reaches those lines and nothing else; outputs, inputs, edge and level
    interrupts, and the policy."""
    g = Guest([])
    try:
        sim = SimChips(g)
        write_config(g, "/tmp/v.toml", CONFIG.format(chip_a="/dev/" + sim.chip("a")))
        print(g.must("vgpio check /tmp/v.toml"))
        start_daemon(g, "/tmp/v.toml")
        # Hold the session open while gpioinfo looks at who has what.
        f = g.spawn("vgpio-frontend /tmp/vm1.sock names dir 0 in dir 1 out dir 2 in sleep 100000 > /tmp/f.out")
        wait_until(lambda: g.must("grep -c '^@' /tmp/f.out || true").strip() == "5", "the frontend to set up")
        info_a = g.must(f"gpioinfo -c {sim.chip('a')}")
        info_b = g.must(f"gpioinfo -c {sim.chip('b')}")
        used_a = sorted(int(m) for m in re.findall(r"line\s+(\d+):.*consumer=\"?vgpio-vm1", info_a))
        used_b = sorted(int(m) for m in re.findall(r"line\s+(\d+):.*consumer=\"?vgpio-vm1", info_b))
        check(used_a == [2, 5] and used_b == [1], f"lines held by vgpio-vm1: A {used_a}, B {used_b}\n{info_a}\n{info_b}")
        check("names: door,relay,sensor,knob,inverted" in g.must("cat /tmp/f.out"), "line order")
        g.kill(f)

        r = frontend(g, "/tmp/vm1.sock",
                     "get", "5",                               # line 5 does not exist for this VM
                     # active-low input with a pull-up bias (and a debounce): reads 0
                     "dir", "4", "in", "get", "4", "read", sim.value("b", 3),
                     "dir", "1", "out", "set", "1", "1", "read", sim.value("b", 1),
                     "set", "1", "0", "read", sim.value("b", 1),
                     "dir", "0", "in", "write", sim.pull("a", 5), "pull-up", "get", "0",
                     "write", sim.pull("a", 5), "pull-down", "get", "0",
                     # edge interrupt on the sensor
                     "dir", "2", "in", "irq", "2", "both", "unmask", "2",
                     "write", sim.pull("a", 2), "pull-up", "event", "5000", "get", "2",
                     # level interrupt on the door: fires when high, again at unmask while high
                     "irq", "0", "high", "unmask", "0", "event", "300",
                     "write", sim.pull("a", 5), "pull-up", "event", "5000",
                     "unmask", "0", "event", "5000",
                     # policy
                     "dir", "0", "out", "dir", "1", "in", "irq", "1", "both")
        check(r["get 5"] == ["err"], f"line 5: {r['get 5']}")
        inverted_on_chip = r["read " + sim.value("b", 3)]
        check(r["get 4"] == ["0"] and inverted_on_chip == ["1"],
              f"active-low input with pull-up: guest reads {r['get 4']}, the chip shows {inverted_on_chip}")
        check(r[f"read {sim.value('b', 1)}"] == ["1", "0"], f"relay on simB: {r}")
        check(r["get 0"] == ["1", "0"], f"door input: {r['get 0']}")
        check(r["get 2"] == ["1"] and r["event"][0] == "2 valid", f"sensor edge: {r['event']} {r['get 2']}")
        check(r["event"][1:] == ["none", "0 valid", "0 valid"], f"door level interrupt: {r['event']}")
        check(r["dir 0"][-1] == "err" and r["dir 1"][-1] == "err" and r["irq 1"] == ["err"], f"policy: {r}")
        log = g.must("cat /tmp/daemon.log")
        check("relay): back at its safe level 1, held" in log, f"no safe level at disconnect:\n{log}")
        check(g.must(f"cat {sim.value('b', 1)}").strip() == "1", "the relay is not at its safe level")
        held = held_lines(g, sim)
        check(held == {"a": [], "b": [1]}, f"after the frontend left, only the relay stays held: {held}")
        # All of it inside the daemon's own sandbox, which denied nothing: on
        # Arm (tests/cross), the filter's system calls are that architecture's.
        shown = g.must("vgpio ctl --control /tmp/vm1.sock.ctl status")
        check(re.search(r"seccomp\s+filter \(0 calls denied so far\)", shown) and re.search(r"landlock\s+ABI \d+", shown),
              f"ctl status:\n{shown}")
        check("denied system call" not in log, f"the sandbox denied a system call:\n{log}")
    finally:
        g.close()


@test
def test_busy_lines_sigterm_and_bad_configs():
    g = Guest([])
    try:
        sim = SimChips(g)
        write_config(g, "/tmp/v.toml", CONFIG.format(chip_a=sim.chip("a")))
        # Another user holds simA line 6: check says so, and the guest gets ERR.
        holder = g.spawn(f"gpioset -c {sim.chip('a')} 6=1")
        wait_until(lambda: "gpioset" in g.must(f"gpioinfo -c {sim.chip('a')} 6"), "gpioset to hold line 6")
        rc, out = g.sh("vgpio check /tmp/v.toml 2>&1")
        check(rc != 0 and 'BUSY: held by "gpioset"' in out, f"vgpio check with a busy line ({rc}):\n{out}")
        start_daemon(g, "/tmp/v.toml")
        r = frontend(g, "/tmp/vm2.sock", "dir", "0", "in", "get", "0")
        check(r["dir 0"] == ["err"] and r["get 0"] == ["err"], f"busy line: {r}")
        check('held by "gpioset"' in g.must("cat /tmp/daemon.log"), "the log does not name the holder")
        g.kill(holder)
        r = frontend(g, "/tmp/vm2.sock", "dir", "0", "in")
        check(r["dir 0"] == ["ok"], "the line is usable once its holder is gone")

        # A frontend that floods requests and never reads a reply is cut off,
        # and vm2 serves the next one at once.
        flood = g.spawn("vgpio-frontend /tmp/vm2.sock flood 1000000 sleep 100000 > /tmp/flood.out")
        wait_until(lambda: "flood: sent" in output(g, "/tmp/flood.out"), "the flood to be sent")
        wait_until(lambda: "does not read its replies" in g.must("cat /tmp/daemon.log"), "the flood to be cut off")
        r = frontend(g, "/tmp/vm2.sock", "dir", "0", "in")
        check(r["dir 0"] == ["ok"], f"vm2 after a flood: {r}")
        g.kill(flood)

        # SIGTERM while the guest holds the relay high and another frontend is
        # stalled in the middle of a message: within 2 s the relay is at its
        # safe level, the lines are released, the sockets gone.
        f = g.spawn("vgpio-frontend /tmp/vm1.sock dir 1 out set 1 0 sleep 100000 > /tmp/f.out")
        wait_until(lambda: "set 1: ok" in output(g, "/tmp/f.out"), "the frontend to drive the relay")
        stalled = g.spawn("vgpio-frontend /tmp/vm2.sock stall sleep 100000 > /tmp/stall.out")
        wait_until(lambda: "stall: ok" in output(g, "/tmp/stall.out"), "the frontend to stall")
        daemon = g.must("pidof vgpio").split()[0]
        took = float(g.must(f"s=$(cut -d' ' -f1 /proc/uptime); kill -TERM {daemon}; "
                            f"while kill -0 {daemon} 2>/dev/null; do sleep 0.01; done; "
                            "e=$(cut -d' ' -f1 /proc/uptime); awk \"BEGIN { print $e - $s }\"").strip())
        log = g.must("cat /tmp/daemon.log")
        check("received Terminated" in log and "relay): at its safe level 1, released as its device stops" in log,
              f"SIGTERM:\n{log}")
        check(took < 2.0, f"the daemon took {took} s to stop after SIGTERM (at most 2 s)")
        g.kill(stalled)
        check(g.sh("ls /tmp/vm1.sock /tmp/vm2.sock /tmp/vm1.sock.ctl 2>/dev/null")[1].strip() == "", "sockets left")
        check("vgpio-" not in g.must(f"gpioinfo -c {sim.chip('a')}; gpioinfo -c {sim.chip('b')}"), "lines left held")
        g.kill(f)

        # Bad configs: rejected with their line number, and nothing starts.
        write_config(g, "/tmp/bad.toml", "[[device]]\nname = \"x\"\nsocket = \"/tmp/x.sock\"\n\n"
                     "[[device.line]]\nname = \"a\"\nchip = \"simA\"\nofset = 3\n")
        rc, out = g.sh("vgpio check /tmp/bad.toml 2>&1")
        check(rc != 0 and "/tmp/bad.toml:8:" in out and "ofset" in out, f"typo not reported by line ({rc}):\n{out}")
        write_config(g, "/tmp/dup.toml", CONFIG.format(chip_a=sim.chip("a")).replace("offset = 6", "offset = 2"))
        rc, out = g.sh("vgpio serve --config /tmp/dup.toml 2>&1")
        check(rc != 0 and "already given at /tmp/dup.toml:" in out, f"duplicate host line ({rc}):\n{out}")
        check(g.sh("ls /tmp/vm1.sock 2>/dev/null")[1].strip() == "", "a socket was created for a bad config")
        write_config(g, "/tmp/nochip.toml", CONFIG.format(chip_a="gpiochip9"))
        rc, out = g.sh("vgpio check /tmp/nochip.toml 2>&1")
        check(rc != 0 and "/tmp/nochip.toml:" in out and "gpiochip9" in out, f"missing chip ({rc}):\n{out}")
    finally:
        g.close()


@test
def test_command_line_form_and_a_chip_that_goes_away():
    """The simple case without a file (--line), then simA is unplugged while
    the guest holds one of its lines: ERR for that line, never a crash, and
    the line from simB goes on working."""
    g = Guest([])
    try:
        sim = SimChips(g)
        daemon = g.spawn("vgpio serve --socket /tmp/vm1.sock --name vm1 --line out=simB:2:out "
                         f"--line in=/dev/{sim.chip('a')}:3:in --line k=sim > /tmp/daemon.log")
        wait_until(lambda: g.sh("test -S /tmp/vm1.sock.ctl")[0] == 0, "the daemon to listen")
        r = frontend(g, "/tmp/vm1.sock", "names", "dir", "0", "out", "set", "0", "1", "read", sim.value("b", 2),
                     "dir", "1", "in", "write", sim.pull("a", 3), "pull-up", "get", "1",
                     "dir", "0", "in",                       # policy: out only
                     "write", f"{SIM}/a/live", "0", "sleep", "200",
                     "get", "1", "dir", "1", "in",            # the chip is gone
                     "set", "0", "0", "read", sim.value("b", 2))
        check(r["names"] == ["out,in,k"], f"names: {r['names']}")
        check(r[f"read {sim.value('b', 2)}"] == ["1", "0"], f"simB output: {r}")
        check(r["get 1"] == ["1", "err"], f"input before and after unplugging: {r['get 1']}")
        check(r["dir 0"] == ["ok", "err"] and r["dir 1"] == ["ok", "err"], f"directions: {r}")
        check(g.sh(f"kill -0 {daemon}")[0] == 0, "the daemon died when a chip went away")
        log = g.must("cat /tmp/daemon.log")
        check("went away" in log or "No such device" in log, f"no log line about the lost chip:\n{log}")
        out = g.must("vgpio probe /tmp/vm1.sock")
        check("3 lines" in out, f"probe after the chip went away: {out}")
    finally:
        g.close()

HELD = """
[[device]]
name = "vm1"
socket = "/tmp/vm1.sock"

  [[device.line]]                   # 0: held high while no guest drives it
  name = "relay"
  chip = "simB"
  offset = 1
  direction = "output"
  safe_level = 1
  initial = 0

  [[device.line]]                   # 1: active-low, so safe 1 is electrically low
  name = "lamp"
  host_name = "LAMP"
  direction = "output"
  safe_level = 1
  active_low = true

  [[device.line]]                   # 2: either direction, with a safe level
  name = "valve"
  chip = "simB"
  offset = 0
  safe_level = 1

  [[device.line]]                   # 3: opted out: free for other programs while idle
  name = "spare"
  chip = "{chip_a}"
  offset = 6
  direction = "output"
  when_idle = "release"
"""


def line_used(g, chip, offset):
    return "consumer=" in g.must(f"gpioinfo -c {chip} {offset}")


@test
def test_held_outputs():
    """Outputs sit at their safe level from start-up on, whenever no guest
    drives them: after NONE, a guest killed with SIGKILL, RESET_DEVICE; with
    active-low too. A guest takes the request over in place: gpionotify sees
    only reconfigurations until vgpio stops. An opted-out line is free while
    idle. Signals never skip the safe path."""
    g = Guest([])
    try:
        sim = SimChips(g)
        write_config(g, "/tmp/h.toml", HELD.format(chip_a=sim.chip("a")))
        out = g.must("vgpio check /tmp/h.toml")
        check("idle: held at safe level 1 (logical: active-low, so the chip drives 0)" in out
              and 'idle: released, after going to safe level 0 (when_idle = "release")' in out,
              f"vgpio check does not say what idle outputs do:\n{out}")

        # A held line that another program has: vgpio does not start, and says why.
        holder = g.spawn(f"gpioset -c {sim.chip('b')} 1=0")
        wait_until(lambda: line_used(g, sim.chip("b"), 1), "gpioset to hold the relay line")
        rc, out = g.sh("vgpio serve --config /tmp/h.toml 2>&1")
        check(rc != 0 and "cannot hold" in out and "gpioset" in out, f"a busy held line ({rc}):\n{out}")
        check(g.sh("ls /tmp/vm1.sock 2>/dev/null")[1].strip() == "", "a socket was left by a failed start")
        g.kill(holder)

        # A pull-up under the lamp: released it would read 1; held at logical 1 it reads 0.
        g.must(f"echo pull-up > {sim.pull('b', 2)}")
        notify = g.spawn(f"gpionotify --banner -c {sim.chip('b')} 0 1 2 > /tmp/notify.log")
        wait_until(lambda: output(g, "/tmp/notify.log").strip(), "gpionotify to start")
        daemon = start_daemon(g, "/tmp/h.toml")
        # The socket exists only once the lines are held: these levels are
        # what the first frontend would find.
        check(sim.read("b", 1, 2, 0) == "101", f"held levels at start-up (relay, lamp, valve): {sim.read('b', 1, 2, 0)}")
        check(not line_used(g, sim.chip("a"), 6), "the opted-out line is held while idle")
        ctl = g.must("vgpio ctl --control /tmp/vm1.sock.ctl get vm1 relay --json")
        check('"holder": "vgpio-vm1, held at safe level 1"' in ctl, f"ctl does not show the hold:\n{ctl}")

        B = lambda line: sim.value("b", line)  # noqa: E731
        r = frontend(g, "/tmp/vm1.sock",
                     "dir", "0", "out", "read", B(1), "dir", "0", "none", "read", B(1),
                     "dir", "1", "out", "set", "1", "0", "read", B(2), "dir", "1", "none", "read", B(2),
                     # gpio-sim applies a pull to an input only
                     "dir", "2", "in", "write", sim.pull("b", 0), "pull-down", "get", "2", "read", B(0),
                     "dir", "2", "none", "read", B(0),
                     "dir", "0", "out", "read", B(1), "reset", "read", B(1))
        check(r[f"read {B(1)}"] == ["0", "1", "0", "1"], f"relay: out 0, NONE, out 0, RESET_DEVICE: {r}")
        check(r[f"read {B(2)}"] == ["1", "0"], f"active-low lamp: guest 0, then NONE: {r}")
        check(r["get 2"] == ["0"] and r[f"read {B(0)}"] == ["0", "1"], f"valve: input, then NONE: {r}")

        # A guest that dies without a goodbye.
        f = g.spawn("vgpio-frontend /tmp/vm1.sock dir 0 out dir 1 out set 1 0 dir 3 out set 3 1 "
                    "sleep 100000 > /tmp/f.out")
        wait_until(lambda: "set 3: ok" in output(g, "/tmp/f.out"), "the frontend to drive its outputs")
        check(sim.read("b", 1, 2) == "01" and line_used(g, sim.chip("a"), 6), "the guest's outputs")
        g.must(f"kill -9 {f}")
        wait_until(lambda: sim.read("b", 1, 2) == "10", "the outputs to go back to their safe levels")
        wait_until(lambda: not line_used(g, sim.chip("a"), 6), "the opted-out line to be released")

        # Signals: HUP (the config is the same) and USR1 change nothing; a
        # vanished watcher neither.
        watcher = g.spawn("vgpio ctl --control /tmp/vm1.sock.ctl watch > /tmp/watch.out")
        wait_until(lambda: frontend(g, "/tmp/vm1.sock", "dir", "2", "in", "dir", "2", "none")
                   and output(g, "/tmp/watch.out").strip(), "the watcher to see a change")
        g.must(f"kill -9 {watcher}")
        frontend(g, "/tmp/vm1.sock", "dir", "0", "out", "set", "0", "1", "set", "0", "0")
        # The daemon hears of the frontend's end in its own time: wait for it,
        # so that whatever the log says after the signals is the signals' doing.
        wait_until(lambda: (lambda log: log.count("frontend connected") == log.count("frontend left"))(
            g.must("cat /tmp/daemon.log")), "the daemon to see the last frontend go")
        g.must(f"kill -HUP {daemon}; kill -USR1 {daemon}")
        wait_until(lambda: "received User defined signal 1: ignored" in g.must("cat /tmp/daemon.log")
                   and "reload done" in g.must("cat /tmp/daemon.log"), "the daemon to log SIGHUP and SIGUSR1")
        after = g.must("cat /tmp/daemon.log").split("received Hangup: reloading")[1]
        check(not any(word in after for word in ("frontend left", "changed", "no longer in the config", "added")),
              f"SIGHUP with an unchanged config touched the device:\n{after}")
        check(g.sh(f"kill -0 {daemon}")[0] == 0 and sim.read("b", 1, 2, 0) == "101", "alive and held after HUP, USR1")
        check(frontend(g, "/tmp/vm1.sock", "get", "0")["get 0"] == ["1"], "serving after HUP, USR1")

        events = g.must("cat /tmp/notify.log")
        check(events.count("requested") == 3 and "released" not in events and "reconfigured" in events,
              f"held lines were released or requested again during hand-overs:\n{events}")

        # SIGQUIT stops through the safe path.
        g.must(f"kill -QUIT {daemon}; while kill -0 {daemon} 2>/dev/null; do sleep 0.05; done")
        log = g.must("cat /tmp/daemon.log")
        check("received Quit" in log and "relay): at its safe level 1, released as its device stops" in log, f"SIGQUIT:\n{log}")
        check(g.sh("ls /tmp/vm1.sock /tmp/vm1.sock.ctl 2>/dev/null")[1].strip() == "", "sockets left after SIGQUIT")
        wait_until(lambda: output(g, "/tmp/notify.log").count("released") == 3, "the lines to be released at exit")
        g.kill(notify)
    finally:
        g.close()


BACK = """
[[device]]
name = "vm1"
socket = "/tmp/vm1.sock"

  [[device.line]]                   # 0: by label
  name = "relay"
  chip = "simB"
  offset = 1
  direction = "output"
  safe_level = 1

  [[device.line]]                   # 1: by the host line's name
  name = "lamp"
  host_name = "LAMP"
  direction = "output"
  safe_level = 1

  [[device.line]]                   # 2: by path
  name = "pump"
  chip = "/dev/{chip_a}"
  offset = 4
  direction = "output"
  safe_level = 1
"""


POOL = """
[[device]]
name = "vm1"
socket = "/tmp/vm1.sock"

  [[device.line]]
  name = "knob"
  simulated = true

[[pool]]
name = "relay0"
chip = "simB"
offset = 1
direction = "output"
safe_level = 1

[[pool]]
name = "door"
host_name = "DOOR"
direction = "input"
"""


@test
def test_pool_lines():
    """Devices made at run time (vgpio ctl create) take host lines from the
    config's [[pool]] only, one device at a time. When the maker goes, the
    held output goes to its safe level, the line is freed and the socket
    removed; then another device may have it."""
    g = Guest([])
    try:
        sim = SimChips(g)
        write_config(g, "/tmp/p.toml", POOL)
        start_daemon(g, "/tmp/p.toml")
        ctl = "vgpio ctl --control /tmp/vm1.sock.ctl"
        check(not line_used(g, sim.chip("b"), 1), "a pool line was taken before any device asked for it")
        maker = g.spawn(f"{ctl} create t1 /tmp/t1.sock --line relay=pool:relay0 --line door=pool:door > /tmp/t1.out")
        wait_until(lambda: "goes when this command ends" in output(g, "/tmp/t1.out"), "device t1 to be made")
        check(line_used(g, sim.chip("b"), 1) and sim.read("b", 1) == "1", "the pooled relay is not held at its safe level")

        rc, out = g.sh(f"{ctl} create t2 /tmp/t2.sock --line r=pool:relay0 --persist 2>&1")
        check(rc != 0 and 'pool line "relay0" is in device t1' in out, f"a pool line in two devices ({rc}): {out}")
        rc, out = g.sh(f"{ctl} create t3 /tmp/t3.sock --line x=pool:valve --persist 2>&1")
        check(rc != 0 and 'has no line "valve"' in out, f"a line that is not pooled ({rc}): {out}")
        write_config(g, "/tmp/lines.toml", f'[[line]]\nname = "x"\nchip = "{sim.chip("a")}"\noffset = 3\n')
        rc, out = g.sh(f"{ctl} create t4 /tmp/t4.sock --lines /tmp/lines.toml --persist 2>&1")
        check(rc != 0 and "only from the config's [[pool]]" in out, f"a host line outside the pool ({rc}): {out}")
        check(not line_used(g, sim.chip("a"), 3) and g.sh("ls /tmp/t2.sock /tmp/t3.sock /tmp/t4.sock")[0] != 0,
              "a refused request left something behind")

        # A guest drives the pooled relay through t1, and reads the pooled door.
        r = frontend(g, "/tmp/t1.sock", "names", "dir", "0", "out", "set", "0", "0", "read", sim.value("b", 1),
                     "dir", "1", "in", "get", "1")
        check(r["names"] == ["relay,door"] and r[f"read {sim.value('b', 1)}"] == ["0"] and r["get 1"] == ["0"],
              f"the guest on t1: {r}")

        g.kill(maker)
        wait_until(lambda: g.sh("test -e /tmp/t1.sock")[0] != 0, "t1's socket to be removed")
        wait_until(lambda: not line_used(g, sim.chip("b"), 1), "the pooled relay to be freed")
        out = g.must(f"{ctl} list")
        check("t1" not in out, f"t1 is still listed:\n{out}")
        rc, out = g.sh(f"{ctl} create t2 /tmp/t2.sock --line r=pool:relay0 --persist 2>&1")
        check(rc == 0 and line_used(g, sim.chip("b"), 1), f"the freed pool line cannot be had again ({rc}): {out}")
        g.must(f"{ctl} destroy t2")
        check(not line_used(g, sim.chip("b"), 1), "destroy left the pool line held")

        # One owner per physical line: a pool line that is also a device's
        # line (named another way) is refused by check, naming both places.
        write_config(g, "/tmp/twice.toml", POOL + f'\n[[device]]\nname = "vm9"\nsocket = "/tmp/vm9.sock"\n'
                     f'  [[device.line]]\n  name = "r"\n  chip = "/dev/{sim.chip("b")}"\n  offset = 1\n')
        rc, out = g.sh("vgpio check /tmp/twice.toml 2>&1")
        check(rc != 0 and 'pool line "relay0"' in out and 'device "vm9" line 0' in out,
              f"a line in a device and in a pool ({rc}): {out}")
        write_config(g, "/tmp/twice.toml", POOL + '\n[[pool]]\nname = "door2"\nchip = "simA"\noffset = 5\n')
        rc, out = g.sh("vgpio check /tmp/twice.toml 2>&1")
        check(rc != 0 and 'pool line "door2"' in out and 'pool line "door"' in out, f"a line in two pools ({rc}): {out}")
    finally:
        g.close()


def holder(g, line):
    return json.loads(g.must(f"vgpio ctl --control /tmp/vm1.sock.ctl get vm1 {line} --json"))["holder"]


@test
def test_chip_comes_back():
    """A chip unplugged and plugged back (gpio-sim's live attribute), the way
    a USB expander re-enumerates: under another /dev/gpiochipN when its number
    was taken meanwhile. Lines named by label, by host line name and by path
    come back without a restart: held outputs at their safe level, a guest's
    output at the guest's level, and requests work again."""
    g = Guest([])
    try:
        sim = SimChips(g)
        write_config(g, "/tmp/b.toml", BACK.format(chip_a=sim.chip("a")))
        daemon = start_daemon(g, "/tmp/b.toml")
        check(sim.read("b", 1, 2) + sim.read("a", 4) == "111", "held at start-up")
        f = g.spawn("vgpio-frontend /tmp/vm1.sock dir 0 out set 0 0 sleep 100000 > /tmp/f.out")
        wait_until(lambda: "set 0: ok" in output(g, "/tmp/f.out"), "the guest to drive the relay")

        old_b = sim.chip("b")
        sim.plug("b", False)
        wait_until(lambda: holder(g, "relay") == "chip gone" and holder(g, "lamp") == "chip gone",
                   "ctl to show the lines of the unplugged chip as gone")
        sim.add("c", "simC", 4)  # takes simB's number
        check(sim.chip("c") == old_b, f"simC is {sim.chip('c')}, not {old_b}: the test needs the number taken")
        start = time.monotonic()
        sim.plug("b", True)
        wait_until(lambda: sim.read("b", 2) == "1", "the lamp to be held again at its safe level")
        print(f"the held output was back at its safe level {time.monotonic() - start:.3f} s after the re-plug "
              f"(as {sim.chip('b')}, was {old_b})")
        wait_until(lambda: holder(g, "relay") == "vgpio-vm1", "the guest's relay to be taken again")
        check(sim.read("b", 1) == "0" and "output" in g.must(f"gpioinfo -c {sim.chip('b')} 1"),
              "the relay is not back at the guest's level")
        g.must(f"kill -9 {f}")
        wait_until(lambda: sim.read("b", 1) == "1", "the relay to go to its safe level when the guest dies")

        B = lambda line: sim.value("b", line)  # noqa: E731
        r = frontend(g, "/tmp/vm1.sock", "dir", "0", "out", "set", "0", "0", "read", B(1), "set", "0", "1",
                     "read", B(1), "dir", "1", "out", "set", "1", "0", "read", B(2))
        check(r[f"read {B(1)}"] == ["0", "1"] and r[f"read {B(2)}"] == ["0"], f"requests after the return: {r}")

        # By path: the same /dev/gpiochipN comes back.
        old_a = sim.chip("a")
        sim.plug("a", False)
        wait_until(lambda: holder(g, "pump") == "chip gone", "ctl to show the pump as gone")
        r = frontend(g, "/tmp/vm1.sock", "get", "2", "dir", "2", "out")
        check(r["get 2"] == ["err"] and r["dir 2"] == ["err"], f"requests on a gone chip: {r}")
        sim.plug("a", True)
        check(sim.chip("a") == old_a, f"simA came back as {sim.chip('a')}, not {old_a}")
        wait_until(lambda: sim.read("a", 4) == "1", "the pump to be held again at its safe level")
        check(frontend(g, "/tmp/vm1.sock", "dir", "2", "out", "get", "2")["get 2"] == ["1"], "pump after the return")

        # By path again, but another chip (another label) takes the number
        # meanwhile: the path matches, the chip does not; the line stays gone.
        sim.plug("a", False)
        wait_until(lambda: holder(g, "pump").startswith("chip gone"), "ctl to show the pump as gone again")
        sim.add("d", "simD", 8)
        check(sim.chip("d") == old_a, f"simD is {sim.chip('d')}, not {old_a}: the test needs the number taken")
        wait_until(lambda: "another chip" in g.must("cat /tmp/daemon.log"), "the log to name the other chip")
        check(not line_used(g, sim.chip("d"), 4), "vgpio requested a line on another chip with the same path")
        check('label "simD"' in holder(g, "pump") and 'label "simA"' in holder(g, "pump"),
              f"ctl does not say which chip was found: {holder(g, 'pump')}")
        r = frontend(g, "/tmp/vm1.sock", "dir", "2", "out", "set", "2", "0")
        check(r["dir 2"] == ["err"] and not line_used(g, sim.chip("d"), 4), f"a guest reached the other chip: {r}")
        sim.plug("d", False)
        sim.plug("a", True)
        check(sim.chip("a") == old_a, f"simA came back as {sim.chip('a')}, not {old_a}")
        wait_until(lambda: sim.read("a", 4) == "1" and holder(g, "pump").startswith("vgpio-vm1"),
                   "the pump to be retaken at its safe level on its own chip")
        check(g.sh(f"kill -0 {daemon}")[0] == 0, "the daemon died")
        log = g.must("cat /tmp/daemon.log")
        check("the chip is back; the line is held at its safe level again" in log
              and "the chip is back; the line is the guest's output again" in log, f"log:\n{log}")
    finally:
        g.close()


SANDBOXED = """
user = "1000"
group = "1000"

[[device]]
name = "vm1"
socket = "/tmp/sbx/vm1.sock"

  [[device.line]]
  name = "relay"
  chip = "simB"
  offset = 1
  direction = "output"
  safe_level = 1
  initial = 0

  [[device.line]]
  name = "lamp"
  chip = "simB"
  offset = 2
  direction = "output"
  safe_level = 1
"""


@test
def test_sandbox():
    """vgpio started by hand as root, with its own sandbox (the default) and
    `user =`: /proc shows no_new_privs, the seccomp filter and the user, and
    `vgpio ctl status` says the same. The probe (compiled into test builds
    only) tries from a device thread what a compromised device would: execve,
    an AF_INET socket, /etc/shadow, ptrace, an ioctl outside the GPIO set,
    the chip the daemon was not given, a signal to a process of its own user,
    and a connection to a sibling instance's control socket. Each fails, and
    the daemon serves on with its held output at its safe level."""
    g = Guest([])
    try:
        sim = SimChips(g)
        # As a udev rule would: the user's group may use the chip it is given.
        g.must(f"chgrp 1000 /dev/{sim.chip('b')} && chmod 0660 /dev/{sim.chip('b')}; "
               f"chmod 0600 /dev/{sim.chip('a')}; mkdir -m 0777 /tmp/sbx")
        write_config(g, "/tmp/sbx.toml", SANDBOXED)
        daemon = g.spawn("vgpio serve --config /tmp/sbx.toml > /tmp/sbx.log")
        wait_until(lambda: g.sh("test -S /tmp/sbx/vm1.sock.ctl")[0] == 0 and
                   "sandbox: running as" in output(g, "/tmp/sbx.log"), "the daemon to listen, sandboxed")
        status = dict(re.findall(r"^(\w+):\s+(\S+)", g.must(f"cat /proc/{daemon}/status"), re.M))
        check(status["NoNewPrivs"] == "1" and status["Seccomp"] == "2" and status["Uid"] == "1000"
              and status["Gid"] == "1000", f"/proc/{daemon}/status: {status}")
        ctl = "vgpio ctl --control /tmp/sbx/vm1.sock.ctl"
        shown = g.must(f"{ctl} status")
        check(re.search(r"user\s+1000:1000 \(uid 1000, gid 1000\)", shown) and "no_new_privs    yes" in shown
              and "seccomp         filter" in shown and re.search(r"landlock\s+ABI \d+", shown),
              f"ctl status:\n{shown}")
        check(sim.read("b", 1, 2) == "11", "the outputs are not held at their safe level")

        # Siblings, as vgpio@.service makes them: one process of the same
        # user (only the sandbox stops a signal to it), and another instance
        # as its own user, its control socket in its own 0700 directory.
        g.must("mkdir -m 0777 /tmp/same; mkdir -m 0700 /tmp/sib && chown 1001:1001 /tmp/sib")
        same_user = g.spawn("vgpio serve --sim 1 --socket /tmp/same/x.sock --user 1000 --group 1000 > /tmp/same.log")
        write_config(g, "/tmp/sib.toml", 'user = "1001"\ngroup = "1001"\ncontrol = "/tmp/sib/control.sock"\n'
                     '[[device]]\nname = "vm2"\nsocket = "/tmp/sib/vm2.sock"\n[[device.line]]\nname = "x"\nsimulated = true\n')
        sibling = g.spawn("vgpio serve --config /tmp/sib.toml > /tmp/sib.log")
        wait_until(lambda: all("vgpio is serving" in output(g, log) for log in ("/tmp/sib.log", "/tmp/same.log")),
                   "the sibling instances to serve")
        answer = json.loads(g.must(f"{ctl} --json sandbox-probe vm1 --chip /dev/{sim.chip('a')} --pid {same_user} "
                                   "--socket /tmp/sib/control.sock"))
        attempts = answer["attempts"]
        check(len(attempts) == 9 and all(e in ("EPERM", "EACCES") for e in attempts.values()),
              f"the probe got through: {attempts}")
        check(attempts[f"kill({same_user})"] == attempts[f"tgkill({same_user})"] == "EPERM"
              and attempts["connect(/tmp/sib/control.sock)"] == "EACCES",
              f"a sibling was reached: {attempts}")
        g.must(f"kill -0 {sibling} && kill {sibling} {same_user}")

        # Still serving: a guest drives the relay, and lets go of it.
        r = frontend(g, "/tmp/sbx/vm1.sock", "dir", "0", "out", "set", "0", "0", "read", sim.value("b", 1))
        check(r[f"read {sim.value('b', 1)}"] == ["0"], f"the guest's output after the probe: {r}")
        check(sim.read("b", 1, 2) == "11", "the outputs are not back at their safe level")
        log = g.must("cat /tmp/sbx.log")
        check(log.count("sandbox: denied system call") == 6, f"the denials are not logged once each:\n{log}")
        g.must(f"kill {daemon}; while kill -0 {daemon} 2>/dev/null; do sleep 0.05; done")
    finally:
        g.close()

RESTART = """
[[device]]
name = "vm1"
socket = "/tmp/vm1.sock"

  [[device.line]]                   # 0: held; the guest drives it to 0
  name = "relay"
  chip = "simB"
  offset = 1
  direction = "output"
  safe_level = 1

  [[device.line]]                   # 1: held; the guest drives it to 1
  name = "lamp"
  host_name = "LAMP"
  direction = "output"

  [[device.line]]                   # 2: an input the guest watches
  name = "door"
  host_name = "DOOR"
  direction = "input"

  [[device.line]]                   # 3: not held: requested only while the guest drives it
  name = "spare"
  chip = "{chip_a}"
  offset = 6
  direction = "output"
  when_idle = "release"
"""
RESTARTS = 100  # of each kind


class Manager:
    """vgpio-fdstore running `vgpio serve --config CONFIG` in the guest: the
    fd store and the restarts systemd would do (tests/tools/fd_store_tool.cpp)."""

    def __init__(self, g, config, log="/tmp/mgr.log", store_max=None):
        self.g, self.log = g, log
        limit = f"--max {store_max} " if store_max else ""
        self.pid = g.spawn(f"vgpio-fdstore {limit}vgpio serve --config {config} > {log}")
        self.wait_ready(1)

    def readies(self):
        return self.g.must(f"grep -c '^ready' {self.log} || true").strip()

    def wait_ready(self, n):
        wait_until(lambda: int(self.readies() or 0) >= n, f"vgpio to be ready ({n} starts)")

    def daemon(self):
        return int(self.g.must(f"grep '^ready' {self.log} | tail -1").split()[1])

    def restarts(self, kind, count):
        """`count` restarts of one kind, each waited for, in one guest command."""
        how = {"crash": "kill -SEGV $(grep '^ready' {log} | tail -1 | cut -d' ' -f2)",
               "restart": f"kill -USR1 {self.pid}",
               # dpkg's way: the new file beside the old, renamed over it, then the restart
               "upgrade": f"cp /usr/bin/vgpio /usr/bin/vgpio.dpkg-new && mv /usr/bin/vgpio.dpkg-new /usr/bin/vgpio "
                          f"&& kill -HUP {self.pid}"}[kind].format(log=self.log)
        self.g.must(f"i=0; n=$(grep -c '^ready' {self.log}); while [ $i -lt {count} ]; do {how}; n=$((n+1)); "
                    f"while [ $(grep -c '^ready' {self.log}) -lt $n ]; do usleep 5000; done; i=$((i+1)); done",
                    timeout=600)

    def stop(self):
        self.g.must(f"kill -TERM {self.pid}; while kill -0 {self.pid} 2>/dev/null; do usleep 20000; done")


def ctl_json(g, *args):
    return json.loads(g.must("vgpio ctl --control /tmp/vm1.sock.ctl --json " + " ".join(args)))


@test
def test_restarts_keep_lines():
    """Across vgpio's restarts under a service manager's fd store: 100
    crashes (SIGSEGV, restarted automatically), 100 restarts (as `systemctl
    restart` through the unit's ExecStop) and 100 upgrades (the program file
    replaced, then the restart). gpionotify sees no line released or
    requested again, and a sampler of the chips' levels sees no change: 0
    glitches. The guest's lines are as it left them. Then a changed config
    (a line removed: it goes to its safe level and is released; the others
    are adopted), a corrupt saved state and a full store (the device starts
    clean, at safe levels, and says why), and a stop (every line released)."""
    g = Guest([])
    try:
        sim = SimChips(g)
        write_config(g, "/tmp/r.toml", RESTART.format(chip_a=sim.chip("a")))
        g.spawn(f"gpionotify --banner -c {sim.chip('b')} 1 2 > /tmp/notify_b.log")
        g.spawn(f"gpionotify --banner -c {sim.chip('a')} 5 6 > /tmp/notify_a.log")
        wait_until(lambda: output(g, "/tmp/notify_b.log").strip() and output(g, "/tmp/notify_a.log").strip(),
                   "gpionotify to start")
        mgr = Manager(g, "/tmp/r.toml")
        front = g.spawn("vgpio-frontend /tmp/vm1.sock dir 0 out set 0 0 set 1 1 dir 1 out dir 2 in irq 2 both "
                        "unmask 2 set 3 1 dir 3 out sleep 100000000 > /tmp/front.log")
        wait_until(lambda: "dir 3: ok" in output(g, "/tmp/front.log"), "the guest to set its lines up")
        levels = lambda: sim.read("b", 1, 2) + sim.read("a", 6)  # noqa: E731
        check(levels() == "011", f"the guest's levels (relay, lamp, spare): {levels()}")
        # A sampler: one line per change of the three outputs' levels, every
        # 2 ms or so, from shell builtins only (a fork per sample would starve
        # the guest's one CPU); `read -t` on a fifo nobody writes is its sleep.
        b1, b2, a6 = sim.value("b", 1), sim.value("b", 2), sim.value("a", 6)
        sampler = g.spawn(f"mkfifo /tmp/tick; p=; while :; do read a < {b1}; read b < {b2}; read c < {a6}; "
                          f"v=$a$b$c; [ \"$v\" != \"$p\" ] && echo $v; p=$v; read -t 0.002 x <> /tmp/tick; "
                          f"done > /tmp/samples.log")
        wait_until(lambda: output(g, "/tmp/samples.log").strip(), "the sampler to start")

        logs = ("/tmp/notify_b.log", "/tmp/notify_a.log")
        before = [output(g, log).count("\n") for log in logs]  # the first requests, by vgpio and the guest
        notes = lambda: "".join("".join(output(g, log).splitlines(keepends=True)[n:])  # noqa: E731
                                for log, n in zip(logs, before))
        started = time.monotonic()
        for kind in ("crash", "restart", "upgrade"):
            mgr.restarts(kind, RESTARTS)
        took = time.monotonic() - started
        g.kill(sampler)
        samples = output(g, "/tmp/samples.log").split()
        events = notes()
        glitches = len(samples) - 1 + events.count("released") + events.count("requested")
        print(f"{3 * RESTARTS} restarts in {took:.0f} s: {glitches} glitches (levels seen: {samples}; "
              f"{events.count('reconfigured')} in-place reconfigurations)")
        check(samples == ["011"], f"the outputs changed during the restarts: {samples}")
        check("released" not in events and "requested" not in events,
              f"lines were released or requested again:\n{events}")
        log = output(g, "/tmp/mgr.log")
        check(log.count("exited") == 3 * RESTARTS and "refused" not in log, f"the restarts:\n{log[-3000:]}")
        check(g.sh("grep -q 'sandbox: denied' /tmp/mgr.log")[0] != 0, "the sandbox denied a call")

        # The guest's view, restored: outputs, the input and its armed interrupt.
        lines = {l["name"]: l for l in ctl_json(g, "list")["devices"][0]["lines"]}
        check([lines[n]["direction"] for n in ("relay", "lamp", "door", "spare")] == ["out", "out", "in", "out"]
              and lines["door"]["irq"] == "edge-both", f"the guest's lines after the restarts: {lines}")
        g.must(f"echo pull-up > {sim.pull('a', 5)}")
        wait_until(lambda: ctl_json(g, "get", "vm1", "door")["value"] == 1, "the input to read the new level")
        report = "\n".join(ctl_json(g, "status")["restart"]["report"])
        check("restored: 4 of 4 lines" in report and "line 0 (relay): adopted: an output at 0" in report
              and "line 2 (door): adopted: an input" in report, f"ctl status after the restarts:\n{report}")
        g.sh(f"kill {front} 2>/dev/null")  # its session ended with the first crash: nothing reconnects

        # A changed config: the spare line is gone; the others come over.
        write_config(g, "/tmp/r.toml", RESTART.format(chip_a=sim.chip("a")).split("  [[device.line]]"
                                                                                  "                   # 3")[0])
        n = int(mgr.readies())
        g.must(f"kill -USR1 {mgr.pid}")
        mgr.wait_ready(n + 1)
        report = "\n".join(ctl_json(g, "status")["restart"]["report"])
        check(f"/dev/{sim.chip('a')} line 6: no longer in the config; set to its safe level 0 and released" in report
              and "reset: the device's lines changed" in report and "line 0 (relay): adopted" in report,
              f"ctl status after the config changed:\n{report}")
        # (The device starts clean, its lines changed: the idle door input is released too.)
        wait_until(lambda: re.search(r"released\s+\S+ 6\n", output(g, "/tmp/notify_a.log")),
                   "the removed line to be released")
        check(sim.read("a", 6) == "0" and sim.read("b", 1, 2) == "10", "removed at 0, the rest at their safe levels")
        events = "".join(output(g, logs[0]).splitlines(keepends=True)[before[0]:])
        check("released" not in events and "requested" not in events, f"kept lines were released:\n{events}")

        # A corrupt saved state: the device starts clean and says why; its lines still come over.
        front = g.spawn("vgpio-frontend /tmp/vm1.sock set 1 1 dir 1 out sleep 100000000 > /tmp/front.log")
        wait_until(lambda: "dir 1: ok" in output(g, "/tmp/front.log"), "the guest to drive the lamp")
        memfd = g.must(f"ls -l /proc/{mgr.pid}/fd | grep vgpio-state | sed 's/.* \\([0-9]*\\) -> .*/\\1/'").strip()
        g.must(f"printf 'garbage!' | dd of=/proc/{mgr.pid}/fd/{memfd} conv=notrunc 2>/dev/null")
        n = int(mgr.readies())
        g.must(f"kill -SEGV {mgr.daemon()}")
        mgr.wait_ready(n + 1)
        report = "\n".join(ctl_json(g, "status")["restart"]["report"])
        check("reset: the kept state is corrupt" in report, f"ctl status after a corrupt state:\n{report}")
        check(sim.read("b", 1, 2) == "10", "not at the safe levels after a corrupt state")
        check("released" not in output(g, "/tmp/notify_b.log"), "a corrupt state released the lines")

        # A stop is not a restart: every line at its safe level, then released.
        mgr.stop()
        wait_until(lambda: output(g, "/tmp/notify_b.log").count("released") == 2, "the lines to be released")

        # A store too small for every line: what it could not keep is released
        # when vgpio ends, and the next one starts clean, at safe levels, and says why.
        write_config(g, "/tmp/r.toml", RESTART.format(chip_a=sim.chip("a")))
        small = Manager(g, "/tmp/r.toml", log="/tmp/small.log", store_max=3)  # two held lines and the state
        front = g.spawn("vgpio-frontend /tmp/vm1.sock set 1 1 dir 1 out dir 2 in sleep 100000000 > /tmp/front.log")
        wait_until(lambda: "dir 2: ok" in output(g, "/tmp/front.log"), "the guest to take the door")
        g.must(f"kill -SEGV {small.daemon()}")
        small.wait_ready(2)
        report = "\n".join(ctl_json(g, "status")["restart"]["report"])
        check("refused" in output(g, "/tmp/small.log") and "was not handed back by the service manager" in report,
              f"ctl status after a full store:\n{report}")
        check(sim.read("b", 1, 2) == "10", "not at the safe levels after a full store")
        small.stop()
    finally:
        g.close()


if __name__ == "__main__":
    sys.exit(run(TESTS, sys.argv))
