"""The Python client against a real vgpio: devices made per test, stimuli,
wires, waiting, timing assertions and VCD recording. Times are the daemon's
own edge timestamps, so nothing here depends on how fast the machine is."""

import itertools
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from vgpio import Client, VgpioError


def test_a_fresh_device_per_test(vgpio, vgpio_device):
    dev = vgpio_device(["led", "btn"])
    btn = dev.line("btn")
    assert [l.name for l in dev.lines()] == ["led", "btn"]
    assert btn.value == 0 and btn.direction == "none" and btn.driver == ""
    btn.set(1)
    assert btn.value == 1
    assert btn.wait_for(1, timeout=1)
    assert not dev.line("led").wait_for(1, timeout=0.2)


def test_a_device_goes_with_its_maker(vgpio_daemon, vgpio):
    sock = str(vgpio_daemon.folder / "gone.sock")
    with Client(vgpio_daemon.control) as maker:
        maker.create_device("gone", sock, ["a"])
        assert "gone" in [d.name for d in vgpio.devices()]
        assert os.path.exists(sock)
    for _ in range(1000):  # the daemon hears of the close on its own loop
        if "gone" not in [d.name for d in vgpio.devices()]:
            break
    assert "gone" not in [d.name for d in vgpio.devices()]
    assert not os.path.exists(sock)


def test_stimuli(vgpio_device):
    line = vgpio_device(["clk"]).line("clk")
    values = []
    with line.watch(timeout=10) as changes:
        line.pulse("2ms", count=3, period="5ms")
        for change in changes:
            values.append(change.value)
            if len(values) == 6:
                break
    assert values == [1, 0, 1, 0, 1, 0]
    line.clock(0.02)
    assert line.driver == "clock 20ms, duty 0.5"
    # Edge times are when the daemon applied them: a loaded machine makes them
    # late, so this tells 20 ms from 10 or 40, not the clock's precision.
    period = line.expect_blinking(0.02, tolerance=0.45, duration=0.5)
    assert abs(period - 0.02) < 0.009
    assert line.stop()
    line.bounce(transitions=4, window="4ms", settle=1)
    assert line.expect_within(1, 5) >= 0
    line.pattern([(0, "1ms"), (1, "1ms")], repeat=2)


def test_a_line_watch_ends_when_its_line_is_quiet(vgpio_device):
    dev = vgpio_device(["busy", "quiet"])
    dev.line("busy").clock("5ms")  # other lines' changes must not keep it open
    start = time.monotonic()
    assert list(dev.line("quiet").watch(timeout=0.3, duration=20)) == []
    assert time.monotonic() - start < 15, "the watch ran to its duration: the busy line kept it open"


def test_expect_blinking_fails_on_a_steady_line(vgpio_device):
    line = vgpio_device(["steady"]).line("steady")
    with pytest.raises(AssertionError, match="not blinking"):
        line.expect_blinking(0.1, duration=0.3)
    line.clock("10ms")
    with pytest.raises(AssertionError, match="not 100.000 ms"):
        line.expect_blinking(0.1, tolerance=0.1, duration=0.3)
    with pytest.raises(AssertionError, match="did not become 1"):
        vgpio_device(["never"]).line("never").expect_within(1, 0.2)


def test_wires(vgpio, vgpio_device):
    a = vgpio_device(["out"])
    b = vgpio_device(["in"])
    vgpio.wire(f"{a.name}:out", f"{b.name}:in", invert=True)
    assert b.line("in").value == 1  # the idle source's safe level 0, inverted
    assert b.line("in").driver == f"wire from {a.name}:out"
    with pytest.raises(VgpioError, match="unwire it") as wired:
        b.line("in").set(0)
    assert wired.value.kind == "conflict"
    with pytest.raises(VgpioError, match="loop") as loop:
        vgpio.wire(f"{b.name}:in", f"{a.name}:out")
    assert loop.value.kind == "conflict"
    vgpio.unwire(f"{a.name}:out", f"{b.name}:in")
    assert vgpio.wires() == []


