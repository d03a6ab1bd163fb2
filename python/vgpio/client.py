"""Devices and lines of a running vgpio, as objects a test can use."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from .connection import Connection, VgpioError
from .expect import LineAssertions
from .recording import Recording
from .watch import GUARD, Change, Watch, guest_time_reached

#: A duration: seconds, or a string with a unit ("10ms", "250us", "1.5s").
Duration = Union[float, int, str]

__all__ = ["Change", "Client", "Device", "Line", "Watch", "VgpioError", "Duration"]


class Client:
    """A connection to a vgpio control socket.

    Devices made with ``create_device`` live as long as this client: closing it
    (or the test process dying) removes them and puts their outputs at their
    safe levels.
    """

    def __init__(self, control_path: str, timeout: float = 10.0) -> None:
        self.control_path = control_path
        self.timeout = timeout
        self._conn = Connection(control_path, timeout)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection; devices this client created go away."""
        self._conn.close()

    def call(self, cmd: str, **fields: Any) -> Dict[str, Any]:
        """Sends one control request (see docs/control.md) and returns the answer."""
        request = {"cmd": cmd}
        request.update({k: v for k, v in fields.items() if v is not None})
        return self._conn.call(request)

    def connect(self) -> Connection:
        """A second connection to the same daemon (for a watch)."""
        return Connection(self.control_path, self.timeout)

    def status(self) -> Dict[str, Any]:
        """The daemon: its device count and its sandbox (as ``vgpio ctl status --json``)."""
        return self.call("status")

    def devices(self) -> List["Device"]:
        """Every device the daemon serves."""
        return [Device(self, d["name"]) for d in self.call("list")["devices"]]

    def device(self, name: str) -> "Device":
        """The device called ``name`` (it must exist)."""
        names = [d.name for d in self.devices()]
        if name not in names:
            raise VgpioError(f"no device named {name!r} (there are: {', '.join(names)})", "no-device")
        return Device(self, name)

    def create_device(self, name: str, socket: str, lines: Sequence[Union[str, Dict[str, Any]]],
                      persist: bool = False, clock: str = "host", clock_quantum: Optional[str] = None) -> "Device":
        """Makes a device at run time. A line is a name (a simulated line), or a
        table in the config's form, e.g. ``{"pool": "relay0", "name": "relay"}``
        for a host line of the config's [[pool]]. ``clock="guest"``: the device
        follows its guest's time (QEMU's vgpio-clock plugin connects to
        ``socket + ".clock"``; see ``vgpio.pytest_plugin.guest_time_qemu_args``)."""
        tables = [{"name": l, "simulated": True} if isinstance(l, str) else l for l in lines]
        self.call("create", name=name, socket=socket, lines=tables, persist=persist, clock=clock,
                  clock_quantum=clock_quantum)
        return Device(self, name)

    def wire(self, source: str, target: str, delay: Optional[Duration] = None, invert: bool = False) -> None:
        """Wires a guest output ("DEVICE:LINE") to a simulated input."""
        self.call("wire", **{"from": source, "to": target, "delay": delay, "invert": invert})

    def unwire(self, source: str, target: str) -> None:
        self.call("unwire", **{"from": source, "to": target})

    def wires(self) -> List[Dict[str, Any]]:
        return self.call("wires")["wires"]

    def record_vcd(self, path: str, device: Optional[str] = None,
                   lines: Optional[Sequence[str]] = None, resolution: str = "auto") -> Recording:
        """Starts recording to a VCD file; stop it with ``.stop()`` or a ``with`` block.
        ``resolution``: the file's time unit (1ns ... 1s), or auto: the coarsest that
        keeps every change exact (host-clock times to 1us)."""
        return Recording(self, path, device, lines, resolution)


