"""Test your firmware with vgpio: blinky.sh runs in a real Linux guest on a
device the test makes, and the test checks it through the vgpio client only.

Times come from the daemon's own edge timestamps, so a loaded machine slows
the run down without bending what is measured."""

import os

from conftest import install
from guestkit import wait_until

# Timing is part of the firmware's contract: on KVM or real hardware, keep it
# on. A guest emulated without KVM on a shared CI machine runs its timers
# late, so there CTest sets VGPIO_FIRMWARE_TIMING=0 and only order and
# counts are asserted.
TIMING = os.environ.get("VGPIO_FIRMWARE_TIMING", "1") != "0"
# The firmware debounces for 30 ms, and the guest adds its own time.
DEADLINE = float(os.environ.get("VGPIO_FIRMWARE_DEADLINE_MS", "200")) / 1000


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


def test_blinky(vgpio, vgpio_device, guest, artifacts):
    board = vgpio_device(["led", "btn", "relay"], name="board")
    g = guest([os.path.join(os.path.dirname(vgpio.control_path), "board.sock")])
    led, btn, relay = board.line("led"), board.line("btn"), board.line("relay")
    with vgpio.record_vcd(os.path.join(artifacts, "blinky.vcd"), device="board"):
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

        # The LED blinks: at 5 Hz within 10 %, or (timing off) on and off in turn.
        if TIMING:
            led.expect_blinking(0.2, tolerance=0.10, duration=3.0)
        else:
            blinks = values_of(led, 8)
            assert len(blinks) == 8 and all(a != b for a, b in zip(blinks, blinks[1:])), f"the LED: {blinks}"

        # A bounced press toggles the relay exactly once: the first change is
        # waited for, then 2 s more must bring no other. With timing on, the
        # relay follows the settled button within DEADLINE (both stamped by
        # the daemon).
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
        last_btn = [c for c in events if c.line == "btn" and c.ns < relay_changes[0].ns][-1]
        assert last_btn.value == 1
        latency = (relay_changes[0].ns - last_btn.ns) / 1e9
        assert not TIMING or latency <= DEADLINE, f"the relay followed the button after {latency * 1000:.0f} ms"


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
