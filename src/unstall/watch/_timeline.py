"""The loop-lag timeline: how late the heartbeats ran, second by second, in bounded memory.

The watchdog hands over the lag values it drains (about once a second); each lands in the
interval of the moment it was drained. When the timeline holds ``capacity`` intervals, pairs
of neighbours merge and the interval doubles, so a run of any length fits (an hour at 2 s, a
day at 64 s with the default capacity).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ("LagPoint", "Timeline")


class LagPoint(NamedTuple):
    """One interval of the timeline: from ``time`` (``time.time()``) for ``seconds``,
    ``heartbeats`` whose lag was at most ``max`` and ``mean`` on average (seconds)."""

    time: float
    seconds: float
    heartbeats: int
    max: float
    mean: float


class Timeline:
    """Lag per interval (1 s to start with), at most ``capacity`` intervals. Thread-safe."""

    def __init__(self, capacity: int = 1800) -> None:
        self.capacity = max(2, capacity)
        self.step = 1.0
        self._slots: dict[int, list[int]] = {}  # interval number -> [count, max us, sum us]
        self._lock = threading.Lock()

    def add(self, now: float, micros: Sequence[int]) -> None:
        """Record lag values (microseconds) drained at ``now`` (``time.time()``)."""
        if not micros:
            return
        with self._lock:
            key = int(now // self.step)
            slot = self._slots.get(key)
            if slot is None:
                if len(self._slots) >= self.capacity:
                    self._coarsen()
                    key = int(now // self.step)
                slot = self._slots.setdefault(key, [0, 0, 0])
            slot[0] += len(micros)
            slot[1] = max(slot[1], max(micros))
            slot[2] += sum(micros)

    def _coarsen(self) -> None:
        merged: dict[int, list[int]] = {}
        for key, (count, top, total) in self._slots.items():
            slot = merged.setdefault(key // 2, [0, 0, 0])
            slot[0] += count
            slot[1] = max(slot[1], top)
            slot[2] += total
        self._slots = merged
        self.step *= 2

    def points(self) -> tuple[LagPoint, ...]:
        """Every interval that has values, oldest first."""
        with self._lock:
            step = self.step
            items = sorted(self._slots.items())
        return tuple(
            LagPoint(key * step, step, count, top / 1e6, total / count / 1e6)
            for key, (count, top, total) in items
        )
