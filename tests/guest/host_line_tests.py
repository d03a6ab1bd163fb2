#!/usr/bin/env python3
"""Host lines against real kernel GPIO chips: two gpio-sim chips inside the
test guest, the vgpio daemon and a scripted driver (vgpio-frontend) beside
them. No virtio device is involved: this is the host side of vgpio.

usage: host_line_tests.py TEST   (environment: VGPIO_KERNEL, VGPIO_INITRD)
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "testvm"))
from guestkit import Failure, Guest, wait_until  # noqa: E402
from guest_tests import check, run  # noqa: E402

TESTS = {}
SIM = "/sys/kernel/config/gpio-sim"

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


class SimChips:
    """Two gpio-sim chips: simA (8 lines, line 5 named DOOR) and simB (4 lines)."""

    def __init__(self, g):
        self.g = g
        g.must(f"mkdir {SIM}/a {SIM}/a/bank0 {SIM}/a/bank0/line5 {SIM}/b {SIM}/b/bank0")
        g.must(f"echo 8 > {SIM}/a/bank0/num_lines; echo simA > {SIM}/a/bank0/label; "
               f"echo DOOR > {SIM}/a/bank0/line5/name; echo 1 > {SIM}/a/live")
        g.must(f"echo 4 > {SIM}/b/bank0/num_lines; echo simB > {SIM}/b/bank0/label; echo 1 > {SIM}/b/live")
        self.dirs = {}
        for name in ("a", "b"):
            dev = g.must(f"cat {SIM}/{name}/dev_name").strip()
            chip = g.must(f"cat {SIM}/{name}/bank0/chip_name").strip()
            self.dirs[name] = (f"/sys/devices/platform/{dev}/{chip}", chip)

    def chip(self, name):
        return self.dirs[name][1]

    def pull(self, name, line):
        return f"{self.dirs[name][0]}/sim_gpio{line}/pull"

    def value(self, name, line):
        return f"{self.dirs[name][0]}/sim_gpio{line}/value"


def frontend(g, socket, *steps):
    """Runs vgpio-frontend; returns {step: result}."""
    out = g.must(f"vgpio-frontend {socket} " + " ".join(steps))
    results = {}
    for line in out.splitlines():
        m = re.match(r"@ (.*?): (.*)$", line)
        if m:
            results.setdefault(m.group(1), []).append(m.group(2))
    return results


def write_config(g, path, text):
    g.must(f"cat > {path} <<'VGPIO_EOF'\n{text}\nVGPIO_EOF")


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
        check("relay): output set to its safe level 1" in log, f"no safe level at disconnect:\n{log}")
        info = g.must(f"gpioinfo -c {sim.chip('a')}; gpioinfo -c {sim.chip('b')}")
        check("vgpio-vm1" not in info, f"lines still held after the frontend left:\n{info}")
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

        # SIGTERM while the guest holds the relay high: safe level, released, sockets gone.
        f = g.spawn("vgpio-frontend /tmp/vm1.sock dir 1 out set 1 0 sleep 100000 > /tmp/f.out")
        wait_until(lambda: "set 1: ok" in g.must("cat /tmp/f.out"), "the frontend to drive the relay")
        daemon = g.must("pidof vgpio").split()[0]
        g.must(f"kill -TERM {daemon}; while kill -0 {daemon} 2>/dev/null; do sleep 0.05; done")
        log = g.must("cat /tmp/daemon.log")
        check("received Terminated" in log and "relay): output set to its safe level 1" in log, f"SIGTERM:\n{log}")
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


if __name__ == "__main__":
    sys.exit(run(TESTS, sys.argv))
