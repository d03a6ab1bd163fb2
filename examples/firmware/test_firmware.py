"""Test your firmware with vgpio: blinky.sh runs in a real Linux guest on a
device the test makes, and the test checks it through the vgpio client only.

Times come from the daemon's own edge timestamps, so a loaded machine slows
the run down without bending what is measured."""

import os

from conftest import install

# The firmware debounces for 30 ms; a guest emulated without KVM adds its own
# time. CTest runs this file alone (RUN_SERIAL) so other tests do not load it.
DEADLINE = float(os.environ.get("VGPIO_FIRMWARE_DEADLINE_MS", "200")) / 1000


def test_blinky(vgpio, vgpio_device, guest, artifacts):
    board = vgpio_device(["led", "btn", "relay"], name="board")
    g = guest([os.path.join(os.path.dirname(vgpio.control_path), "board.sock")])
    led, btn, relay = board.line("led"), board.line("btn"), board.line("relay")
    with vgpio.record_vcd(os.path.join(artifacts, "blinky.vcd"), device="board"):
        # Ready once the firmware drives the relay and has armed the button
        # (the kernel asks for both edges when it debounces).
        with board.watch(timeout=120) as changes:
            g.spawn(install(g, "blinky.sh") + " gpiochip0")
            ready = set()
            for c in changes:
                if (c.line, c.field) == ("relay", "direction") and c.value == "out":
                    ready.add("relay")
                if (c.line, c.field) == ("btn", "irq") and c.value != "none":
                    ready.add("btn")
                if ready == {"relay", "btn"}:
                    break
        assert ready == {"relay", "btn"}, f"the firmware did not start: {ready}"
        assert relay.value == 0

        # The LED blinks at 5 Hz, within 10 %.
        led.expect_blinking(0.2, tolerance=0.10, duration=3.0)

        # A bounced press toggles the relay exactly once, within 200 ms of the
        # button settling (both times stamped by the daemon).
        with board.watch(duration=2.0) as changes:
            btn.bounce(transitions=5, window="10ms", settle=1)
            events = [c for c in changes if c.field == "value" and c.line in ("btn", "relay")]
        relay_changes = [c for c in events if c.line == "relay"]
        assert [c.value for c in relay_changes] == [1], f"one bounced press, relay changes: {relay_changes}"
        last_btn = [c for c in events if c.line == "btn" and c.ns < relay_changes[0].ns][-1]
        latency = (relay_changes[0].ns - last_btn.ns) / 1e9
        assert last_btn.value == 1
        assert latency <= DEADLINE, f"the relay followed the button after {latency * 1000:.0f} ms"


def test_two_devices_wired(vgpio, vgpio_device, guest):
    """An output of one device is seen by gpiomon on another, through a wire.
    (Interrupts on the first device only: see docs/hil.md, "Known limits".)"""
    plant = vgpio_device(["sensor"], name="plant")
    vgpio_device(["valve"], name="plc")
    vgpio.wire("plc:valve", "plant:sensor", delay="5ms")
    folder = os.path.dirname(vgpio.control_path)
    g = guest([os.path.join(folder, "plant.sock"), os.path.join(folder, "plc.sock")])
    g.spawn("gpiomon -c gpiochip0 -e rising -n 1 -F '@EV %e' sensor > /tmp/sensor.log")
    with plant.watch(timeout=120) as changes:  # until gpiomon has armed the interrupt
        for c in changes:
            if (c.field, c.value) == ("irq", "edge-rising"):
                break
    g.spawn("gpioset -c gpiochip1 valve=1")
    assert plant.line("sensor").expect_within(1, 60) >= 0
    for _ in range(600):
        if g.must("cat /tmp/sensor.log").strip() == "@EV 1":
            break
    assert g.must("cat /tmp/sensor.log").strip() == "@EV 1", "gpiomon did not see the valve open"
