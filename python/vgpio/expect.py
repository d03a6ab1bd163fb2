"""Timing assertions on a line, in its device's time: seconds of the host's
clock (the daemon's own edge stamps), or of its guest's on a device on guest
time, where durations are guest time and edges are stamped exactly."""

from __future__ import annotations

import statistics
import time
from typing import List, Optional, Tuple

from .watch import GUARD, Change, Watch, WatchedDevice


class LineAssertions:
    """Mixed into ``Line``: waits and assertions that need only its watch."""

    device: WatchedDevice
    number: int

    def _wait(self, value: int, timeout: float, guard: float) -> Tuple[Optional[Change], float]:
        """The change that brought ``value`` (None if it had it already, or on
        timeout) and how long it took, in the device's time."""
        guest = self.device.clock == "guest"
        with Watch(self.device, self.number, guard if guest else None, duration=timeout, snapshot=True) as w:
            if w.state["lines"][self.number]["value"] == value:
                return None, 0.0
            start = int(w.state["clock"]["guest_ns"]) if guest else time.monotonic_ns()
            for change in w:
                if change.field == "value" and change.value == value:
                    took = (change.when - start) if guest else (time.monotonic_ns() - start)
                    return change, took / 1e9
            if guest and w.ended_ns is None:
                raise TimeoutError(f"{self!r}: the guest ran no {timeout} s of its time within {guard} s of the "
                                   "host's; is it running (QEMU with -icount and the vgpio-clock plugin)?")
        return None, float("inf")

    def wait_for(self, value: int, timeout: float = 5.0, guard: float = GUARD) -> bool:
        """Waits until the line has ``value``; False after ``timeout`` seconds
        (guest seconds on a device on its guest's time). Nothing polls."""
        return self._wait(value, timeout, guard)[1] != float("inf")

    def expect_within(self, value: int, seconds: float, guard: float = GUARD) -> float:
        """Asserts the line reaches ``value`` within ``seconds`` (in the device's
        time); returns how long it took (on guest time: from the guest's last
        hold before the call, exact when the guest was held)."""
        _, took = self._wait(value, seconds, guard)
        if took == float("inf"):
            raise AssertionError(f"{self!r} did not become {value} within {seconds} s "
                                 f"({'guest' if self.device.clock == 'guest' else 'host'} time)")
        return took

    def _edges(self, duration: float) -> List[Change]:
        guard = GUARD if self.device.clock == "guest" else None
        with Watch(self.device, self.number, guard, duration=duration) as changes:
            return [c for c in changes if c.field == "value"]

    def expect_blinking(self, period: float, tolerance: float = 0.1, duration: float = 2.0) -> float:
        """Asserts the line blinks with ``period`` seconds (± ``tolerance``, a
        fraction) over ``duration`` seconds, from the daemon's own edge times:
        both the median and the mean period must be within the tolerance.
        Returns the mean period."""
        rising = [c.when for c in self._edges(duration) if c.value == 1]
        periods = [(b - a) / 1e9 for a, b in zip(rising, rising[1:])]
        if len(periods) < 2:
            raise AssertionError(f"{self!r} is not blinking: {len(rising)} rising edges in {duration} s")
        mean, median = statistics.mean(periods), statistics.median(periods)
        low, high = period * (1 - tolerance), period * (1 + tolerance)
        if not (low <= mean <= high and low <= median <= high):
            shown = ", ".join(f"{p * 1000:.3f}" for p in periods[:20])
            raise AssertionError(f"{self!r} blinks with a mean period of {mean * 1000:.3f} ms (median "
                                 f"{median * 1000:.3f} ms), not {period * 1000:.3f} ms ± {tolerance:.2%}; "
                                 f"periods in ms: {shown}")
        return mean

    def expect_duty(self, duty: float, tolerance: float = 0.02, duration: float = 1.0) -> float:
        """Asserts the line is a PWM signal high for ``duty`` of each period
        (± ``tolerance``, as a fraction of the period), measured over the whole
        periods seen in ``duration`` seconds. Returns the duty measured."""
        edges = self._edges(duration)
        rises = [i for i, c in enumerate(edges) if c.value == 1]
        if len(rises) < 2:
            raise AssertionError(f"{self!r} is not switching: {len(rises)} rising edges in {duration} s")
        first, last = rises[0], rises[-1]
        high = sum(b.when - a.when for a, b in zip(edges[first:last], edges[first + 1:last + 1]) if a.value == 1)
        measured = high / (edges[last].when - edges[first].when)
        if abs(measured - duty) > tolerance:
            raise AssertionError(f"{self!r} is high {measured:.2%} of the time over {len(rises) - 1} periods, "
                                 f"not {duty:.2%} ± {tolerance:.2%}")
        return measured


def expect_duty(line: LineAssertions, duty: float, tolerance: float = 0.02, duration: float = 1.0) -> float:
    """``line.expect_duty(duty, tolerance, duration)``."""
    return line.expect_duty(duty, tolerance, duration)
