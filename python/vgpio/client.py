"""Devices and lines of a running vgpio, as objects a test can use."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple, Union

from .connection import Connection, VgpioError

if TYPE_CHECKING:
    from .recording import Recording

#: A duration: seconds, or a string with a unit ("10ms", "250us", "1.5s").
Duration = Union[float, int, str]

__all__ = ["Change", "Client", "Device", "Line", "Watch", "VgpioError", "Duration"]


@dataclass(frozen=True)
class Change:
    """One change of a line, stamped by the daemon."""

    ns: int  #: when, in nanoseconds since the epoch (the daemon's clock)
    field: str  #: "value", "direction" or "irq"
    value: Any  #: 0/1 for "value"; "in"/"out"/"none" for "direction"; an irq type name for "irq"
    line: str = ""  #: the line's name (or number)


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
                      persist: bool = False) -> "Device":
        """Makes a device at run time. A line is a name (a simulated line), or a
        table in the config's form, e.g. ``{"pool": "relay0", "name": "relay"}``
        for a host line of the config's [[pool]]."""
        tables = [{"name": l, "simulated": True} if isinstance(l, str) else l for l in lines]
        self.call("create", name=name, socket=socket, lines=tables, persist=persist)
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

    def destroy(self) -> None:
        """Removes a device made with ``create_device``."""
        self.client.call("destroy", device=self.name)


class Watch:
    """An iterator over the changes of a device, or of one of its lines (see
    ``Line.watch`` and ``Device.watch``). It ends after ``timeout`` seconds
    without a change, or ``duration`` seconds in all; close it, or use it in a
    ``with`` block, when done early."""

    def __init__(self, device: "Device", line: Optional[int], timeout: Optional[float],
                 duration: Optional[float] = None) -> None:
        self._line = line
        self._timeout = timeout
        self._end = None if duration is None else time.monotonic() + duration
        self._conn = device.client.connect()
        self._conn.call({"cmd": "watch", "device": device.name})

    def __iter__(self) -> "Watch":
        return self

    def __next__(self) -> Change:
        # Changes of other lines do not restart the timeout of a line's watch.
        quiet_end = None if self._timeout is None else time.monotonic() + self._timeout
        while True:
            ends = [e for e in (quiet_end, self._end) if e is not None]
            wait = min(ends) - time.monotonic() if ends else None
            event = self._conn.next(max(wait, 0.0)) if wait is not None else self._conn.next(None)
            if event is None:
                self.close()
                raise StopIteration
            if self._line is None or event.get("line") == self._line:
                return Change(event["ns"], event["field"], event["value"], event.get("name") or str(event["line"]))

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()


class Line:
    """One line of a device: read it, drive it (simulated inputs), watch it,
    and assert on it with timing tolerances."""

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
        """Drives a simulated input; ends its stimulus."""
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

    def wait_for(self, value: int, timeout: float = 5.0) -> bool:
        """Waits until the line has ``value``; False on timeout. Nothing polls."""
        conn = self.device.client.connect()
        try:
            snapshot = conn.call({"cmd": "watch", "device": self.device.name, "snapshot": True})
            if snapshot["devices"][0]["lines"][self.number]["value"] == value:
                return True
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                event = conn.next(left)
                if event and event.get("line") == self.number and event["field"] == "value" \
                        and event["value"] == value:
                    return True
            return False
        finally:
            conn.close()

    def expect_within(self, value: int, seconds: float) -> float:
        """Asserts the line reaches ``value`` within ``seconds``; returns how long it took."""
        start = time.monotonic()
        if not self.wait_for(value, seconds):
            raise AssertionError(f"{self!r} did not become {value} within {seconds} s (it is {self.value})")
        return time.monotonic() - start

    def expect_blinking(self, period: float, tolerance: float = 0.1, duration: float = 2.0) -> float:
        """Asserts the line blinks with ``period`` seconds (± ``tolerance``, a
        fraction) over ``duration`` seconds, from the daemon's own edge times:
        both the median and the mean period must be within the tolerance.
        Returns the mean period."""
        rising: List[int] = []
        with self.watch(duration=duration) as changes:
            for change in changes:
                if change.field == "value" and change.value == 1:
                    rising.append(change.ns)
        periods = [(b - a) / 1e9 for a, b in zip(rising, rising[1:])]
        if len(periods) < 2:
            raise AssertionError(f"{self!r} is not blinking: {len(rising)} rising edges in {duration} s")
        mean, median = statistics.mean(periods), statistics.median(periods)
        low, high = period * (1 - tolerance), period * (1 + tolerance)
        if not (low <= mean <= high and low <= median <= high):
            shown = ", ".join(f"{p * 1000:.1f}" for p in periods[:20])
            raise AssertionError(f"{self!r} blinks with a mean period of {mean * 1000:.1f} ms (median "
                                 f"{median * 1000:.1f} ms), not {period * 1000:.1f} ms ± {tolerance:.0%}; "
                                 f"periods in ms: {shown}")
        return mean