class Device:
    """A device of the daemon, by name."""

    def __init__(self, client: Client, name: str) -> None:
        self.client = client
        self.name = name
        self._clock: Optional[str] = None

    def __repr__(self) -> str:
        return f"Device({self.name!r})"

    def line(self, name: Union[str, int]) -> "Line":
        """A line by name or number."""
        status = self.client.call("get", device=self.name, line=name)
        return Line(self, status["name"] or str(status["line"]), status["line"])

    def lines(self) -> List["Line"]:
        for d in self.client.call("list")["devices"]:
            if d["name"] == self.name:
                return [Line(self, l["name"] or str(l["line"]), l["line"]) for l in d["lines"]]
        raise VgpioError(f"device {self.name} is gone", "no-device")

    def watch(self, timeout: Optional[float] = None, duration: Optional[float] = None) -> Watch:
        """Every change of every line of the device from now on (``Change.line``
        says which); ends as ``Line.watch`` does."""
        return Watch(self, None, timeout, duration)

    # Time. A device follows the host's clock, or its guest's (clock = "guest"
    # and QEMU's vgpio-clock plugin): then durations given to waits, watches
    # and assertions are guest time, and a test can step the guest.

    @property
    def socket(self) -> str:
        """Its vhost-user socket."""
        return self._listed()["socket"]

    @property
    def clock(self) -> str:
        """"host" or "guest": whose time the device's stimuli, waits and stamps follow."""
        if self._clock is None:
            self._clock = self._listed().get("clock", {}).get("follows", "host")
        return self._clock

    def guest_ns(self) -> int:
        """The guest's time (ns since its boot) at its last hold: exact while it is held."""
        return int(self._listed()["clock"]["guest_ns"])

    def run_until(self, guest_ns: int, guard: float = GUARD) -> int:
        """Lets the guest run until its time is ``guest_ns`` and holds it there
        (exactly, when it was held before; else at its first hold from then on),
        so that what the test does next happens at that guest time. Returns
        the guest time it is held at. ``guard``: host seconds to give up after."""
        self.client.call("run", device=self.name, until=int(guest_ns))
        return self._await_guest_time(int(guest_ns), guard)

    def advance(self, duration: Duration, guard: float = GUARD) -> int:
        """``run_until`` the guest's time now plus ``duration``."""
        stop = self.client.call("run", device=self.name, **{"for": duration})["stop_ns"]
        return self._await_guest_time(stop, guard)

    def run(self) -> None:
        """Lets a held or stepped guest run freely again."""
        self.client.call("run", device=self.name)

    def _listed(self) -> Dict[str, Any]:
        for d in self.client.call("list")["devices"]:
            if d["name"] == self.name:
                return d
        raise VgpioError(f"device {self.name} is gone", "no-device")

    def _await_guest_time(self, guest_ns: int, guard: float) -> int:
        conn = self.client.connect()
        try:
            conn.call({"cmd": "watch", "device": self.name, "until": guest_ns})
            deadline = time.monotonic() + guard
            while (left := deadline - time.monotonic()) > 0:
                event = conn.next(left)
                if event and event.get("event") == "time":
                    return guest_time_reached(self, event)
            raise TimeoutError(f"{self!r}: the guest did not reach {guest_ns} ns of its time within {guard} s of "
                               f"the host's; is it running (QEMU with -icount and the vgpio-clock plugin)?")
        finally:
            conn.close()

    def destroy(self) -> None:
        """Removes a device made with ``create_device``."""
        self.client.call("destroy", device=self.name)


class Line(LineAssertions):
    """One line of a device: read it, drive it (simulated inputs), watch it,
    and assert on it with timing tolerances (vgpio/expect.py)."""

    def __init__(self, device: Device, name: str, number: int) -> None:
        self.device = device
        self.name = name
        self.number = number

    def __repr__(self) -> str:
        return f"Line({self.device.name}:{self.name})"

    def _call(self, cmd: str, **fields: Any) -> Dict[str, Any]:
        return self.device.client.call(cmd, device=self.device.name, line=self.number, **fields)

    def status(self) -> Dict[str, Any]:
        """Everything the daemon knows of the line (as ``vgpio ctl get --json``)."""
        return self._call("get")

    @property
    def value(self) -> Optional[int]:
        """The level now: the guest's output, or the input level; None when unreadable."""
        return self.status()["value"]

    @property
    def direction(self) -> str:
        """"in", "out" or "none", as the guest set it."""
        return self.status()["direction"]

    @property
    def irq(self) -> str:
        return self.status()["irq"]

    @property
    def driver(self) -> str:
        """What drives the line besides the guest (a stimulus, a wire), or ""."""
        return self.status()["driver"]

    def set(self, value: int) -> None:
        """Drives a simulated input; ends its stimulus. On a device on its
        guest's time, while the guest runs, the level comes at its next hold."""
        self._call("set", value=int(value))

    def pulse(self, width: Duration, count: int = 1, period: Optional[Duration] = None, level: int = 1) -> int:
        """``count`` pulses of ``width`` (0: until stopped); returns the schedule's start (CLOCK_MONOTONIC ns)."""
        return self._call("pulse", width=width, count=count, period=period, level=level)["start_ns"]

    def clock(self, period: Duration, duty: float = 0.5) -> int:
        """A clock until stopped."""
        return self._call("clock", period=period, duty=duty)["start_ns"]

    def bounce(self, transitions: int = 6, window: Duration = "5ms", settle: Optional[int] = None,
               seed: int = 1) -> int:
        """Contact bounce: ``transitions`` changes within ``window``, then ``settle``
        (default: the other level)."""
        return self._call("bounce", transitions=transitions, window=window, settle=settle, seed=seed)["start_ns"]

    def pattern(self, steps: Sequence[Tuple[int, Duration]], repeat: int = 1) -> int:
        """Plays (level, duration) steps ``repeat`` times (0: until stopped)."""
        return self._call("pattern", steps=[[int(l), d] for l, d in steps], repeat=repeat)["start_ns"]

    def stop(self) -> bool:
        """Stops the stimulus; True when one was running."""
        return self._call("stop")["stopped"]

    def watch(self, timeout: Optional[float] = None, duration: Optional[float] = None) -> Watch:
        """The line's changes from now on, as an iterator (the watch starts at
        once, so a stimulus started next is seen whole). It ends after
        ``timeout`` seconds without a change, or after ``duration`` seconds."""
        return Watch(self.device, self.number, timeout, duration)
