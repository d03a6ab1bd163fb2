#!/usr/bin/env python3
"""Interrupt latency of a host line on a CPU shared with the driver.

This machine's kernel has no gpio-sim, so the figure is taken in the test
guest (one vCPU: vgpio, the bench's driver and the edge's maker all share it):
vgpio serves a device whose line 2 is a gpio-sim line, and `vgpio-bench
--socket --ctl --pull-file` makes each edge by writing the line's sysfs
`pull`; the line-event fd brings it to vgpio. The same bench then runs on a
device whose line 2 is simulated (edges made with `ctl set`), and both beside
the guest's own floor (an eventfd ping-pong). Under TCG every figure is many
times a real machine's: read the ratios to the floor.

usage: bench/host_line_interrupts.py [BUILD_DIR] [VGPIO ...]
  BUILD_DIR  the build (default: build): its vgpio, vgpio-bench and testvm/
  VGPIO      other vgpio binaries to measure the same way (e.g. an older build)
"""
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "testvm"))
sys.path.insert(0, os.path.join(here, "..", "tests", "guest"))
from guestkit import Guest  # noqa: E402
from host_line_tests import SimChips, write_config  # noqa: E402

CONFIG = """
[[device]]
name = "bench"
socket = "/tmp/b.sock"
{lines}
"""
SIM_LINE = '  [[device.line]]\n  name = "s{n}"\n  simulated = true\n'
HOST_LINE = '  [[device.line]]\n  name = "edge"\n  chip = "simA"\n  offset = 0\n'


def measure(g, vgpio, host_line, sim):
    lines = SIM_LINE.format(n=0) + SIM_LINE.format(n=1) + (HOST_LINE if host_line else SIM_LINE.format(n=2))
    write_config(g, "/tmp/b.toml", CONFIG.format(lines=lines))
    pid = g.spawn(f"{vgpio} serve --config /tmp/b.toml > /tmp/daemon.log")
    g.must("while ! test -S /tmp/b.sock.ctl; do sleep 0.1; done")
    pull = f" --pull-file {sim.pull('a', 0)}" if host_line else ""
    try:
        return g.must(f"vgpio-bench --socket /tmp/b.sock --ctl /tmp/b.sock.ctl --quick{pull}", timeout=900)
    finally:
        g.kill(pid)
        g.must("rm -f /tmp/b.sock /tmp/b.sock.ctl")


def boot(kernel, initrd, tries=5):
    """A guest whose clock counts microseconds. The test kernel has no HPET or
    ACPI PM timer, so it calibrates its TSC against the PIT, which under TCG
    sometimes fails; its clock then counts 4 ms jiffies, and every figure
    would read 0 or 4000 us. Such a guest is booted again."""
    for _ in range(tries):
        g = Guest([], kernel=kernel, initrd=initrd)
        source = g.must("cat /sys/devices/system/clocksource/clocksource0/current_clocksource").strip()
        if "jiffies" not in source:
            return g
        g.close()
    sys.exit(f"host_line_interrupts: the guest's TSC calibration failed {tries} times (its clock counts "
             "4 ms jiffies); try again on a quieter machine")


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    programs = [os.path.join(build, "vgpio"), os.path.join(build, "vgpio-bench"), *sys.argv[2:]]
    with tempfile.TemporaryDirectory() as tmp:
        initrd = os.path.join(tmp, "initramfs.cpio.gz")
        subprocess.run([os.path.join(here, "..", "testvm", "build-initramfs.sh"), initrd, *programs],
                       check=True, stdout=subprocess.DEVNULL)
        g = boot(os.path.join(build, "testvm", "bzImage"), initrd)
        try:
            sim = SimChips(g)
            for vgpio in ["vgpio", *(os.path.basename(p) for p in sys.argv[2:])]:
                for host_line in (True, False):
                    what = "a gpio-sim line (line-event fd)" if host_line else "a simulated line (ctl set)"
                    print(f"== {vgpio}: line 2 is {what}; one vCPU for all", flush=True)
                    print(measure(g, vgpio, host_line, sim), flush=True)
        finally:
            g.close()


if __name__ == "__main__":
    main()
