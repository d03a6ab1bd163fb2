#!/usr/bin/env python3
"""vgpio's service under a real systemd: Debian 12's systemd 252 as PID 1 in
a QEMU guest (testvm/systemd_guest.py), the package installed there with apt,
real kernel GPIO chips (gpio-sim) behind it, and a frontend (vgpio-frontend)
beside it in the guest. What README.md and docs/restarts.md say of the
service is what these tests show.

usage: systemd_tests.py TEST   (environment: VGPIO_KERNEL, VGPIO_SYSTEMD_ROOT;
VGPIO_SYSTEMD_RESTARTS: restarts of each kind in test_restarts, 100 unless set;
the test suite runs 10, VGPIO_SYSTEMD_TEST_RESTARTS)
"""
import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "testvm"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "guest"))
from guestkit import Workdir, wait_until  # noqa: E402
from gpio_sim import SimChips  # noqa: E402
from guest_tests import check, run  # noqa: E402
from systemd_guest import BOOT_WAIT, SystemdGuest  # noqa: E402

TESTS = {}
HERE = os.path.dirname(os.path.abspath(__file__))
# VGPIO_SYSTEMD_RESTARTS, else the test suite's own count, else 100.
RESTARTS = int(os.environ.get("VGPIO_SYSTEMD_RESTARTS") or os.environ.get("VGPIO_SYSTEMD_TEST_RESTARTS") or "100")
UNIT = "vgpio@vm1.service"
# A frontend waits for its answers as a VMM does, not 5 s: one that gives up
# closes the connection, and vgpio takes the guest as gone (safe levels).
FRONTEND_WAIT_MS = 600000
CTL = "vgpio ctl --control /run/vgpio/vm1/control.sock"

# relay and lamp: outputs the frontend drives away from their safe levels
# (relay 1, safe 0; lamp 0, safe 1): a release or a reset shows on both.
CONFIG = """
[[device]]
name = "{name}"
socket = "/run/vgpio/{name}.sock"

  [[device.line]]
  name = "relay"
  chip = "{chip}"
  offset = 1
  direction = "output"
  safe_level = 0

  [[device.line]]
  name = "lamp"
  chip = "{chip}"
  offset = 2
  direction = "output"
  safe_level = 1

  [[device.line]]
  name = "door"
  chip = "{chip}"
  offset = 3
  direction = "input"
"""
DRIVE = "set 0 1 dir 0 out set 1 0 dir 1 out dir 2 in"
# A device added by a reload, its socket in the instance's runtime folder.
EXTRA_DEVICE = """
[[device]]
name = "extra"
socket = "/run/vgpio/vm1/extra.sock"

  [[device.line]]
  name = "knob"
  simulated = true
"""


def test(fn):
    TESTS[fn.__name__.removeprefix("test_")] = fn
    return fn


def serve(g, sim, name="vm1", chip="a", start=True):
    """/etc/vgpio/NAME.toml with three lines of a gpio-sim chip; the socket
    unit enabled and listening, and the service started (Type=notify: the
    start returns once vgpio said READY=1)."""
    g.write(f"/etc/vgpio/{name}.toml", CONFIG.format(name=name, chip=sim.chip(chip)))
    g.must(f"vgpio check /etc/vgpio/{name}.toml")
    g.must(f"systemctl enable --now vgpio@{name}.socket")
    if start:
        g.must(f"systemctl start vgpio@{name}.service", timeout=BOOT_WAIT)


def chips(g):
    """gpio-sim chips made after the package is installed: udev gives them to
    group gpio (60-vgpio.rules), as on a host whose chips exist at boot."""
    sim = SimChips(g)
    g.must("udevadm settle")
    for name in ("a", "b"):
        owner = g.must(f"stat -c %G:%a /dev/{sim.chip(name)}").strip()
        check(owner == "gpio:660", f"/dev/{sim.chip(name)} is {owner}, not gpio:660 (the package's udev rule)")
    return sim


