"""Aggregated stall report: sites ranked by total stalled time, lag percentiles per loop."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from unstall.watch._hygiene import HygieneEvent, render_hygiene
from unstall.watch._model import Frame, StallEvent, TripwireEvent

__all__ = ("LoopStats", "Percentiles", "Report", "RouteStats", "SiteStats")


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses to dicts, enums to their values."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Percentiles:
    """A distribution in its samples' unit: sample count, mean, p50, p90, p99, p99.9 and max.

    The watcher's are seconds read from a log-linear histogram (percentiles within 0.5%; count,
    mean and max exact); :func:`unstall.bench.summarize` computes them exactly from a list of
    samples, and gives ``nan`` for every field but ``count`` when there are none.
    """

    count: int
    mean: float
    p50: float
    p90: float
    p99: float
    p999: float
    max: float


@dataclass(frozen=True, slots=True)
class SiteStats:
    """One blamed location: count, total/p99/max seconds, cause shares (0..1), an example stack and the fix.

    ``gil_share`` is the part of its stalled time the loop waited for the GIL another thread held.
    """

    location: str
    count: int
    total: float
    p99: float
    max: float
    cpu_share: float
    blocked_share: float
    gc_share: float
    fix: str | None
    code: str | None
    example: tuple[Frame, ...]
    offender: str | None = None
    gil_share: float = 0.0


@dataclass(frozen=True, slots=True)
class RouteStats:
    """One HTTP route: its stalls (count, total/p99/max seconds), the blocking calls made in it,
    and the site that stalled it longest.

    ``route`` is the route template (``"<unmatched>"``: no route matched; ``"<other>"``: the
    routes past the report's limit, added up) and ``method`` its HTTP method.
    """

    method: str
    route: str
    stalls: int
    total: float
    p99: float
    max: float
    blocking_calls: int = 0
    top_site: str | None = None


@dataclass(frozen=True, slots=True)
class LoopStats:
    """One loop's numbers, in seconds.

    ``busy`` holds the percentiles of timed iterations' busy parts (stock asyncio), ``lag`` those
    of the heartbeat's lateness (every loop). The flat ``iterations``/``p50``/.../``max`` fields
    repeat ``busy`` when iterations were timed, else ``lag``. ``utilization`` is the busy fraction
    of the timed wall time (0..1, like Node's event-loop utilization); ``timed`` says whether it
    was measured (``False`` on uvloop, where it reads 0.0). ``mode`` is ``"iterations"``,
    ``"sampled iterations"`` or ``"heartbeat"``; ``closed`` is true once the loop stopped.
    """

    loop_id: int
    thread_name: str
    mode: str
    iterations: int
    p50: float
    p90: float
    p99: float
    p999: float
    max: float
    utilization: float
    busy: Percentiles | None = None
    lag: Percentiles | None = None
    closed: bool = False
    timed: bool = False


@dataclass(frozen=True, slots=True)
class Report:
    """A snapshot of what the watcher saw. Plain data; render with :meth:`render_text` or :meth:`to_json`.

    ``sites`` are ranked by total stalled time, and so are ``routes`` (the HTTP routes a
    framework middleware named; see :mod:`unstall.integrations`); ``recent`` holds the last
    few raw events;
    ``threshold`` is the stall threshold in seconds; ``sink_errors`` counts exceptions raised
    by sinks and context providers (each one was swallowed). ``ongoing`` holds the stalls still
    running when the report was taken (or when the watcher stopped), each with its duration
    so far.
    """

    sites: tuple[SiteStats, ...]
    loops: tuple[LoopStats, ...]
    stalls: int
    blocking_calls: tuple[TripwireEvent, ...] = ()
    sink_errors: int = 0
    threshold: float = 0.0
    recent: tuple[StallEvent, ...] = ()
    routes: tuple[RouteStats, ...] = ()
    hygiene: tuple[HygieneEvent, ...] = ()  # asyncio mistakes seen (tasks lost, never awaited, ...)
    ongoing: tuple[StallEvent, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (seconds as floats, causes as strings)."""
        data: dict[str, Any] = _plain(self)
        for call in data["blocking_calls"]:
            call.pop("stack", None)
        return data

    def to_json(self) -> str:
        """The report as a JSON document (seconds as floats)."""
        return json.dumps(self.to_dict(), default=str, indent=2)

    def render_text(self) -> str:
        """The report as a human-readable table."""
        lines = [
            f"unstall: {self.stalls} stall(s) at {len(self.sites)} site(s)"
            + (f" (threshold {self.threshold * 1e3:.0f} ms)" if self.threshold else "")
        ]
        for event in self.ongoing:
            lines.extend(_ongoing_lines(event))
        if self.sites:
            lines.append(
                f"{'site':<48} {'count':>5} {'total':>9} {'p99':>8} {'max':>8}  cpu/blk/gc/gil"
            )
        for s in self.sites:
            lines.append(
                f"{s.location[-48:]:<48} {s.count:>5} {s.total * 1e3:>7.1f}ms {s.p99 * 1e3:>6.1f}ms "
                f"{s.max * 1e3:>6.1f}ms  {s.cpu_share:.0%}/{s.blocked_share:.0%}/{s.gc_share:.0%}"
                f"/{s.gil_share:.0%}"
            )
            if s.offender:
                lines.append(f"    offender: {s.offender}")
            if s.fix:
                lines.append(f"    fix: {s.fix}" + (f" [{s.code}]" if s.code else ""))
            lines.extend(
                f"      {f.filename}:{f.lineno} in {f.function}: {f.source}" for f in s.example[-4:]
            )
        if self.routes:
            lines.append(f"{'route':<48} {'count':>5} {'total':>9} {'p99':>8} {'max':>8}  calls")
        for r in self.routes:
            name = f"{r.method} {r.route}".strip()
            lines.append(
                f"{name[-48:]:<48} {r.stalls:>5} {r.total * 1e3:>7.1f}ms {r.p99 * 1e3:>6.1f}ms "
                f"{r.max * 1e3:>6.1f}ms  {r.blocking_calls:>5}"
            )
            if r.top_site:
                lines.append(f"    mostly at {r.top_site}")
        lines.append("loops:")
        for lp in self.loops:
            util = f"utilization {lp.utilization:.1%}" if lp.timed else "utilization n/a"
            lines.append(
                f"  loop {lp.loop_id:#x} ({lp.thread_name}, {lp.mode}{', closed' if lp.closed else ''}): {util}"
            )
            for label, p in (("busy", lp.busy), ("lag", lp.lag)):
                if p is not None:
                    lines.append(
                        f"    {label:<4} n={p.count} p50 {p.p50 * 1e3:.2f}ms p90 {p.p90 * 1e3:.2f}ms "
                        f"p99 {p.p99 * 1e3:.2f}ms p99.9 {p.p999 * 1e3:.2f}ms max {p.max * 1e3:.2f}ms"
                    )
        if self.blocking_calls:
            lines.append("blocking calls on the loop:")
            for c in self.blocking_calls:
                where = f"{c.blamed.filename}:{c.blamed.lineno}" if c.blamed else "?"
                route = f" in {c.method} {c.route}" if c.route else ""
                lines.append(f"  {c.code} {c.name} at {where}{route}: {c.fix or ''}")
        lines.extend(render_hygiene(self.hygiene))
        return "\n".join(lines) + "\n"


def _ongoing_lines(event: StallEvent) -> list[str]:
    """A stall still running: how long so far, where, what it is in, the fix and its stack."""
    f = event.blamed
    where = f"{f.filename}:{f.lineno} ({f.function})" if f else "<unknown>"
    lines = [
        f"stall in progress: {event.duration * 1e3:.0f} ms so far ({event.cause.value}) at {where}"
    ]
    if event.offender is not None:
        off = event.offender
        lines.append(f"    offender: {off.module + '.' if off.module else ''}{off.function}")
    if event.fix:
        lines.append(f"    fix: {event.fix}" + (f" [{event.code}]" if event.code else ""))
    stack = event.stacks[0] if event.stacks else ()
    lines.extend(f"      {s.filename}:{s.lineno} in {s.function}: {s.source}" for s in stack[-6:])
    return lines


def site_key(event: StallEvent) -> str:
    """The aggregation key of an event: ``file:line (function)`` of its blamed frame."""
    f = event.blamed
    return "<unknown>" if f is None else f"{f.filename}:{f.lineno} ({f.function})"
