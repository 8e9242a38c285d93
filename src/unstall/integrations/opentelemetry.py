"""The watcher's metrics as OpenTelemetry instruments, with the meaning of the Prometheus ones.

``instrument()`` creates, on the meter ``unstall`` of the global (or given) meter provider:

* ``unstall.loop.lag`` (histogram, s): how late each heartbeat of every watched loop ran;
* ``unstall.stalls`` (counter, ``{stall}``) and ``unstall.stalled`` (counter, s), attributes
  ``cause`` and ``route``: the stalls and their summed duration;
* ``unstall.tripwire.hits`` (counter, ``{call}``), attribute ``rule``.

A Prometheus exporter names them ``unstall_loop_lag_seconds``, ``unstall_stalls_total``,
``unstall_stalled_seconds_total`` and ``unstall_tripwire_hits_total``, as ``unstall run
--metrics`` does. The counters are observed at each collection. The watcher aggregates lag in
its own histogram, so at each collection (each callback reads the watcher) the heartbeats recorded since the last one are
handed to the OpenTelemetry histogram, each as the upper bound of its bucket (at most 1%
above it; counts at bucket bounds the two share, such as the default ones, are exact): the
histogram holds the heartbeats from the call of ``instrument()`` on. Needs
``opentelemetry-api`` (extra ``unstall[otel]``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Histogram, Meter, ObservableCounter, Observation

from unstall.watch._metrics import LAG_BOUNDS

if TYPE_CHECKING:
    from unstall.watch._metrics import MetricsSnapshot
    from unstall.watch._watcher import Watcher

__all__ = ("UnstallInstruments", "instrument")


@dataclass(frozen=True, slots=True)
class UnstallInstruments:
    """The instruments :func:`instrument` created."""

    lag: Histogram
    stalls: ObservableCounter
    stalled: ObservableCounter
    hits: ObservableCounter


class _Feed:
    """Reads the watcher once per collection and hands the lag recorded since to the histogram."""

    def __init__(self, watcher: Watcher | None, lag: Histogram) -> None:
        self._watcher = watcher
        self._lag = lag
        self._seen: dict[int, int] = {}  # bucket upper bound (us) -> heartbeats handed over
        self._snapshot: MetricsSnapshot | None = None
        self._lock = threading.Lock()
        first = self._read()
        if first is not None:  # what was recorded before this call stays out
            self._seen = {b.upper: b.frequency for b in first.lag.buckets()}

    def _read(self) -> MetricsSnapshot | None:
        watcher = self._watcher
        if watcher is None:
            from unstall.watch._process import current

            watcher = current()
        try:
            return watcher.metrics() if watcher is not None else None
        except Exception:
            return None

    def refresh(self) -> MetricsSnapshot | None:
        """A fresh snapshot; the lag since the last one goes to the histogram."""
        with self._lock:
            snapshot = self._read()
            if snapshot is None:
                return self._snapshot  # the last one read, if any
            for bucket in snapshot.lag.buckets():
                new = bucket.frequency - self._seen.get(bucket.upper, 0)
                if new > 0:
                    value = bucket.upper / 1e6
                    for _ in range(new):
                        self._lag.record(value)
                    self._seen[bucket.upper] = bucket.frequency
            self._snapshot = snapshot
            return snapshot


def instrument(
    meter_provider: metrics.MeterProvider | None = None, watcher: Watcher | None = None
) -> UnstallInstruments:
    """Create the instruments for ``watcher`` (default: the process-wide watcher, found at each collection).

    ``meter_provider`` defaults to the global one. Call it once per provider; callbacks
    never raise (a watcher that cannot be read observes nothing).
    """
    from unstall import __version__

    provider = meter_provider if meter_provider is not None else metrics.get_meter_provider()
    meter: Meter = provider.get_meter("unstall", __version__)
    lag = meter.create_histogram(
        "unstall.loop.lag",
        unit="s",
        description="How late the event loop's heartbeat ran.",
        explicit_bucket_boundaries_advisory=[b for b in LAG_BOUNDS if not math.isinf(b)],
    )
    feed = _Feed(watcher, lag)

    def stalls(options: CallbackOptions) -> Iterable[Observation]:
        return _stall_rows(feed.refresh(), "count")

    def stalled(options: CallbackOptions) -> Iterable[Observation]:
        return _stall_rows(feed.refresh(), "seconds")

    def hits(options: CallbackOptions) -> Iterable[Observation]:
        snapshot = feed.refresh()
        if snapshot is None:
            return []
        return [Observation(h.count, {"rule": h.rule}) for h in snapshot.hits]

    return UnstallInstruments(
        lag=lag,
        stalls=meter.create_observable_counter(
            "unstall.stalls",
            callbacks=[stalls],
            unit="{stall}",
            description="Stalls of the event loop, by cause and HTTP route template.",
        ),
        stalled=meter.create_observable_counter(
            "unstall.stalled",
            callbacks=[stalled],
            unit="s",
            description="Time the event loop was stalled, by cause and HTTP route template.",
        ),
        hits=meter.create_observable_counter(
            "unstall.tripwire.hits",
            callbacks=[hits],
            unit="{call}",
            description="Blocking calls the tripwire caught on a running event loop, by rule code.",
        ),
    )


def _stall_rows(snapshot: MetricsSnapshot | None, field: str) -> list[Observation]:
    if snapshot is None:
        return []
    rows: list[Observation] = []
    for row in snapshot.stalls:
        value: Any = row.count if field == "count" else row.seconds
        rows.append(Observation(value, {"cause": row.cause, "route": row.route}))
    return rows
