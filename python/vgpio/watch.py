"""The watch stream of a device, or of one of its lines, as an iterator of
changes. It needs a connection to the daemon and nothing of the other
modules: client.py, expect.py and recording.py build on it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Dict, Optional, Protocol

from .connection import Connection, VgpioError

#: Host seconds a wait on guest time gives up after (a guest that stopped).
GUARD = 600.0


class WatchedClient(Protocol):
    def connect(self) -> Connection: ...


class WatchedDevice(Protocol):
    """What a watch needs of a device (client.Device is one)."""

    name: str
    client: WatchedClient

    @property
    def clock(self) -> str: ...


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


def guest_time_reached(device: WatchedDevice, event: Dict[str, Any]) -> int:
    """The guest time of a "time" event; raises when the guest left before it."""
    if not event.get("reached"):
        raise VgpioError(f"{device!r}: the guest left (its vgpio-clock plugin disconnected) at "
                         f"{event.get('guest_ns')} ns, before the time waited for", "conflict")
    return int(event["guest_ns"])


class Watch:
    """An iterator over the changes of a device, or of one of its lines (see
    ``Line.watch`` and ``Device.watch``). It ends after ``timeout`` seconds
    without a change, or ``duration`` seconds in all; close it, or use it in a
    ``with`` block, when done early. On a device on its guest's time,
    ``duration`` is guest time (the daemon says when it has passed) and
    ``timeout`` host time (a guard against a guest that stopped)."""

    def __init__(self, device: WatchedDevice, line: Optional[int], timeout: Optional[float],
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
