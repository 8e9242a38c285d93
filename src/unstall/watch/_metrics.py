"""The watcher's metrics: monotonic counters with bounded labels, and the Prometheus text format.

One snapshot feeds every exporter: the ``/metrics`` endpoint (:mod:`unstall.watch._metrics_server`),
the ``prometheus_client`` collector and the OpenTelemetry instruments
(:mod:`unstall.integrations`). The names and their meaning:

* ``unstall_loop_lag_seconds`` (histogram): how late each heartbeat of every watched loop ran;
* ``unstall_stalls_total`` and ``unstall_stalled_seconds_total`` (counters, labels ``cause``
  and ``route``): the stalls and their summed duration;
* ``unstall_tripwire_hits_total`` (counter, label ``rule``): blocking calls the tripwire caught.

``route`` is the route template a framework middleware named (``""`` outside any request);
past ``max_routes`` distinct templates, further ones count under ``"<other>"``, so a label set
stays bounded whatever the traffic.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from unstall.watch._histogram import Histogram
from unstall.watch._model import StallEvent, TripwireEvent
from unstall.watch._routes import OTHER

__all__ = (
    "LAG_BOUNDS",
    "Counters",
    "MetricsSnapshot",
    "RuleCount",
    "StallCount",
    "prometheus_text",
)

#: The ``le`` bounds of ``unstall_loop_lag_seconds``, in seconds (each is a bound of the
#: watcher's histogram in microseconds, so every bucket's count is exact).
LAG_BOUNDS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    math.inf,
)

LAG = ("unstall_loop_lag_seconds", "How late the event loop's heartbeat ran, in seconds.")
STALLS = ("unstall_stalls_total", "Stalls of the event loop, by cause and HTTP route template.")
STALLED = (
    "unstall_stalled_seconds_total",
    "Seconds the event loop was stalled, by cause and HTTP route template.",
)
HITS = (
    "unstall_tripwire_hits_total",
    "Blocking calls the tripwire caught on a running event loop, by rule code.",
)


@dataclass(frozen=True, slots=True)
class StallCount:
    """Stalls of one ``(cause, route)``: how many, and their summed duration in seconds."""

    cause: str
    route: str
    count: int
    seconds: float


@dataclass(frozen=True, slots=True)
class RuleCount:
    """Blocking calls the tripwire caught for one rule code."""

    rule: str
    count: int


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """Every metric at one moment; counters count from the watcher's start.

    ``lag`` is a copy of every loop's heartbeat-lag histogram merged, in microseconds.
    """

    stalls: tuple[StallCount, ...]
    hits: tuple[RuleCount, ...]
    lag: Histogram

    def lag_buckets(self, bounds: tuple[float, ...] = LAG_BOUNDS) -> list[tuple[float, int]]:
        """``(le in seconds, values at most it)`` at ``bounds`` (seconds, ascending)."""
        micros = [b if math.isinf(b) else round(b * 1e6) for b in bounds]
        return [
            (bound, count.frequency)
            for bound, count in zip(bounds, self.lag.cumulative(micros), strict=True)
        ]

    @property
    def lag_sum(self) -> float:
        """The sum of every recorded lag, in seconds."""
        return self.lag.total / 1e6


class Counters:
    """Monotonic counts of stalls by ``(cause, route)`` and of tripwire hits by rule. Thread-safe.

    At most ``max_routes`` route templates get a label of their own; the rest count as
    ``"<other>"``. Rule codes come from the catalog, a bounded set.
    """

    def __init__(self, max_routes: int = 100) -> None:
        self.max_routes = max(1, max_routes)
        self._stalls: dict[tuple[str, str], list[float]] = {}  # -> [count, seconds]
        self._hits: dict[str, int] = {}
        self._routes: set[str] = set()
        self._lock = threading.Lock()

    def _route(self, route: str) -> str:
        if not route or route in self._routes:
            return route
        if len(self._routes) >= self.max_routes:
            return OTHER
        self._routes.add(route)
        return route

    def add_stall(self, event: StallEvent) -> None:
        """Count ``event``."""
        with self._lock:
            key = (event.cause.value, self._route(event.route))
            row = self._stalls.get(key)
            if row is None:
                row = self._stalls[key] = [0, 0.0]
            row[0] += 1
            row[1] += event.duration

    def add_call(self, event: TripwireEvent) -> None:
        """Count a blocking call the tripwire caught."""
        with self._lock:
            self._hits[event.code] = self._hits.get(event.code, 0) + 1

    def snapshot(self, lag: Histogram) -> MetricsSnapshot:
        """The counters now, with ``lag`` (a histogram the caller owns)."""
        with self._lock:
            stalls = tuple(
                StallCount(cause, route, int(row[0]), row[1])
                for (cause, route), row in sorted(self._stalls.items())
            )
            hits = tuple(RuleCount(rule, n) for rule, n in sorted(self._hits.items()))
        return MetricsSnapshot(stalls, hits, lag)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(value) if isinstance(value, int) else repr(float(value))


def _header(lines: list[str], name: str, doc: str, kind: str) -> None:
    lines.append(f"# HELP {name} {doc}")
    lines.append(f"# TYPE {name} {kind}")


def prometheus_text(snapshot: MetricsSnapshot) -> str:
    """``snapshot`` in the Prometheus text exposition format (version 0.0.4)."""
    lines: list[str] = []
    name, doc = LAG
    _header(lines, name, doc, "histogram")
    for bound, count in snapshot.lag_buckets():
        lines.append(f'{name}_bucket{{le="{_number(bound)}"}} {count}')
    lines.append(f"{name}_sum {_number(snapshot.lag_sum)}")
    lines.append(f"{name}_count {snapshot.lag.count}")
    for (name, doc), field in ((STALLS, "count"), (STALLED, "seconds")):
        _header(lines, name, doc, "counter")
        for row in snapshot.stalls:
            value = row.count if field == "count" else row.seconds
            labels = f'cause="{_escape(row.cause)}",route="{_escape(row.route)}"'
            lines.append(f"{name}{{{labels}}} {_number(value)}")
    name, doc = HITS
    _header(lines, name, doc, "counter")
    lines.extend(f'{name}{{rule="{_escape(hit.rule)}"}} {hit.count}' for hit in snapshot.hits)
    return "\n".join(lines) + "\n"