class Frontend:
    """vgpio-frontend in the guest: drives the lines, then stays connected
    (reconnecting whenever the daemon goes away) until stopped; then reads
    its outputs back."""

    def __init__(self, g, name="vm1", steps=DRIVE, log="/tmp/front.log"):
        self.g, self.log, self.stop_file = g, log, log + ".stop"
        g.must(f"rm -f {self.stop_file}")
        self.pid = g.spawn(f"VGPIO_FRONTEND_TIMEOUT_MS={FRONTEND_WAIT_MS} vgpio-frontend /run/vgpio/{name}.sock {steps} "
                           f"stay {self.stop_file} "
                           f"get 0 get 1 > {log}")
        wait_until(lambda: "dir 2: ok" in g.read(log) or "failed" in g.read(log), "the frontend to drive")
        check("failed" not in g.read(log), g.read(log))

    def reconnects(self):
        return self.g.read(self.log).count("@ reconnected:")

    def finish(self):
        """{step: [results]} once it has read its outputs back."""
        self.g.must(f"touch {self.stop_file}; while kill -0 {self.pid} 2>/dev/null; do sleep 0.05; done",
                    timeout=BOOT_WAIT)
        results = {}
        for line in self.g.read(self.log).splitlines():
            m = re.match(r"@ (.*?): (.*)$", line)
            if m:
                results.setdefault(m.group(1), []).append(m.group(2))
        return results


def line_row(g, name):
    """'out 1' for a line of vm1 in `vgpio ctl list`."""
    rows = g.must(f"{CTL} list")
    m = re.search(rf"^\s*\d+\s+{name}\s+(\S+)\s+(\S+)", rows, re.M)
    check(m, f"no line {name} in ctl list:\n{rows}")
    return f"{m.group(1)} {m.group(2)}"


@test
def test_install_notify_reload_journal():
    """`apt install ./vgpio_*.deb`; `systemctl start vgpio@vm1` reaches
    active through Type=notify; `systemctl reload` of a config replaced by
    rename serves its new device, makes the control socket again with the
    new control_mode (as the dynamic user, in its sandbox), reads the user
    name it gives, and keeps the connected frontend and the levels it drove;
    a bad config on reload is refused and the running one
    stays; journalctl shows the daemon's lines at their
    priorities."""
    with Workdir() as w:
        g = SystemdGuest(w)
        try:
            check(g.must("vgpio --version").startswith("vgpio "), "vgpio is not installed")
            check("vgpio-vm1" not in g.must("getent passwd || true"), "a vgpio-vm1 user before the unit runs")
            sim = chips(g)
            serve(g, sim)
            props = g.show(UNIT, "Type", "ActiveState", "SubState", "MainPID", "NRestarts", "User")
            check(props["Type"] == "notify" and props["ActiveState"] == "active" and props["SubState"] == "running",
                  f"after systemctl start: {props}")
            pid = int(props["MainPID"])
            front = Frontend(g)
            check(sim.read("a", 1, 2) == "10", f"the frontend's levels on the chip: {sim.read('a', 1, 2)}")

            # A config replaced the usual way (editors, sed -i, dpkg): a new
            # file renamed over the old one, a new inode. It also changes the
            # control socket's mode (the socket made again by the dynamic
            # user, in its sandbox) and names a user (looked up then).
            control = "/run/vgpio/vm1/control.sock"
            check(g.must(f"stat -c %a {control}").strip() == "600", "the control socket is not 0600 at first")
            g.write("/etc/vgpio/vm1.toml.new", 'control_mode = "0660"\ncontrol_observe = ["root"]\n' +
                    CONFIG.format(name="vm1", chip=sim.chip("a")) + EXTRA_DEVICE)
            g.must("mv /etc/vgpio/vm1.toml.new /etc/vgpio/vm1.toml")
            g.must(f"systemctl reload {UNIT}", timeout=BOOT_WAIT)
            check(g.main_pid(UNIT) == pid and g.show(UNIT, "ActiveState")["ActiveState"] == "active",
                  f"after reload: {g.show(UNIT, 'ActiveState', 'MainPID')}")
            check(re.search(r"^device extra ", g.must(f"{CTL} list"), re.M),
                  f"the renamed config's new device is not served:\n{g.must(f'{CTL} list')}\n{g.journal(UNIT)[-5:]}")
            check(g.must(f"stat -c %a {control}").strip() == "660",
                  f"the control socket after the reload: {g.must(f'stat -c %a-%U-%G {control}')}\n"
                  f"{g.journal(UNIT)[-5:]}")
            # A config that does not parse: refused, the running one stays.
            g.must("cp /etc/vgpio/vm1.toml /tmp/good.toml && echo 'this is = = not toml' >> /etc/vgpio/vm1.toml")
            g.must(f"systemctl reload {UNIT}", timeout=BOOT_WAIT)
            g.must("cp /tmp/good.toml /etc/vgpio/vm1.toml")
            check(g.main_pid(UNIT) == pid and line_row(g, "relay") == "out 1" and sim.read("a", 1, 2) == "10",
                  f"after a bad reload: {line_row(g, 'relay')}, chip {sim.read('a', 1, 2)}")
            check(front.reconnects() == 0, f"the frontend lost its connection:\n{g.read(front.log)}")
            results = front.finish()
            check(results["get 0"] == ["1"] and results["get 1"] == ["0"], f"the guest's outputs: {results}")

            journal = g.journal(UNIT)
            levels = {}
            for priority, message in journal:
                levels.setdefault(priority, []).append(message)
            check(any("vgpio: info:" in m and "reload done" in m for m in levels.get(6, [])),
                  f"no reload line at priority 6 (info): {journal}")
            check(any(m.startswith("vgpio: error: reload:") for m in levels.get(3, [])),
                  f"no refused reload at priority 3 (error): {journal}")
            check(not any(m.startswith("<") for _, m in journal), f"a priority prefix left in a message: {journal}")
            print(f"journal of {UNIT}: " + ", ".join(f"{len(v)} at priority {k}" for k, v in sorted(levels.items())))
        finally:
            g.close()


