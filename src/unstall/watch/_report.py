"""Aggregated stall report: sites ranked by total stalled time, lag percentiles per loop."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from unstall.watch._model import Frame, StallEvent, TripwireEvent

__all__ = ("LoopStats", "Report", "SiteStats")


@dataclass(frozen=True, slots=True)
class SiteStats:
    """One blamed location: count, total/p99/max seconds, cause shares (0..1), an example stack and the fix."""

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


@dataclass(frozen=True, slots=True)
class LoopStats:
    """Per-loop iteration busy time / lag percentiles in seconds, and utilization (busy fraction, 0..1)."""

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


@dataclass(frozen=True, slots=True)
class Report:
    """A snapshot of what the watcher saw. Plain data; render with :meth:`render_text` or :meth:`to_json`."""

    sites: tuple[SiteStats, ...]
    loops: tuple[LoopStats, ...]
    stalls: int
    blocking_calls: tuple[TripwireEvent, ...] = ()
    sink_errors: int = 0

    def to_json(self) -> str:
        """The report as a JSON document (seconds as floats)."""
        data = asdict(self)
        for call in data["blocking_calls"]:
            call.pop("stack", None)
        return json.dumps(data, default=str, indent=2)

    def render_text(self) -> str:
        """The report as a human-readable table."""
        lines = [f"unstall: {self.stalls} stall(s) at {len(self.sites)} site(s)"]
        if self.sites:
            lines.append(
                f"{'site':<48} {'count':>5} {'total':>9} {'p99':>8} {'max':>8}  cpu/blk/gc"
            )
        for s in self.sites:
            lines.append(
                f"{s.location[-48:]:<48} {s.count:>5} {s.total * 1e3:>7.1f}ms {s.p99 * 1e3:>6.1f}ms "
                f"{s.max * 1e3:>6.1f}ms  {s.cpu_share:.0%}/{s.blocked_share:.0%}/{s.gc_share:.0%}"
            )
            if s.fix:
                lines.append(f"    fix: {s.fix}" + (f" [{s.code}]" if s.code else ""))
            lines.extend(
                f"      {f.filename}:{f.lineno} in {f.function}: {f.source}" for f in s.example[-4:]
            )
        lines.append("loops:")
        lines.extend(
            f"  loop {lp.loop_id:#x} ({lp.thread_name}, {lp.mode}): {lp.iterations} samples, "
            f"p50 {lp.p50 * 1e3:.2f}ms p90 {lp.p90 * 1e3:.2f}ms p99 {lp.p99 * 1e3:.2f}ms "
            f"p99.9 {lp.p999 * 1e3:.2f}ms max {lp.max * 1e3:.2f}ms, utilization {lp.utilization:.1%}"
            for lp in self.loops
        )
        if self.blocking_calls:
            lines.append("blocking calls on the loop:")
            for c in self.blocking_calls:
                where = f"{c.blamed.filename}:{c.blamed.lineno}" if c.blamed else "?"
                lines.append(f"  {c.code} {c.name} at {where}: {c.fix or ''}")
        return "\n".join(lines) + "\n"


def site_key(event: StallEvent) -> str:
    """The aggregation key of an event: ``file:line (function)`` of its blamed frame."""
    f = event.blamed
    return "<unknown>" if f is None else f"{f.filename}:{f.lineno} ({f.function})"
