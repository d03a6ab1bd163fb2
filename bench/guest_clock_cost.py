#!/usr/bin/env python3
"""What the vgpio-clock QEMU plugin costs a guest (docs/performance.md): the same
busy loop in a q35 test guest under plain TCG, under -icount shift=3,sleep=off,
and under icount with the plugin holding the guest for a device on guest time.
Prints the loop's wall time and, under icount, the guest's instructions per
wall second (guest time / 8 ns). A figure, not a test.

usage: bench/guest_clock_cost.py VGPIO VGPIO_CLOCK_SO KERNEL INITRD [ROUNDS]"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "testvm"))
import guestkit  # noqa: E402

LOOP = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"
ICOUNT = ["-icount", "shift=3,sleep=off"]


def run(vgpio, extra, plugin=None):
    """The loop's wall time and guest time, the second time it runs (the first translates it)."""
    with guestkit.Workdir() as w:
        d = guestkit.Daemon(vgpio, w, extra=["--guest-clock"] if plugin else [])
        if plugin:
            extra = extra + ["-plugin", f"{plugin},socket={d.socket}.clock"]
        g = guestkit.Guest([d.socket], extra_args=extra)
        try:
            g.must(LOOP)
            started = time.monotonic()
            out = g.must(f"a=$(cut -d' ' -f1 /proc/uptime); {LOOP}; echo $a $(cut -d' ' -f1 /proc/uptime)")
            wall = time.monotonic() - started
            before, after = (float(x) for x in out.split())
            return wall, after - before
        finally:
            g.close()
            d.stop()


def main():
    vgpio, plugin, kernel, initrd = sys.argv[1:5]
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    os.environ.update(VGPIO_KERNEL=kernel, VGPIO_INITRD=initrd, VGPIO_PLATFORM="q35")
    setups = {"TCG, host time": ([], None), "TCG, -icount shift=3,sleep=off": (ICOUNT, None),
              "icount + vgpio-clock plugin": (ICOUNT, plugin)}
    results = {name: [] for name in setups}
    for _ in range(rounds):  # alternating: a change in the machine's load hits all alike
        for name, (extra, with_plugin) in setups.items():
            results[name].append(run(vgpio, extra, with_plugin))
    base = statistics.median(w for w, _ in results["TCG, host time"])
    print(f"the same busy loop in the guest, medians of {rounds}:")
    for name, r in results.items():
        wall, guest = statistics.median(w for w, _ in r), statistics.median(g for _, g in r)
        ips = f"{guest / 8e-9 / wall / 1e6:6.1f} M guest instructions/s" if setups[name][0] else ""
        print(f"  {name:32s} {wall:6.2f} s wall ({wall / base:4.2f}x)  guest time {guest:5.2f} s  {ips}")


if __name__ == "__main__":
    main()
