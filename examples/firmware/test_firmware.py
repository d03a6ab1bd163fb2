"""Test your firmware with vgpio: blinky.sh runs in a real Linux guest on a
device the test makes, and the test checks it through the vgpio client only.

Two ways (docs/hil.md, "Time"):
- clock="guest": the device follows the guest's own time (QEMU with -icount
  and the vgpio-clock plugin). The firmware's timing is measured exactly, in
  guest time, however loaded the host: the blink period within 0.1 %, the
  relay's delay in guest milliseconds.
- clock="host": the host's clock, as on KVM or real hardware. A guest
  emulated without KVM on a shared CI machine runs its timers late, so there
  CTest sets VGPIO_FIRMWARE_TIMING=0 and only order and counts are asserted.
"""

import os

import pytest
from conftest import install
from guestkit import boot_arg, wait_until

TIMING = os.environ.get("VGPIO_FIRMWARE_TIMING", "1") != "0"
# The firmware's own delay: it debounces the button for 30 ms (gpiomon -p).
DEBOUNCE = 0.030
# And what it may take to react after that, in guest time: starting gpioset
# in the guest takes some milliseconds of its instructions. On the host's
# clock a slow host adds its own lateness, so that budget is wider there.
REACTION = {"guest": 0.100, "host": float(os.environ.get("VGPIO_FIRMWARE_DEADLINE_MS", "200")) / 1000}
BLINK_TOLERANCE = {"guest": 0.001, "host": 0.10}


def values_of(line, count, timeout=120):
    """The next ``count`` values the line takes (waiting as long as it needs)."""
    values = []
    with line.watch(timeout=timeout) as changes:
        for c in changes:
            if c.field == "value":
                values.append(c.value)
                if len(values) == count:
                    break
    return values


@pytest.mark.parametrize("clock", ["guest", "host"])
def test_blinky(clock, vgpio, vgpio_device, guest, artifacts, request):
    board = vgpio_device(["led", "btn", "relay"], name=f"board_{clock}", clock=clock)
    qemu_args = request.getfixturevalue("vgpio_guest_time")(board.socket) if clock == "guest" else ()
    g = guest([board.socket], qemu_args)
    led, btn, relay = board.line("led"), board.line("btn"), board.line("relay")
    timing = TIMING or clock == "guest"  # guest time is exact under any load
    with vgpio.record_vcd(os.path.join(artifacts, f"blinky-{clock}.vcd"), device=board.name):
        # Ready once the firmware drives the relay, has armed the button (the
        # kernel asks for both edges when it debounces) and says so.
        with board.watch(timeout=120) as changes:
            g.spawn(install(g, "blinky.sh") + " gpiochip0 > /tmp/blinky.log")
            ready = set()
            for c in changes:
                if (c.line, c.field) == ("relay", "direction") and c.value == "out":
                    ready.add("relay")
                if (c.line, c.field) == ("btn", "irq") and c.value != "none":
                    ready.add("btn")
                if ready == {"relay", "btn"}:
                    break
        assert ready == {"relay", "btn"}, f"the firmware did not start: {ready}"
        wait_until(lambda: "blinky: ready" in g.sh("cat /tmp/blinky.log")[1], "blinky.sh to say it is ready")
        assert relay.value == 0

        # The LED blinks at 5 Hz (within 0.1 % on guest time, 10 % on the
        # host's), or (timing off) on and off in turn.
        if timing:
            period = led.expect_blinking(0.2, tolerance=BLINK_TOLERANCE[clock], duration=3.0)
            print(f"blinky on {clock} time: LED period {period * 1000:.4f} ms")
        else:
            blinks = values_of(led, 8)
            assert len(blinks) == 8 and all(a != b for a, b in zip(blinks, blinks[1:])), f"the LED: {blinks}"

        # A bounced press toggles the relay exactly once: the first change is
        # waited for, then 2 s more must bring no other. With timing on, the
        # relay follows the settled button after the firmware's debounce and
        # within its reaction time (both stamped by the daemon; on guest time,
        # in guest time).
        with board.watch(timeout=120) as changes, relay.watch(timeout=2.0) as relay_watch:
            btn.bounce(transitions=5, window="10ms", settle=1)
            events = []
            for c in changes:  # until the relay's first change
                if c.field == "value" and c.line in ("btn", "relay"):
                    events.append(c)
                if c.line == "relay" and c.field == "value":
                    break
            # The relay's own watch has its changes since before the bounce;
            # it ends 2 s after the last.
            events = [c for c in events if c.line == "btn"] + [c for c in relay_watch if c.field == "value"]
        relay_changes = [c for c in events if c.line == "relay"]
        assert [c.value for c in relay_changes] == [1], f"one bounced press, relay changes: {relay_changes}"
        last_btn = [c for c in events if c.line == "btn" and c.when < relay_changes[0].when][-1]
        assert last_btn.value == 1
        latency = (relay_changes[0].when - last_btn.when) / 1e9
        print(f"blinky on {clock} time: the relay followed the settled button after {latency * 1000:.3f} ms")
        if timing:
            assert DEBOUNCE <= latency <= DEBOUNCE + REACTION[clock], \
                f"the relay followed the button after {latency * 1000:.3f} ms, not within " \
                f"{DEBOUNCE * 1000:.0f} + {REACTION[clock] * 1000:.0f} ms ({clock} time)"