@test
def test_socket_activation():
    """vgpio@vm1.socket listens with no daemon; the first connection starts
    vgpio@vm1.service, and once it is stopped, the next connection starts
    it again."""
    with Workdir() as w:
        g = SystemdGuest(w)
        try:
            sim = chips(g)
            serve(g, sim, start=False)
            g.must(f"systemctl stop {UNIT}")  # (enabling the socket enables, and may start, the service)
            check(g.show("vgpio@vm1.socket", "ActiveState")["ActiveState"] == "active"
                  and g.show(UNIT, "ActiveState")["ActiveState"] == "inactive",
                  f"{g.show('vgpio@vm1.socket', 'ActiveState')}, {g.show(UNIT, 'ActiveState')}")
            pids = []
            for attempt in (1, 2):
                out = g.must("vgpio-frontend /run/vgpio/vm1.sock names get 2", timeout=BOOT_WAIT)
                check("@ names: relay,lamp,door" in out, f"connection {attempt}: {out}")
                check(g.show(UNIT, "ActiveState")["ActiveState"] == "active", f"connection {attempt} started nothing")
                pids.append(g.main_pid(UNIT))
                g.must(f"systemctl stop {UNIT}")
                check(g.show("vgpio@vm1.socket", "ActiveState")["ActiveState"] == "active",
                      "the socket stopped with the service")
            check(pids[0] != pids[1], f"the same daemon twice: {pids}")
            print(f"two connections, two starts (pids {pids})")
            info = g.must(f"gpioinfo -c {sim.chip('a')} 1 2")
            check("vgpio" not in info, f"lines still held after the stop:\n{info}")
        finally:
            g.close()


