"""Bounded aggregates: stall sites ranked by total time, and log-linear histograms of lag and busy time per loop."""

from __future__ import annotations

import collections
import threading
import time

from unstall.watch._histogram import Histogram
from unstall.watch._loops import LoopState
from unstall.watch._model import Cause, Frame, StallEvent
from unstall.watch._report import LoopStats, Percentiles, SiteStats, site_key
from unstall.watch._timeline import Timeline

__all__ = ("Histograms", "Sites")

_MAX_DURATIONS = 512
_HIGHEST_US = 3_600_000_000  # one hour, in microseconds: a longer value is recorded as an hour


def _record(hist: Histogram, values: list[int]) -> None:
    # short iterations repeat the same few microsecond values: count them, record once each
    for value, count in collections.Counter(values).items():
        hist.record(min(max(1, value), _HIGHEST_US), count)


def _percentiles(hist: Histogram) -> Percentiles | None:
    count = hist.count
    if not count:
        return None
    return Percentiles(
        count=count,
        mean=hist.mean / 1e6,
        p50=hist.percentile(50) / 1e6,
        p90=hist.percentile(90) / 1e6,
        p99=hist.percentile(99) / 1e6,
        p999=hist.percentile(99.9) / 1e6,
        max=hist.max / 1e6,
    )


class _Site:
    __slots__ = (
        "blocked",
        "code",
        "count",
        "cpu",
        "durations",
        "example",
        "fix",
        "gc",
        "gil",
        "max",
        "offender",
        "total",
    )

    def __init__(self) -> None:
        self.count = 0
        self.total = self.max = self.cpu = self.blocked = self.gc = self.gil = 0.0
        self.durations: collections.deque[float] = collections.deque(maxlen=_MAX_DURATIONS)
        self.example: tuple[Frame, ...] = ()
        self.fix: str | None = None
        self.code: str | None = None
        self.offender: str | None = None