def test_two_devices_wired(vgpio, vgpio_device, guest):
    """An output of one device is seen by gpiomon on another, through a wire.
    (Interrupts on the first device only: see docs/hil.md, "Known limits".)"""
    plant = vgpio_device(["sensor"], name="plant")
    vgpio_device(["valve"], name="plc")
    vgpio.wire("plc:valve", "plant:sensor", delay="5ms")
    folder = os.path.dirname(vgpio.control_path)
    g = guest([os.path.join(folder, "plant.sock"), os.path.join(folder, "plc.sock")])
    # Returns once gpiomon's request is complete (guestkit.GPIOMON_READY).
    g.spawn_gpiomon("-c gpiochip0 -e rising -n 1 -F '@EV %e' sensor", "/tmp/sensor.log")
    g.spawn("gpioset -c gpiochip1 valve=1")
    assert plant.line("sensor").expect_within(1, 60) >= 0
    wait_until(lambda: g.must("tail -n 1 /tmp/sensor.log").strip() == "@EV 1", "gpiomon to see the valve open")


# The stimulus script of test_the_same_run_twice: what the test does to the
# button, at which guest time (s), from the guest's first instruction (the
# test guest boots and starts the firmware in about 3.4 s of its time). The
# run ends at END.
SCRIPT = [(5.0, "press"), (5.6, "release"), (6.0, "press"), (6.6, "release")]
END = 7.5


def boot_script():
    """blinky.sh, started by the guest's init once its GPIO chip is there."""
    with open(os.path.join(os.path.dirname(__file__), "blinky.sh")) as f:
        firmware = "".join(line for line in f if not line.lstrip().startswith("#"))
    return "while [ ! -e /dev/gpiochip0 ]; do sleep 0.01; done\n" + firmware


def vcd_changes(path):
    """{signal: [(guest ns, value), ...]} of a recording, by line name (its
    device's name left out: "relay", "led.out")."""
    names, changes, unit, at = {}, {}, 1, 0
    units = {"ns": 1, "us": 1000, "ms": 10**6, "s": 10**9}
    for line in open(path):
        words = line.split()
        if line.startswith("$timescale"):
            unit = int(words[1]) * units[words[2]]
        elif line.startswith("$var"):
            names[words[3]] = words[4].split(".", 1)[1]
        elif line.startswith("#"):
            at = int(line[1:]) * unit
        elif words and words[0][0] in "01xz" and words[0][1:] in names:
            changes.setdefault(names[words[0][1:]], []).append((at, words[0][0]))
    return changes


def test_the_same_run_twice(vgpio, vgpio_device, vgpio_guest, artifacts):
    """The firmware, booted on its device's time and stepped through the same
    stimulus script twice, gives the same recording: the same edges at the
    same guest times, within one quantum (10 ms, the default). The guest is
    the pytest plugin's vgpio_guest: no console, the firmware starts at boot."""
    runs = []
    for run in (1, 2):
        board = vgpio_device(["led", "btn", "relay"], name=f"same{run}", clock="guest")
        vgpio.call("run", device=board.name, until=0)  # held at its first instruction
        path = os.path.join(artifacts, f"same-run-{run}.vcd")
        with vgpio.record_vcd(path, device=board.name):
            guest = vgpio_guest(board, append="quiet no_timer_check " + boot_arg(boot_script()))
            btn = board.line("btn")
            for at, what in SCRIPT:
                board.run_until(int(at * 1e9))
                if what == "press":
                    btn.bounce(transitions=5, window="10ms", settle=1, seed=7)
                else:
                    btn.set(0)
            board.run_until(int(END * 1e9))
        assert "VGPIO-GUEST-READY" in guest.console(), f"the guest's console: {guest.console()[-2000:]}"
        guest.close()
        runs.append(vcd_changes(path))
    first, second = runs
    assert first.keys() == second.keys()
    worst = 0
    for signal in first:
        a, b = first[signal], second[signal]
        assert [v for _, v in a] == [v for _, v in b], f"{signal}: {a} then {b}"
        worst = max([worst] + [abs(x - y) for (x, _), (y, _) in zip(a, b)])
    print(f"the same run twice: {sum(map(len, first.values()))} changes, the largest difference {worst} ns")
    assert worst <= 10_000_000, f"the runs differ by {worst} ns, more than one quantum"
    ready = [t for t, v in first["relay"] if v == "0"]
    assert ready and ready[0] < SCRIPT[0][0] * 1e9, f"the firmware was not up before the first press: {first['relay']}"
    assert [v for t, v in first["relay"] if t > SCRIPT[0][0] * 1e9].count("1") == 1, \
        f"two presses, the relay closed and opened once: {first['relay']}"
    assert len(first["led"]) > 10, f"the LED did not blink: {first['led']}"