@test
def test_dynamic_users():
    """Two instances run as two dynamic users; neither can connect to the
    other's control socket or device socket... nor signal the other's daemon."""
    with Workdir() as w:
        g = SystemdGuest(w)
        try:
            sim = chips(g)
            serve(g, sim, "vm1", "a")
            serve(g, sim, "vm2", "b")
            who = {}
            for name in ("vm1", "vm2"):
                pid = g.main_pid(f"vgpio@{name}.service")
                uid, gid = g.must(f"ps -o uid=,gid= -p {pid}").split()
                who[name] = (pid, int(uid), int(gid), g.must(f"id -nu {uid}").strip())
            check(who["vm1"][1] != who["vm2"][1] and 0 not in (who["vm1"][1], who["vm2"][1]),
                  f"the instances' users: {who}")
            check(who["vm1"][3] == "vgpio-vm1" and who["vm2"][3] == "vgpio-vm2", f"the users' names: {who}")
            gpio = g.must("getent group gpio | cut -d: -f3").strip()
            for me, other in (("vm1", "vm2"), ("vm2", "vm1")):
                _, uid, gid, _ = who[me]
                as_me = f"setpriv --reuid={uid} --regid={gid} --groups={gpio} --inh-caps=-all"
                rc, out = g.sh(f"{as_me} vgpio ctl --control /run/vgpio/{other}/control.sock list 2>&1")
                check(rc != 0 and re.search(r"ermission denied", out), f"{me} reached {other}'s control socket: {out}")
                rc, out = g.sh(f"{as_me} kill -0 {who[other][0]} 2>&1")
                check(rc != 0 and "not permitted" in out, f"{me} could signal {other}'s daemon: {out}")
                rc, out = g.sh(f"{as_me} vgpio ctl --control /run/vgpio/{me}/control.sock list 2>&1")
                check(rc == 0, f"{me} cannot reach its own control socket: {out}")
            print("users: " + ", ".join(f"{n} uid {u}" for n, (_, u, _, n2) in who.items() for n in [n2]))
        finally:
            g.close()


def sampler(g, sim):
    """vgpio-sampler on relay and lamp's levels (gpio-sim's sysfs value) every
    500 us, and gpionotify on both lines; returns a function that stops both
    and returns (summary, level changes, line events)."""
    values = " ".join(sim.value("a", line) for line in (1, 2))
    notify = g.spawn(f"gpionotify --banner -c {sim.chip('a')} 1 2 > /tmp/notify.log")
    wait_until(lambda: g.read("/tmp/notify.log").strip(), "gpionotify to start")
    pid = g.spawn(f"vgpio-sampler 500 {values} > /tmp/samples.log")
    wait_until(lambda: "change" in g.read("/tmp/samples.log"), "the sampler to start")

    def stop():
        g.must(f"kill -TERM {pid} {notify}; while kill -0 {pid} 2>/dev/null; do sleep 0.05; done")
        out = g.read("/tmp/samples.log")
        summary = dict(zip(*[iter(out.splitlines()[-1].split())] * 2))
        summary["how"] = out.splitlines()[0]
        changes = [line for line in out.splitlines() if line.startswith("change")][1:]
        events = [line for line in g.read("/tmp/notify.log").splitlines()
                  if re.search(r"\b(requested|released)\b", line)]
        return summary, changes, events
    return stop