class Sites:
    """Stall sites keyed by blamed line, at most ``limit`` of them (the smallest total goes first)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._sites: dict[str, _Site] = {}
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._sites)

    def add(self, event: StallEvent) -> None:
        """Fold ``event`` into its site."""
        key = site_key(event)
        with self._lock:
            site = self._sites.get(key)
            if site is None:
                if len(self._sites) >= self.limit:
                    smallest = min(self._sites, key=lambda k: self._sites[k].total)
                    del self._sites[smallest]
                site = self._sites[key] = _Site()
            site.count += 1
            site.total += event.duration
            site.max = max(site.max, event.duration)
            site.durations.append(event.duration)
            if event.cause is Cause.CPU:
                site.cpu += event.duration
            elif event.cause is Cause.GC:
                site.gc += event.duration
            elif event.cause is Cause.BLOCKED:
                site.blocked += event.duration
            elif event.cause is Cause.GIL:
                site.gil += event.duration
            if not site.example and event.stacks:
                site.example = event.stacks[0]
            site.fix, site.code = event.fix, event.code
            if event.offender is not None:
                off = event.offender
                site.offender = f"{off.module}.{off.function}" if off.module else off.function

    def snapshot(self) -> tuple[SiteStats, ...]:
        """Every site, largest total stalled time first."""
        with self._lock:
            items = list(self._sites.items())
            rows = []
            for key, s in items:
                d = sorted(s.durations)
                p99 = d[min(len(d) - 1, int(len(d) * 0.99))] if d else 0.0
                tot = s.total or 1.0
                rows.append(
                    SiteStats(
                        key,
                        s.count,
                        s.total,
                        p99,
                        s.max,
                        s.cpu / tot,
                        s.blocked / tot,
                        s.gc / tot,
                        s.fix,
                        s.code,
                        s.example,
                        s.offender,
                        gil_share=s.gil / tot,
                    )
                )
        rows.sort(key=lambda r: -r.total)
        return tuple(rows)

    def clear(self) -> None:
        """Forget every site."""
        with self._lock:
            self._sites.clear()


class _LoopHist:
    """One loop's histograms, and the timed windows of the runs of it that have finished.

    A loop run several times (``asyncio.run`` runs it again to shut down async generators and
    the executor; ``run_until_complete`` in a loop) gets a new state per run: its windows are
    added up here, so utilization covers every run, not only the last.
    """

    __slots__ = ("busy", "closed", "lag", "past_busy", "past_wall", "state", "tallied")

    def __init__(self, state: LoopState) -> None:
        self.state = state
        self.lag = Histogram()
        self.busy = Histogram()
        self.closed = False
        self.past_busy = 0.0  # busy and timed wall seconds of finished runs
        self.past_wall = 0.0
        self.tallied: LoopState | None = None  # the last finished run added to them

    def utilization(self) -> float | None:
        busy, wall = self.past_busy, self.past_wall
        if self.tallied is not self.state:
            now_busy, now_wall = self.state.timed()
            busy, wall = busy + now_busy, wall + now_wall
        return min(1.0, busy / wall) if wall > 0 else None


class Histograms:
    """Lag and busy-time histograms per loop; closed loops beyond ``keep`` merge into one row.

    Every lag value drained also goes to ``timeline``, in the interval it was drained in.
    """

    def __init__(self, keep: int = 16) -> None:
        self.keep = keep
        self.timeline = Timeline()
        self._loops: dict[int, _LoopHist] = {}
        self._retired: _LoopHist | None = None
        self._retired_count = 0
        self._serial = 0
        self._lock = threading.RLock()

    def drain(self, state: LoopState) -> None:
        """Move ``state``'s recorded lag and busy values into its histograms (any thread)."""
        with self._lock:
            entry = self._loops.get(state.loop_id)
            if entry is not None and entry.state.loop is not state.loop:
                # a new loop at the address of a dead one: the old numbers become a closed row
                self._serial += 1
                entry.closed = True
                self._loops[-self._serial] = self._loops.pop(state.loop_id)
                self._evict()
                entry = None
            if entry is None:
                entry = self._loops[state.loop_id] = _LoopHist(state)
            elif entry.state is not state:
                entry.state, entry.closed = state, False
            lag, busy = state.lag, state.busy
            n = len(lag)
            if n:
                taken = lag[:n]
                del lag[:n]  # appends by the loop thread land after n: none is lost
                _record(entry.lag, taken)
                self.timeline.add(time.time(), taken)
            n = len(busy)
            if n:
                micros = [int(v * 1e6) for v in busy[:n]]
                del busy[:n]
                _record(entry.busy, micros)
                state.busy_us += sum(micros)

    def close(self, state: LoopState) -> None:
        """Mark ``state``'s loop as finished; the oldest finished loops merge into one row."""
        self.drain(state)
        with self._lock:
            entry = self._loops.get(state.loop_id)
            if entry is not None and entry.state.loop is state.loop:
                busy, wall = state.timed()
                entry.past_busy += busy
                entry.past_wall += wall
                entry.tallied = state
                if entry.state is state:
                    entry.closed = True
            self._evict()

    def _evict(self) -> None:
        with self._lock:
            closed = [k for k, e in self._loops.items() if e.closed]
            for key in closed[: max(0, len(closed) - self.keep)]:
                old = self._loops.pop(key)
                if self._retired is None:
                    self._retired = old
                else:
                    self._retired.lag.merge(old.lag)
                    self._retired.busy.merge(old.busy)
                self._retired_count += 1

    def histogram(self, loop_id: int, kind: str = "busy") -> Histogram | None:
        """The :class:`Histogram` (microseconds) of ``kind`` ("busy" or "lag") for loop ``loop_id``, or ``None``."""
        if kind not in ("busy", "lag"):
            raise ValueError(f"kind={kind!r} is not a histogram of a loop; choose 'busy' or 'lag'.")
        entry = self._loops.get(loop_id)
        if entry is None:
            return None
        hist: Histogram = entry.busy if kind == "busy" else entry.lag
        return hist

    def merged(self, kind: str, live: list[LoopState]) -> Histogram:
        """A new histogram holding every loop's ``kind`` ("busy" or "lag") values (live ones drained first)."""
        for state in live:
            self.drain(state)
        total = Histogram()
        with self._lock:
            entries = list(self._loops.values())
            if self._retired is not None:
                entries.append(self._retired)
            for entry in entries:
                total.merge(entry.busy if kind == "busy" else entry.lag)
        return total

    def stats(self, live: list[LoopState]) -> tuple[LoopStats, ...]:
        """One :class:`LoopStats` per loop seen (live ones drained first)."""
        for state in live:
            self.drain(state)
        with self._lock:
            entries = list(self._loops.values())
            retired, count = self._retired, self._retired_count
        rows = [self._row(e, e.state.thread_name, e.closed) for e in entries]
        if retired is not None:
            rows.append(self._row(retired, f"{count} earlier closed loop(s)", True))
        return tuple(rows)

    @staticmethod
    def _row(entry: _LoopHist, name: str, closed: bool) -> LoopStats:
        state = entry.state
        busy = _percentiles(entry.busy)
        lag = _percentiles(entry.lag)
        main = busy or lag or Percentiles(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        util = entry.utilization()
        return LoopStats(
            state.loop_id,
            name,
            state.mode,
            main.count,
            main.p50,
            main.p90,
            main.p99,
            main.p999,
            main.max,
            util if util is not None else 0.0,
            busy=busy,
            lag=lag,
            closed=closed,
            timed=util is not None,
        )

    def clear(self) -> None:
        """Forget every loop's numbers."""
        with self._lock:
            self._loops.clear()
            self._retired = None
            self._retired_count = 0
