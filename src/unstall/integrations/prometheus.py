"""The watcher's metrics for a ``prometheus_client`` registry, for services that already expose one.

``prometheus_client.REGISTRY.register(UnstallCollector())``: every scrape of the service's own
endpoint then carries ``unstall_loop_lag_seconds``, ``unstall_stalls_total``,
``unstall_stalled_seconds_total`` and ``unstall_tripwire_hits_total`` (see
:mod:`unstall.watch._metrics` for their meaning). Needs ``prometheus_client`` (extra
``unstall[prometheus]``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from unstall.watch._metrics import HITS, LAG, STALLED, STALLS

if TYPE_CHECKING:
    from unstall.watch._metrics import MetricsSnapshot
    from unstall.watch._watcher import Watcher

__all__ = ("UnstallCollector",)


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


class UnstallCollector(Collector):
    """A ``prometheus_client`` collector of ``watcher``'s metrics (default: the process-wide watcher).

    With no watcher running a scrape yields nothing from it. Collecting never raises: a
    failure yields nothing for that scrape.
    """

    def __init__(self, watcher: Watcher | None = None) -> None:
        self._watcher = watcher

    def _snapshot(self) -> MetricsSnapshot | None:
        watcher = self._watcher
        if watcher is None:
            from unstall.watch._process import current

            watcher = current()
        return watcher.metrics() if watcher is not None else None

    def collect(self) -> Iterator[Metric]:
        """The four metric families, as of now."""
        try:
            snapshot = self._snapshot()
        except Exception:
            return
        if snapshot is None:
            return
        yield from _families(snapshot)

    def describe(self) -> Iterator[Metric]:
        """Nothing: the families are read at each scrape (prometheus_client then calls collect)."""
        return iter(())


def _families(snapshot: MetricsSnapshot) -> Iterator[Metric]:
    """``snapshot`` as ``prometheus_client`` metric families."""
    name, doc = LAG
    lag = HistogramMetricFamily(
        name,
        doc,
        buckets=[(_le(bound), count) for bound, count in snapshot.lag_buckets()],
        sum_value=snapshot.lag_sum,
        unit="",
    )
    yield lag
    labelled: tuple[tuple[tuple[str, str], Callable[[int, float], float]], ...] = (
        (STALLS, lambda count, seconds: count),
        (STALLED, lambda count, seconds: seconds),
    )
    for (name, doc), pick in labelled:
        counter = CounterMetricFamily(name, doc, labels=("cause", "route"))
        for row in snapshot.stalls:
            counter.add_metric((row.cause, row.route), pick(row.count, row.seconds))
        yield counter
    name, doc = HITS
    hits = CounterMetricFamily(name, doc, labels=("rule",))
    for hit in snapshot.hits:
        hits.add_metric((hit.rule,), hit.count)
    yield hits
