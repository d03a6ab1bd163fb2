#!/usr/bin/env python3
"""A guest with a vgpio chip, live: gpioinfo, then gpiomon in the guest
reacting to edges driven from the host with `vgpio ctl set`."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from guestkit import GPIOMON_READY, Daemon, Guest, Workdir  # noqa: E402


def say(text):
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def main():
    vgpio = os.environ["VGPIO_BIN"]
    with Workdir() as w:
        names = ["button", "door", "relay", "led"]
        say(f"host: vgpio serve --sim 4 --names {','.join(names)}")
        d = Daemon(vgpio, w, lines=4, names=names)
        say("host: booting a QEMU 10 guest (TCG) with vhost-user-gpio-pci on that socket")
        g = Guest([d.socket])
        try:
            for cmd in ("gpiodetect", "gpioinfo -c gpiochip0"):
                say(f"guest: {cmd}")
                print(g.must(cmd), end="", flush=True)
            say("guest: gpiomon -c gpiochip0 -e both button   (host toggles the button 6 times)")
            g.send("gpiomon --banner -c gpiochip0 -e both -n 6 -F '  guest saw %E edge on %l at %S' button; echo '@@END'")
            g.expect(GPIOMON_READY)
            d.wait_line("button", "armed by gpiomon", irq="edge-both", unmasked=True)
            for i in range(6):
                level = (i + 1) % 2
                print(f"host: vgpio ctl set vgpio0 button {level}", flush=True)
                d.set("button", level)
                m = g.expect(r"(  guest saw .*?\n)")
                print(m.group(1), end="", flush=True)
                time.sleep(0.7)
            g.expect("@@END")
            say("guest: gpioset led=1   (the host sees the guest's output)")
            g.spawn("gpioset -c gpiochip0 led=1")
            led = d.wait_line("led", "driven by the guest", value=1)
            print(f"host: vgpio ctl get vgpio0 led -> {led['value']} (direction {led['direction']}, holder {led['holder']})")
            say("done")
        finally:
            g.close()
            d.stop()


if __name__ == "__main__":
    main()