def test_record_vcd(vgpio, vgpio_device, tmp_path):
    dev = vgpio_device(["sig"])
    path = str(tmp_path / "run.vcd")
    with vgpio.record_vcd(path, device=dev.name) as rec:
        dev.line("sig").pattern([(1, "2ms"), (0, "2ms")], repeat=3)
        dev.line("sig").expect_within(1, 5)
        deadline = time.monotonic() + 60  # a bound only a hang reaches
        while rec.changes < 6 and time.monotonic() < deadline:
            time.sleep(0.01)  # the recorder's thread writes them as they come
    text = open(path).read()
    assert f"$var wire 1 ! {dev.name}.sig $end" in text
    assert rec.changes >= 6
    assert text.rstrip().splitlines()[-1].startswith("#")
    # Host-clock times are true to microseconds: the unit is never finer.
    assert rec.unit_ns >= 1000 and f"$timescale {rec.unit_ns // 1000} us $end" in text or rec.unit_ns >= 10**6
    with pytest.raises(ValueError, match="not a VCD time unit"):
        vgpio.record_vcd(str(tmp_path / "bad.vcd"), resolution="3us")
    with vgpio.record_vcd(str(tmp_path / "ns.vcd"), device=dev.name, resolution="1ns") as fine:
        dev.line("sig").pulse("2ms")
        deadline = time.monotonic() + 60
        while fine.changes < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert fine.unit_ns == 1 and "$timescale 1 ns $end" in open(tmp_path / "ns.vcd").read()


def test_bad_requests_are_clear(vgpio, vgpio_device):
    with pytest.raises(VgpioError, match="no device named") as nope:
        vgpio.device("nope")
    assert nope.value.kind == "no-device"
    with pytest.raises(VgpioError, match="only from the config's") as host:
        vgpio_device([{"name": "h", "chip": "gpiochip0", "offset": 0}])
    assert host.value.kind == "bad-request"
    line = vgpio_device(["x"]).line("x")
    with pytest.raises(VgpioError, match="shortest step") as short:
        line.pulse("1us")
    assert short.value.kind == "bad-request"
    with pytest.raises(VgpioError) as unknown:
        vgpio.call("set", device=line.device.name, line="no-such-line", value=1)
    assert unknown.value.kind == "no-line"


def test_pip_installs_it(tmp_path):
    # From a copy: a build leaves vgpio.egg-info behind, which would make
    # pytest load the plugin twice in the tree.
    source = tmp_path / "source"
    shutil.copytree(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), source,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps",
                    "--target", str(tmp_path / "site"), str(source)], check=True, cwd=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", "import vgpio, vgpio.pytest_plugin; print(vgpio.__file__)"],
                         env=dict(os.environ, PYTHONPATH=str(tmp_path / "site")), cwd=str(tmp_path),
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith(str(tmp_path / "site"))
    assert list((tmp_path / "site").glob("vgpio-0.1.0.dist-info/entry_points.txt"))


def test_the_client_follows_the_command_table(request, vgpio):
    """Every command of the daemon's table has a method here, and every field
    this client sends is one the table lists for that command: the table
    (`vgpio ctl commands`) is the one source, and this says when they part."""
    import re
    import subprocess
    from pathlib import Path
    import json
    reference = json.loads(subprocess.run([request.config.getoption("--vgpio-bin"), "ctl", "--json", "commands"],
                                          capture_output=True, text=True, check=True).stdout)
    table = {c["name"]: {f["name"] for f in c["fields"]} for c in reference["commands"]}
    source = "".join(p.read_text() for p in (Path(__file__).parent.parent / "vgpio").glob("*.py"))
    sent = {}
    for cmd, args in re.findall(r'call\(\s*"([a-z-]+)"(.*)', source):
        fields = set(re.findall(r"(\w+)=", args)) | set(re.findall(r'"(\w+)":', args))
        sent.setdefault(cmd, set()).update(fields)
    for cmd, args in re.findall(r'call\(\{"cmd": "([a-z-]+)"(.*)', source):
        sent.setdefault(cmd, set()).update(re.findall(r'"(\w+)":', args))
    assert set(table) <= set(sent), f"commands without a client method: {sorted(set(table) - set(sent))}"
    for cmd, fields in sent.items():
        assert cmd in table, f"the client sends {cmd!r}, which the table does not have"
        extra = fields - table[cmd] - {"cmd"}
        assert not extra, f"the client sends {cmd!r} with fields the table does not list: {sorted(extra)}"


def test_expect_duty_says_what_it_measured(vgpio_device):
    # A late host wakes up plays missed edges together, so on the host's
    # clock the duty measured is at most the true one (the exact measure is
    # on guest time: test_guest_time_steps_and_waits).
    line = vgpio_device(["pwm"]).line("pwm")
    line.clock("40ms", duty=0.25)
    with pytest.raises(AssertionError, match="of the time over .* periods, not 75.00% ± 5.00%"):
        line.expect_duty(0.75, tolerance=0.05, duration=0.5)


