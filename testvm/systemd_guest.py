"""A test guest with systemd as PID 1: Debian 12 (testvm/build-systemd-root.sh)
booted on the x86_64 test kernel under QEMU TCG, the harness's shell on its
second serial port (the same protocol as guestkit.Guest), the console with
the kernel's and systemd's messages in a log file.

Environment: VGPIO_KERNEL (bzImage), VGPIO_SYSTEMD_ROOT (systemd-root.cpio).
"""
import os
import re
import sys

from guestkit import WAIT, Failure, Guest

# Booting Debian's userland from a 200 MB initramfs under TCG takes a while on
# a loaded machine: a bound for waiting, never a judgement.
BOOT_WAIT = max(WAIT, 600)


class SystemdGuest(Guest):
    """Boots, waits until systemd has finished starting the system, and
    installs the vgpio package with apt when `install` (as a user would)."""

    def __init__(self, workdir, install=True, memory_mb=1024):
        self.console_log = os.path.join(workdir, "console.log")
        super().__init__([], kernel=os.environ["VGPIO_KERNEL"], initrd=os.environ["VGPIO_SYSTEMD_ROOT"],
                         memory_mb=memory_mb, console_log=self.console_log, wait_ready=False,
                         append="systemd.show_status=0")
        try:
            self.expect(r"VGPIO-GUEST-READY", timeout=BOOT_WAIT)
            state = self.sh("systemctl is-system-running --wait", timeout=BOOT_WAIT)[1].strip()
            if state not in ("running", "degraded"):
                raise Failure(f"systemd did not finish starting the system: {state}\n{self.console()[-3000:]}")
            if state == "degraded":  # worth knowing, not failing for: the tests check what they need
                print("systemd guest: degraded:", self.must("systemctl --failed --no-legend"), file=sys.stderr)
            print("systemd guest:", self.must("systemctl --version | head -1").strip(),
                  "is PID 1:", self.must("ps -o comm= -p 1").strip(), file=sys.stderr)
            if install:
                self.install(self.must("ls /root/vgpio_*.deb").split()[0])
        except BaseException:
            self.close()
            raise

    def sh(self, command, timeout=WAIT):
        # Not from the harness's stream: apt, dpkg and their scripts read
        # standard input, and would take the next commands as their own.
        return super().sh(f"{{\n{command}\n}} < /dev/null", timeout)

    def install(self, deb):
        """`apt install ./vgpio_*.deb`, offline: the root has every dependency."""
        self.must(f"cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./{os.path.basename(deb)} "
                  "> /tmp/apt.log 2>&1 || { cat /tmp/apt.log; false; }", timeout=BOOT_WAIT)

    def clocksource(self):
        """The guest kernel's clock: "tsc", or "jiffies" (4 ms) when its TSC
        calibration against the PIT failed, as it may under TCG on a busy
        host (the test kernel has no HPET or ACPI timer to fall back on)."""
        return self.must("cat /sys/devices/system/clocksource/clocksource0/current_clocksource").strip()

    def console(self):
        with open(self.console_log, errors="replace") as f:
            return f.read()

    def show(self, unit, *props):
        """{property: value} of `systemctl show UNIT`."""
        out = self.must(f"systemctl show {unit} " + " ".join(f"-p {p}" for p in props))
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def main_pid(self, unit):
        return int(self.show(unit, "MainPID")["MainPID"])

    def journal(self, unit, since_cursor=None):
        """The unit's journal as (priority, message) pairs."""
        out = self.must(f"journalctl -u {unit} -o export --no-pager"
                        + (f" --after-cursor='{since_cursor}'" if since_cursor else ""), timeout=BOOT_WAIT)
        entries, entry = [], {}
        for line in out.split("\n"):
            if not line:
                if entry:
                    entries.append((int(entry.get("PRIORITY", "6")), entry.get("MESSAGE", "")))
                entry = {}
                continue
            m = re.match(r"([A-Z_]+)=(.*)$", line)
            if m:
                entry[m.group(1)] = m.group(2)
        return entries