@test
def test_restarts():
    """RESTARTS times each: `systemctl restart vgpio@vm1`, SIGSEGV of the
    daemon (Restart=on-failure) and `apt install` of the package with a
    higher version, with a frontend connected that drives relay high and
    lamp low. The lines are never released or requested again (gpionotify),
    their levels never change (sampled at 2 kHz), and after each restart the
    new daemon holds both lines and answers `vgpio ctl list` with the levels
    the guest drove (tests/systemd/restart-loop.sh)."""
    with Workdir() as w:
        # The sampler needs a fine clock: a guest whose kernel fell back to
        # 4 ms jiffies is booted again, three times at most.
        for boot in range(3):
            g = SystemdGuest(w)
            if g.clocksource() == "tsc" or boot == 2:
                break
            print(f"systemd guest: clocksource {g.clocksource()} (its TSC calibration failed); booting again")
            g.close()
        fine_clock = g.clocksource() == "tsc"
        try:
            sim = chips(g)
            serve(g, sim)
            front = Frontend(g)
            stop_sampling = sampler(g, sim)
            with open(os.path.join(HERE, "restart-loop.sh")) as f:
                g.write("/usr/local/bin/restart-loop.sh", f.read())
            g.must("chmod +x /usr/local/bin/restart-loop.sh")
            figures = {}
            for kind in ("restart", "crash", "upgrade"):
                started = time.monotonic()
                rc, out = g.sh(f"restart-loop.sh {kind} {RESTARTS} {sim.chip('a')}", timeout=RESTARTS * 60 + 600)
                took = [int(x) / 1000 for x in re.findall(r"^took (\d+)$", out, re.M)]
                check(rc == 0 and len(took) == RESTARTS,
                      f"{kind}: {out[-6000:]}\nthe frontend: {g.read(front.log)[-1500:]}")
                figures[kind] = (statistics.median(took), max(took), time.monotonic() - started)
                if kind == "crash":  # (a restart by hand sets the count back to 0)
                    nrestarts = g.show(UNIT, "NRestarts")["NRestarts"]
            summary, changes, events = stop_sampling()
            sampling = summary["how"]
            results = front.finish()
            version = g.must("dpkg-query -W -f='${Version}' vgpio")
            for kind, (median, longest, wall) in figures.items():
                print(f"{RESTARTS} x {kind}: command -> new daemon answering: median {median:.0f} ms, "
                      f"max {longest:.0f} ms ({wall:.0f} s in all)")
            print(f"sampler ({sampling}): {summary['samples']} samples in {summary['seconds']} s ({summary['rate']} Hz), "
                  f"longest gap {summary['max_gap_us']} us, {summary['gaps_over_1ms']} gaps over 1 ms, in which a "
                  f"1 ms glitch could have hidden for {summary['blind_ms']} ms in all; "
                  f"level changes {len(changes)}; line events {len(events)}; frontend reconnects "
                  f"{front.reconnects()}; NRestarts={nrestarts}; installed {version}")
            check(not changes and summary["levels"] == "10", f"the outputs changed: {changes} {summary}")
            check(not events, f"lines released or requested: {events}")
            if fine_clock:
                check(int(summary["samples"]) / float(summary["seconds"]) >= 1000, f"sampled too slowly: {summary}")
            else:  # said, not failed: the machine's load decided it, and gpionotify still saw every release
                print(f"systemd guest: clocksource {g.clocksource()} after three boots: the sampler could only "
                      f"read every 4 ms")
            check(results["get 0"] == ["1"] and results["get 1"] == ["0"] and front.reconnects() >= 3 * RESTARTS,
                  f"the frontend after the restarts: {results}, {front.reconnects()} reconnects")
            check(int(nrestarts) == RESTARTS, f"NRestarts={nrestarts}: the crashes were not restarted by systemd")
            check(version.endswith(f"+up{RESTARTS}"), f"installed after the upgrades: {version}")
            denied = [m for _, m in g.journal(UNIT) if "sandbox: denied" in m]
            check(not denied, f"the sandbox denied calls: {denied}")
        finally:
            g.close()


def line_events(g, log, since=0):
    """gpionotify's released/requested lines in LOG after the first `since`."""
    return [line for line in g.read(log).splitlines()[since:] if re.search(r"\b(requested|released)\b", line)]


def restart_report(g):
    return "\n".join(json.loads(g.must(f"{CTL} --json status"))["restart"]["report"])


def crash_until_given_up(g, most=10):
    """SIGSEGV to each new daemon as soon as it answers, until systemd gives
    up; returns how many crashes that took."""
    for crash in range(1, most + 1):
        old = g.main_pid(UNIT)
        g.must(f"kill -SEGV {old}")
        def settled():
            props = g.show(UNIT, "ActiveState", "MainPID")
            if props["ActiveState"] == "failed":
                return "failed"
            if props["ActiveState"] == "active" and int(props["MainPID"]) not in (0, old) \
                    and g.sh(f"{CTL} list > /dev/null 2>&1")[0] == 0:
                return "up"
            return None
        if wait_until(settled, f"crash {crash} to end one way or the other", interval=0.05) == "failed":
            return crash
    return None


