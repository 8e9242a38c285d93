"""Per-loop instrumentation: iteration timing on selector loops, a heartbeat elsewhere.

On stock asyncio the loop's ``_selector.select`` is wrapped on the instance: the time between
its return and the next call is the iteration's busy part. Nothing runs per callback. Loops
whose selector is not reachable (uvloop) get a ``call_later`` heartbeat that measures lateness.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ("LoopState",)

_perf = time.perf_counter


class LoopState:
    """What the watchdog thread reads about one loop. Written by the loop thread, read racily (by design)."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, thread_id: int, threshold: float, interval: float
    ) -> None:
        self.loop = loop
        self.loop_id = id(loop)
        self.thread_id = thread_id
        self.thread_name = threading.current_thread().name
        self.threshold = threshold
        self.interval = interval
        # perf_counter time since which the loop has not returned to its selector, 0.0 when idle
        self.since = 0.0
        # (start, duration) of finished iterations longer than the threshold
        self.pending: collections.deque[tuple[float, float]] = collections.deque(maxlen=256)
        # busy times in microseconds, drained into the histogram by the watchdog thread
        self.busy: list[int] = []
        self.busy_total = 0.0
        self.created = _perf()
        self.gc_spans: collections.deque[tuple[float, float]] = collections.deque(maxlen=32)
        self.mode = ""
        self._selector: Any = None
        self._handle: asyncio.TimerHandle | None = None
        self.active = False

    def install(self, *, selector: bool = True) -> None:
        """Start measuring: wrap the selector when asked and possible, else start the heartbeat (loop thread)."""
        sel: Any = getattr(self.loop, "_selector", None)
        original = getattr(sel, "select", None)
        if selector and sel is not None and callable(original) and "select" not in vars(sel):
            self._wrap(sel, original)
        else:
            self.mode = "heartbeat"
            self.since = _perf() + self.interval
            self._handle = self.loop.call_later(self.interval, self._tick, self.since)
        self.active = True

    def _wrap(self, selector: Any, original: Callable[..., Any]) -> None:
        threshold = self.threshold
        pending = self.pending
        busy = self.busy
        state = self

        def select(timeout: float | None = None) -> Any:
            now = _perf()
            start = state.since
            if start:
                duration = now - start
                state.since = 0.0
                busy.append(int(duration * 1e6))
                state.busy_total += duration
                if duration >= threshold:
                    pending.append((start, duration))
            try:
                return original(timeout)
            finally:
                state.since = _perf()

        self.mode = "selector"
        self._selector = selector
        selector.select = select
        self.since = _perf()

    def _tick(self, expected: float) -> None:
        now = _perf()
        late = now - expected
        if late >= self.threshold:
            self.pending.append((expected, late))
        self.busy.append(int(max(late, 0.0) * 1e6))
        if self.active:
            self.since = now + self.interval
            try:
                self._handle = self.loop.call_later(self.interval, self._tick, self.since)
            except RuntimeError:  # loop closed
                self.active = False

    def uninstall(self) -> None:
        """Stop measuring and restore the selector; safe from any thread, idempotent."""
        self.active = False
        self.since = 0.0
        if self._selector is not None:
            with contextlib.suppress(AttributeError):
                del self._selector.select
            self._selector = None
        handle, self._handle = self._handle, None
        if handle is not None:
            try:
                self.loop.call_soon_threadsafe(handle.cancel)
            except RuntimeError:
                handle.cancel()

    def utilization(self) -> float:
        """Busy fraction of wall time since install (selector mode), or 0.0 in heartbeat mode."""
        wall = _perf() - self.created
        if self.mode != "selector" or wall <= 0:
            return 0.0
        return min(1.0, self.busy_total / wall)