def test_stepping_needs_a_device_on_guest_time(vgpio_device):
    dev = vgpio_device(["a"])
    assert dev.clock == "host"
    with pytest.raises(VgpioError, match="follows the host's clock") as refused:
        dev.advance("1ms")
    assert refused.value.kind == "unavailable"


class StandInPlugin:
    """The vgpio-clock plugin's side of the clock socket, without a guest: it
    is held exactly where vgpio says, and runs on at once (a guest that never
    idles). Enough to test stepping and guest-time waits without QEMU."""

    def __init__(self, path, start_ns=0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.sendall(struct.pack("<IIQ", 0x6B636776, 1, start_ns))  # Hello
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.sock, 16, 4)
            except OSError:
                return
            for fd in fds:
                os.close(fd)
            if len(data) < 16:
                return
            _, _, until = struct.unpack("<IIQ", data)
            time.sleep(0.0002)  # the guest runs to its next hold
            self.sock.sendall(struct.pack("<IIQ", 0x6B636776, 2, until))  # Held

    def close(self):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=60)
        self.sock.close()


def test_guest_time_steps_and_waits(vgpio, vgpio_device):
    dev = vgpio_device(["btn", "led"], clock="guest", clock_quantum="1ms")
    assert dev.clock == "guest"
    vgpio.call("run", device=dev.name, until=0)  # held from its start
    plugin = StandInPlugin(dev.socket + ".clock", start_ns=1000)
    try:
        btn, led = dev.line("btn"), dev.line("led")
        assert dev.run_until(1000) == 1000
        assert dev.advance("10ms") == 10_001_000
        # Held: a stimulus starts at exactly that guest time, and its edges
        # come at exact guest times.
        with btn.watch(timeout=60) as changes:
            assert btn.pulse("2ms") == 10_001_000
            assert dev.advance("5ms") == 15_001_000
            assert [(c.value, c.guest_ns) for c in itertools.islice(changes, 2)] == \
                [(1, 10_001_000), (0, 12_001_000)]
        with pytest.raises(VgpioError, match="already 15001000 ns") as past:
            dev.run_until(5_000_000)
        assert past.value.kind == "conflict"

        # Waits and assertions count guest time, and run freely with it.
        btn.clock("1ms", duty=0.3)
        dev.run()
        assert btn.expect_blinking(0.001, tolerance=0.0001, duration=0.05) == pytest.approx(0.001, abs=1e-12)
        assert btn.expect_duty(0.3, tolerance=0.0001, duration=0.05) == pytest.approx(0.3, abs=1e-9)
        assert not led.wait_for(1, timeout=0.02), "nothing drives the LED"
        with pytest.raises(AssertionError, match="within 0.01 s \\(guest time\\)"):
            led.expect_within(1, 0.01)
        btn.stop()
        for level in (1, 0):
            btn.set(level)  # applied at the guest's next hold
            assert btn.wait_for(level, timeout=0.01)
    finally:
        plugin.close()
    # No guest: guest time stands still, and a wait on it gives up after its
    # guard (host seconds), saying why.
    with pytest.raises(TimeoutError, match="is it running"):
        dev.advance("1ms", guard=0.5)


def test_closed_connections_leave_no_guest_time_waits(vgpio, vgpio_device):
    # Each connection fills its share of waits on one device, then watches
    # another before it closes: its waits must still go with it, or the
    # device's 1024 would be taken by connections long gone.
    a = vgpio_device(["x"], clock="guest")
    b = vgpio_device(["y"])
    for _ in range(1024 // 16 + 2):
        conn = vgpio.connect()
        for i in range(16):
            conn.call({"cmd": "watch", "device": a.name, "until": 10**12 + i})
        conn.call({"cmd": "watch", "device": b.name})
        conn.close()
    last = vgpio.connect()
    deadline = time.monotonic() + 60  # closing is asynchronous: the daemon frees them soon after
    while True:
        try:
            last.call({"cmd": "watch", "device": a.name, "until": 10**12})
            break
        except VgpioError as e:
            assert e.kind == "limit" and time.monotonic() < deadline, str(e)
            time.sleep(0.05)
    last.close()