@test
def test_what_systemd_does():
    """What systemd 252 does that a stand-in would not tell: an explicit
    `systemctl stop` lets the store go (vgpio puts outputs at their safe
    levels and releases them); a unit crashing again and again is given up on
    at its sixth start within StartLimitIntervalSec=, and then its lines are
    released as the chip's driver leaves them; a FileDescriptorStoreMax= smaller than what vgpio
    keeps loses the rest at the next restart, and the new vgpio says so."""
    with Workdir() as w:
        g = SystemdGuest(w)
        try:
            sim = chips(g)
            serve(g, sim)
            g.spawn(f"gpionotify --banner -c {sim.chip('a')} 1 2 > /tmp/notify.log")
            wait_until(lambda: g.read("/tmp/notify.log").strip(), "gpionotify to start")
            front = Frontend(g)
            kept = int(g.show(UNIT, "NFileDescriptorStore")["NFileDescriptorStore"])
            check(kept == 4, f"vgpio kept {kept} fds in systemd's store, not 3 line requests and the device's state")

            # 1. A stop is a stop.
            seen = len(g.read("/tmp/notify.log").splitlines())
            g.must(f"systemctl stop {UNIT}")
            events = line_events(g, "/tmp/notify.log", seen)
            left = g.show(UNIT, "NFileDescriptorStore")["NFileDescriptorStore"]
            check(len([e for e in events if "released" in e]) == 2 and left == "0",
                  f"after systemctl stop: store {left}, line events {events}")
            stop_log = [m for _, m in g.journal(UNIT) if "safe level" in m and "released" in m]
            check(len(stop_log) >= 2, f"no safe levels logged at the stop: {g.journal(UNIT)[-10:]}")
            print(f"systemctl stop: store {kept} -> {left} fds; {len(events)} lines released at their safe levels")
            g.must(f"touch {front.stop_file}")

            # 2. Crashes in a row. systemd refuses a sixth start within
            # StartLimitIntervalSec= (10 s by default): an hour here, so that
            # the count, not the machine's speed, decides.
            g.write(f"/etc/systemd/system/{UNIT}.d/limit.conf", "[Unit]\nStartLimitIntervalSec=1h")
            g.must(f"systemctl daemon-reload && systemctl reset-failed {UNIT} && systemctl start {UNIT}")
            front = Frontend(g)
            seen = len(g.read("/tmp/notify.log").splitlines())
            crashes = crash_until_given_up(g)
            props = g.show(UNIT, "ActiveState", "Result", "NFileDescriptorStore")
            events = line_events(g, "/tmp/notify.log", seen)
            why = [m for _, m in g.journal(UNIT) if "repeated too quickly" in m]
            check(crashes == 6 and props["ActiveState"] == "failed" and why, f"after {crashes} crashes: {props}")
            check(props["NFileDescriptorStore"] == "0" and len([e for e in events if "released" in e]) == 2,
                  f"given up: {props}, line events {events}")
            levels = sim.read("a", 1, 2)
            print(f"crashes in a row: systemd gave up at crash {crashes} (Result={props['Result']}, \"{why[0]}\"); "
                  f"the store went with the "
                  f"unit: both lines released, left by gpio-sim at {levels} (relay, lamp)")
            g.must(f"touch {front.stop_file}")
            g.must(f"rm /etc/systemd/system/{UNIT}.d/limit.conf && systemctl daemon-reload")
            g.must(f"systemctl reset-failed {UNIT} && systemctl start {UNIT}")
            check(sim.read("a", 1, 2) == "01", f"a start after the failure is not at the safe levels: {sim.read('a', 1, 2)}")

            # 3. A store smaller than what vgpio keeps.
            g.write(f"/etc/systemd/system/{UNIT.replace('.service', '')}.service.d/store.conf",
                  "[Service]\nFileDescriptorStoreMax=2")
            g.must(f"systemctl daemon-reload && systemctl restart {UNIT}")
            front = Frontend(g)
            kept = g.show(UNIT, "NFileDescriptorStore")["NFileDescriptorStore"]
            seen = len(g.read("/tmp/notify.log").splitlines())
            g.must(f"systemctl restart {UNIT}")
            report = restart_report(g)
            events = line_events(g, "/tmp/notify.log", seen)
            full = [m for _, m in g.journal(UNIT) if "file descriptor" in m.lower() and "store" in m.lower()]
            check(kept == "2" and "was not handed back by the service manager" in report,
                  f"store {kept}; ctl status after the restart:\n{report}")
            said = f"systemd said: {full[0]}" if full else "systemd said nothing (at its default log level)"
            print(f"FileDescriptorStoreMax=2: {kept} fds kept of 4; {said}; "
                  f"at the restart: {len(events)} line events; vgpio said: {report.splitlines()[0] if report else ''}")
            g.must(f"touch {front.stop_file}")
        finally:
            g.close()


