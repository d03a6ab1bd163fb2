"""A QEMU guest booting your firmware image on a vgpio device, for tests
that talk to the firmware through its GPIO lines only (no console): the
``vgpio_guest`` fixture of ``vgpio.pytest_plugin``.

On a device made with clock="guest" the guest runs on that device's time
(QEMU's -icount and the vgpio-clock plugin), so its whole run, from its
first instruction, is the guest's own and the same every time: its
firmware should start by itself (from its init), since whatever is typed on
a console arrives at a host-dependent guest time. TCG only.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from typing import List, Optional, Sequence

#: Guest time follows the instructions run (8 ns each, shift=3) and skips
#: ahead while the guest idles (sleep=off): the same in every run.
ICOUNT = ["-icount", "shift=3,sleep=off"]


def guest_time_qemu_args(plugin: str, device_socket: str) -> List[str]:
    """QEMU's options for a guest on the time of the device at ``device_socket``
    (made with clock="guest"): TCG only; KVM has no instruction count."""
    return ICOUNT + ["-plugin", f"{plugin},socket={device_socket}.clock"]


@dataclass(frozen=True)
class Machine:
    qemu: str
    options: Sequence[str]
    console: str
    device: str  # the vhost-user-gpio frontend


#: The machines the fixture knows: x86 q35 over PCI, Arm virt over virtio-mmio.
MACHINES = {
    "q35": Machine("qemu-system-x86_64", ["-machine", "q35,accel=tcg", "-numa", "node,memdev=mem"], "ttyS0",
                   "vhost-user-gpio-pci"),
    "virt": Machine("qemu-system-aarch64", ["-machine", "virt,accel=tcg,memory-backend=mem", "-cpu", "max"],
                    "ttyAMA0", "vhost-user-gpio-device"),
}


class QemuGuest:
    """One QEMU process; its serial console goes to ``console_path``."""

    def __init__(self, device_socket: str, kernel: str, initrd: Optional[str] = None, append: str = "",
                 machine: str = "q35", memory_mb: int = 256, plugin: Optional[str] = None,
                 extra: Sequence[str] = ()) -> None:
        m = MACHINES[machine]
        self.console_path = tempfile.mkstemp(prefix="vgpio-guest-", suffix=".console")[1]
        args = [m.qemu, *m.options, "-m", f"{memory_mb}M", "-smp", "1",
                "-object", f"memory-backend-memfd,id=mem,size={memory_mb}M,share=on",
                "-kernel", kernel, "-append", f"console={m.console} panic=-1 {append}".strip(),
                "-display", "none", "-nodefaults", "-no-reboot", "-monitor", "none",
                "-serial", f"file:{self.console_path}",
                "-chardev", f"socket,id=vgpio,path={device_socket}", "-device", f"{m.device},chardev=vgpio"]
        if initrd:
            args += ["-initrd", initrd]
        if plugin:
            args += guest_time_qemu_args(plugin, device_socket)
        args += list(extra)
        self.args = args
        self._closed = False
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)

    def console(self) -> str:
        """What the guest has written to its console so far."""
        with open(self.console_path, errors="replace") as f:
            return f.read()

    def close(self) -> None:
        """Ends QEMU (again: nothing); raises if it had ended by itself with an error."""
        if self._closed:
            return
        self._closed = True
        ended = self.process.poll()
        if ended is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # its vCPU held by the plugin, waiting for vgpio
                self.process.kill()
        output = self.process.communicate(timeout=60)[0].decode(errors="replace")
        os.unlink(self.console_path)
        if ended not in (None, 0):
            raise RuntimeError(f"QEMU ended with status {ended}: {output.strip()}")
