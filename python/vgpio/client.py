"""Devices and lines of a running vgpio, as objects a test can use."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple, Union

from .connection import Connection, VgpioError
from .expect import GUARD, LineAssertions

if TYPE_CHECKING:
    from .recording import Recording

#: A duration: seconds, or a string with a unit ("10ms", "250us", "1.5s").
Duration = Union[float, int, str]



def guest_time_reached(device: "Device", event: Dict[str, Any]) -> int:
    """The guest time of a "time" event; raises when the guest left before it."""
    if not event.get("reached"):
        raise VgpioError(f"{device!r}: the guest left (its vgpio-clock plugin disconnected) at "
                         f"{event.get('guest_ns')} ns, before the time waited for", "conflict")
    return int(event["guest_ns"])

__all__ = ["Change", "Client", "Device", "Line", "Watch", "VgpioError", "Duration"]


@dataclass(frozen=True)
class Change:
    """One change of a line, stamped by the daemon."""

    ns: int  #: when, in nanoseconds since the epoch (the daemon's clock)
    field: str  #: "value", "direction" or "irq"
    value: Any  #: 0/1 for "value"; "in"/"out"/"none" for "direction"; an irq type name for "irq"
    line: str = ""  #: the line's name (or number)
    guest_ns: Optional[int] = None  #: on a device on its guest's time: when, in guest ns since its boot

    @property
    def when(self) -> int:
        """The time to measure with: guest ns on a device on its guest's time, else ``ns``."""
        return self.ns if self.guest_ns is None else self.guest_ns


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
                   lines: Optional[Sequence[str]] = None, resolution: str = "auto") -> "Recording":
        """Starts recording to a VCD file; stop it with ``.stop()`` or a ``with`` block.
        ``resolution``: the file's time unit (1ns ... 1s), or auto: the coarsest that
        keeps every change exact (host-clock times to 1us)."""
        from .recording import Recording
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


class Watch:
    """An iterator over the changes of a device, or of one of its lines (see
    ``Line.watch`` and ``Device.watch``). It ends after ``timeout`` seconds
    without a change, or ``duration`` seconds in all; close it, or use it in a
    ``with`` block, when done early. On a device on its guest's time,
    ``duration`` is guest time (the daemon says when it has passed) and
    ``timeout`` host time (a guard against a guest that stopped)."""

    def __init__(self, device: "Device", line: Optional[int], timeout: Optional[float],
                 duration: Optional[float] = None, snapshot: bool = False) -> None:
        self._device = device
        self._line = line
        self._timeout = timeout
        guest = device.clock == "guest"
        self._end = None if duration is None or guest else time.monotonic() + duration
        self._conn = device.client.connect()
        request: Dict[str, Any] = {"cmd": "watch", "device": device.name, "snapshot": snapshot}
        if guest and duration is not None:
            request["for"] = duration
        #: With ``snapshot``: the device as it was when the watch began (as in ``list``).
        self.state: Dict[str, Any] = (self._conn.call(request).get("devices") or [{}])[0]
        #: On guest time, once ``duration`` has passed: the guest time it ended at.
        self.ended_ns: Optional[int] = None

    def __iter__(self) -> "Watch":
        return self

    def __next__(self) -> Change:
        # Changes of other lines do not restart the timeout of a line's watch.
        quiet_end = None if self._timeout is None else time.monotonic() + self._timeout
        while True:
            ends = [e for e in (quiet_end, self._end) if e is not None]
            wait = min(ends) - time.monotonic() if ends else None
            event = self._conn.next(max(wait, 0.0)) if wait is not None else self._conn.next(None)
            if event is not None and event.get("event") == "time":
                self.ended_ns = guest_time_reached(self._device, event)
                event = None
            if event is None:
                self.close()
                raise StopIteration
            if self._line is None or event.get("line") == self._line:
                return Change(event["ns"], event["field"], event["value"], event.get("name") or str(event["line"]),
                              event.get("guest_ns"))

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()


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