def crash_and_wait(g):
    """SIGSEGV to the daemon; returns once the next one answers."""
    old = g.main_pid(UNIT)
    g.must(f"kill -SEGV {old}")
    wait_until(lambda: g.main_pid(UNIT) not in (0, old) and g.sh(f"{CTL} list > /dev/null 2>&1")[0] == 0,
               "the next vgpio to answer", interval=0.05)


@test
def test_hostile_store():
    """What systemd's store hands back is checked, not trusted. With
    NotifyAccess=all any process of the unit may change the store (as a
    broken helper could): a memfd kept under one line's name, and another
    chip's line request under another's, are refused by the next vgpio with
    a log line naming each; nothing is driven through them, and both lines
    are requested afresh at their safe levels. A state memfd filled with
    garbage or truncated between two runs is refused with a message: the
    lines stay held (never released), the device starts clean, nothing
    crashes."""
    with Workdir() as w:
        g = SystemdGuest(w)
        try:
            sim = chips(g)
            serve(g, sim)
            g.write(f"/etc/systemd/system/{UNIT}.d/notify.conf", "[Service]\nNotifyAccess=all")
            g.must("systemctl daemon-reload")
            g.spawn(f"gpionotify --banner -c {sim.chip('a')} 1 2 > /tmp/notify.log")
            wait_until(lambda: g.read("/tmp/notify.log").strip(), "gpionotify to start")
            front = Frontend(g)
            cgroup = "/sys/fs/cgroup" + g.show(UNIT, "ControlGroup")["ControlGroup"]
            chip_a, chip_b = "/dev/" + sim.chip("a"), "/dev/" + sim.chip("b")

            def push(*args):  # from inside the unit's cgroup, as one of its processes
                g.must(f"bash -c 'echo $$ > {cgroup}/cgroup.procs && "
                       f"NOTIFY_SOCKET=/run/systemd/notify exec vgpio-fdpush {' '.join(args)}'")
            relay, lamp = f"line.0.1.{chip_a}", f"line.1.2.{chip_a}"
            push(lamp, "remove")
            push(lamp, "memfd")
            push(relay, "remove")
            push(relay, "line", chip_b, "1")
            wait_until(lambda: g.show(UNIT, "NFileDescriptorStore")["NFileDescriptorStore"] == "4",
                       "the store to hold the pushed fds")
            seen = len(g.read("/tmp/notify.log").splitlines())
            crash_and_wait(g)
            journal = [m for _, m in g.journal(UNIT)]
            refused = [m for m in journal if "refused what the service manager kept" in m]
            check(any("(relay)" in m and f"a request for {sim.chip('b')} line 1, not {sim.chip('a')} line 1" in m
                      for m in refused) and any("(lamp)" in m and "not a GPIO line request" in m for m in refused),
                  f"the refusals in the journal: {refused}\n{journal[-15:]}")
            events = line_events(g, "/tmp/notify.log", seen)
            check(sim.read("a", 1, 2) == "01", f"relay and lamp are not at their safe levels: {sim.read('a', 1, 2)}")
            info_b = g.must(f"gpioinfo -c {sim.chip('b')} 1")
            check("consumer" not in info_b, f"the other chip's line is still requested:\n{info_b}")
            report = restart_report(g)
            check("reset:" in report and g.show(UNIT, "ActiveState")["ActiveState"] == "active", report)
            print(f"a memfd and another chip's request in the store: refused ({len(refused)} log lines), "
                  f"lines requested afresh at their safe levels ({len(events)} line events); {report.splitlines()[0]}")
            g.must(f"touch {front.stop_file}")

            # The device's state memfd, garbage, then cut short, between two runs.
            for how, damage in (("garbage", "printf 'garbage!' | dd of={fd} conv=notrunc 2>/dev/null"),
                                ("truncated", "truncate -s 3 {fd}")):
                front = Frontend(g, log=f"/tmp/front-{how}.log")
                pid = g.main_pid(UNIT)
                memfd = g.must(f"ls -l /proc/{pid}/fd | grep vgpio-state | sed 's/.* \\([0-9]*\\) -> .*/\\1/'").strip()
                check(memfd.isdigit(), f"no state memfd in /proc/{pid}/fd: {memfd}")
                g.must(damage.format(fd=f"/proc/{pid}/fd/{memfd}"))
                seen = len(g.read("/tmp/notify.log").splitlines())
                crash_and_wait(g)
                report = restart_report(g)
                events = line_events(g, "/tmp/notify.log", seen)
                check("reset: the kept state is corrupt" in report, f"{how} state: ctl status says\n{report}")
                check(not events and "adopted" in report, f"{how} state: lines released: {events}\n{report}")
                print(f"state memfd {how}: refused ({report.splitlines()[0]}); lines kept, at "
                      f"{sim.read('a', 1, 2)} (relay, lamp)")
                g.must(f"touch {front.stop_file}")
        finally:
            g.close()


