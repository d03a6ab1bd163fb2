"""Recording lines into a VCD file from the watch stream, in the same form as
``vgpio ctl record`` (five one-bit signals per line, the time unit chosen when
the recording ends; see docs/hil.md)."""

from __future__ import annotations

import math
import tempfile
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, TextIO, Tuple

from .connection import Connection
from .watch import GUARD

_IRQ_BITS = {"none": "000", "edge-rising": "100", "edge-falling": "010", "edge-both": "110",
             "level-high": "101", "level-low": "011"}


# VCD's time units ($timescale), as "1 us"; given without the space.
_UNITS = [(f"{n} {u}", n * 1000**i) for i, u in enumerate(("ns", "us", "ms")) for n in (1, 10, 100)] + [("1 s", 10**9)]
# The daemon stamps a change when its thread gets to it: on the host's clock
# that is true to microseconds, never to nanoseconds.
_HOST_CLOCK_PRECISION_NS = 1000


def _unit_ns(resolution: str) -> int:
    """0 for "auto" (the coarsest unit that keeps every change exact)."""
    if resolution == "auto":
        return 0
    for text, ns in _UNITS:
        if text.replace(" ", "") == resolution:
            return ns
    raise ValueError(f'not a VCD time unit: "{resolution}" (use auto, or 1, 10 or 100 of ns, us, ms, or 1s)')


def _identifier(index: int) -> str:
    out = ""
    while True:
        out += chr(33 + index % 94)
        index //= 94
        if index == 0:
            return out


class Recording:
    """Records in a background thread until ``stop()`` (or the end of a ``with`` block),
    which writes the file. ``resolution``: its time unit, as ``vgpio ctl record
    --resolution`` takes it; ``unit_ns`` says which one it was, ``clock`` whose
    time it is ("guest" when it records one device on its guest's time)."""

    def __init__(self, client: Any, path: str, device: Optional[str] = None,
                 lines: Optional[Sequence[str]] = None, resolution: str = "auto") -> None:
        self.path = path
        self.changes = 0
        self.unit_ns = _unit_ns(resolution)
        self._step = self.unit_ns or _HOST_CLOCK_PRECISION_NS
        self._gcd = 0
        # The changes wait here, rounded to the step, until the unit is known.
        self._body: TextIO = tempfile.TemporaryFile("w+")
        self._conn: Connection = client.connect()
        request: Dict[str, Any] = {"cmd": "watch", "snapshot": True}
        if device:
            request["device"] = device
        snapshot = self._conn.call(request)
        self._start_ns: int = snapshot["ns"]
        self._time = 0
        self._values: Dict[str, str] = {}
        self._lines: Dict[Tuple[str, int], Dict[str, Any]] = {}
        recorded = []  # the devices with a line recorded
        for d in snapshot["devices"]:
            for l in d["lines"]:
                if lines and l["name"] not in lines and str(l["line"]) not in lines:
                    continue
                if not recorded or recorded[-1] is not d:
                    recorded.append(d)
                name = f'{d["name"]}.{l["name"] or "line" + str(l["line"])}'
                first = len(self._values)
                state = {"level": l["value"], "direction": l["direction"], "irq": l["irq"],
                         "ids": [_identifier(first + i) for i in range(5)], "name": name}
                for i in range(5):
                    self._values[state["ids"][i]] = ""
                self._lines[(d["name"], l["line"])] = state
        # On one device on its guest's time, the guest's times (two guests'
        # cannot be compared): exact to the nanosecond.
        clock = recorded[0].get("clock", {}) if len(recorded) == 1 else {}
        self.clock = "guest" if clock.get("follows") == "guest" else "host"
        self._device = recorded[0]["name"] if recorded else ""
        self._synced = threading.Event()
        if self.clock == "guest":
            self._start_ns = clock["guest_ns"]
            self._step = self.unit_ns or 1
        self._file: TextIO = open(path, "w")
        self._initial = {ident: v for s in self._lines.values() for ident, v in zip(s["ids"], self._signals(s))}
        self._values.update(self._initial)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def __enter__(self) -> "Recording":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _signals(self, s: Dict[str, Any]) -> List[str]:
        # The level whatever the direction; z only where nothing drives it.
        if s["level"] is None:
            level = "z" if s["direction"] == "none" else "x"
        else:
            level = str(s["level"])
        out = {"out": "1", "in": "0"}.get(s["direction"], "z")
        return [level, out, *_IRQ_BITS.get(s["irq"], "000")]

    def _header(self, unit_ns: int) -> None:
        f = self._file
        f.write("$comment\n  vgpio Python client; five signals per line: the level (z: not driven), .out "
                "(1 out, 0 in, z none) and the interrupt type as .irq_rising .irq_falling .irq_level\n$end\n")
        f.write(f"$timescale {dict((ns, t) for t, ns in _UNITS)[unit_ns]} $end\n$scope module vgpio $end\n")
        suffixes = ["", ".out", ".irq_rising", ".irq_falling", ".irq_level"]
        for s in self._lines.values():
            for ident, suffix in zip(s["ids"], suffixes):
                f.write(f"$var wire 1 {ident} {s['name']}{suffix} $end\n")
        f.write("$upscope $end\n$enddefinitions $end\n#0\n$dumpvars\n")
        f.writelines(f"{v}{ident}\n" for ident, v in self._initial.items())
        f.write("$end\n")

    def _write(self, ns: int, s: Dict[str, Any]) -> None:
        since = max(ns - self._start_ns, 0)
        at = max((since + self._step // 2) // self._step * self._step, self._time)
        for ident, v in zip(s["ids"], self._signals(s)):
            if self._values[ident] == v:
                continue
            self._time = at
            self._gcd = math.gcd(self._gcd, at)
            self._values[ident] = v
            self._body.write(f"{at} {v}{ident}\n")

    def _run(self) -> None:
        while not self._stopping.is_set():
            event = self._conn.next(0.1)  # a short wait, so that stop() is heard
            if event and event.get("event") == "time":
                self._synced.set()
                return
            if not event or event.get("event") != "change":
                continue
            s = self._lines.get((event["device"], event["line"]))
            if s is None:
                continue
            key = {"value": "level", "direction": "direction", "irq": "irq"}[event["field"]]
            s[key] = event["value"]
            self._write(event["guest_ns" if self.clock == "guest" else "ns"], s)
            self.changes += 1

    def stop(self) -> None:
        """Ends the recording and closes the file."""
        if self._stopping.is_set():
            return
        if self.clock == "guest":
            # Every change up to the guest's time now, then a "time" event:
            # nothing the daemon has stamped is left out.
            self._conn.send({"cmd": "watch", "device": self._device, "for": 0})
            self._synced.wait(GUARD)
        self._stopping.set()
        self._thread.join()
        if not self.unit_ns:
            self.unit_ns = self._step
            while self.unit_ns < 10**9 and self._gcd % (self.unit_ns * 10) == 0:
                self.unit_ns *= 10
        self._header(self.unit_ns)
        self._body.seek(0)
        written = 0
        for record in self._body:
            at, change = record.split()
            if int(at) > written:
                written = int(at)
                self._file.write(f"#{written // self.unit_ns}\n")
            self._file.write(change + "\n")
        # Guest time moves at its own pace: a guest's recording ends at its last change.
        since = self._time if self.clock == "guest" else time.time_ns() - self._start_ns
        end = -(-since // self.unit_ns)
        self._file.write(f"#{max(end, written // self.unit_ns + 1)}\n")
        self._file.close()
        self._body.close()
        self._conn.close()
