"""gpio-sim chips in a test guest, made through configfs by the guest's shell
(guestkit.Guest or systemd_guest.SystemdGuest): real kernel GPIO chips whose
lines a test pulls and reads through sysfs."""
import re

SIM = "/sys/kernel/config/gpio-sim"


class SimChips:
    """gpio-sim chips: simA (8 lines, line 5 named DOOR) and simB (4 lines,
    line 2 named LAMP); more with add()."""

    def __init__(self, g):
        self.g = g
        self.dirs = {}
        self.add("a", "simA", 8, {5: "DOOR"})
        self.add("b", "simB", 4, {2: "LAMP"})

    def add(self, name, label, lines, line_names=None):
        g = self.g
        g.must(f"mkdir {SIM}/{name} {SIM}/{name}/bank0")
        for line, line_name in (line_names or {}).items():
            g.must(f"mkdir {SIM}/{name}/bank0/line{line}; echo {line_name} > {SIM}/{name}/bank0/line{line}/name")
        g.must(f"echo {lines} > {SIM}/{name}/bank0/num_lines; echo {label} > {SIM}/{name}/bank0/label")
        self.plug(name, True)

    def plug(self, name, live):
        """Plugs the chip in or out; it may come back as another gpiochipN."""
        self.g.must(f"echo {int(live)} > {SIM}/{name}/live")
        if live:
            dev = self.g.must(f"cat {SIM}/{name}/dev_name").strip()
            chip = self.g.must(f"cat {SIM}/{name}/bank0/chip_name").strip()
            self.dirs[name] = (f"/sys/devices/platform/{dev}/{chip}", chip)

    def chip(self, name):
        return self.dirs[name][1]

    def pull(self, name, line):
        return f"{self.dirs[name][0]}/sim_gpio{line}/pull"

    def value(self, name, line):
        return f"{self.dirs[name][0]}/sim_gpio{line}/value"

    def read(self, name, *lines):
        """The levels the chip's lines are at now, as a string ("101")."""
        return "".join(self.g.must(f"cat {self.value(name, line)}").strip() for line in lines)


def held_lines(g, sim):
    """{chip: offsets} of the lines a vgpio device holds on simA and simB."""
    return {name: sorted(int(m) for m in re.findall(r"line\s+(\d+):.*consumer=\"?vgpio-",
                                                    g.must(f"gpioinfo -c {sim.chip(name)}")))
            for name in ("a", "b")}