@test
def test_restarts_under_a_request_flood():
    """A frontend with 8 requests always in flight (SET_VALUE 1 and
    GET_VALUE on the relay) through restarts and crashes: every request gets
    exactly one answer, none twice, none lost (the ones the old vgpio took
    and did not answer are answered by the next, as QEMU hands them over)."""
    with Workdir() as w:
        g = SystemdGuest(w)
        try:
            sim = chips(g)
            serve(g, sim)
            g.must("rm -f /tmp/storm.stop")
            g.spawn(f"VGPIO_FRONTEND_TIMEOUT_MS={FRONTEND_WAIT_MS} vgpio-frontend /run/vgpio/vm1.sock dir 0 out "
                    "storm /tmp/storm.stop > /tmp/storm.log")
            wait_until(lambda: "dir 0: ok" in g.read("/tmp/storm.log"), "the flood to start")
            with open(os.path.join(HERE, "restart-loop.sh")) as f:
                g.write("/usr/local/bin/restart-loop.sh", f.read())
            g.must("chmod +x /usr/local/bin/restart-loop.sh")
            for kind in ("restart", "crash"):
                rc, out = g.sh(f"restart-loop.sh {kind} 5 {sim.chip('a')} relay=out1", timeout=BOOT_WAIT)
                check(rc == 0, f"{kind}: {out[-2000:]}")
            g.must("touch /tmp/storm.stop")
            wait_until(lambda: "@ storm" in g.read("/tmp/storm.log"), "the flood to end", timeout=BOOT_WAIT)
            result = re.search(r"@ storm \S+: (.*)", g.read("/tmp/storm.log")).group(1)
            n = dict(zip(*[iter(result.split())] * 2))
            print(f"10 restarts under a flood: {result}")
            check(int(n["sent"]) == int(n["answered"]) and n["unexpected"] == "0" and n["lost"] == "0"
                  and n["err"] == "0" and int(n["reconnects"]) >= 1, f"the flood across the restarts: {result}")
        finally:
            g.close()


if __name__ == "__main__":
    sys.exit(run(TESTS, sys.argv))
