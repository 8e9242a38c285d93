"""The OpenTelemetry instruments, read with the SDK's in-memory reader: the same meaning as /metrics."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from tests.waiting import wait_until

from unstall.watch import Watcher

pytest.importorskip("opentelemetry.sdk.metrics")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from unstall.integrations.opentelemetry import instrument


def points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    out: dict[str, list[Any]] = {}
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                out[metric.name] = list(metric.data.data_points)
    return out


def test_instruments_carry_stalls_by_cause_and_route_and_the_lag_histogram() -> None:
    w = Watcher(threshold_ms=100, log=False).start()
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    try:
        instrument(provider, w)

        async def main() -> None:
            await asyncio.sleep(0.3)  # heartbeats
            time.sleep(0.25)
            await asyncio.sleep(0.05)

        asyncio.run(main())
        assert wait_until(lambda: w.stalls >= 1)
        found = points(reader)
        stalls = {p.attributes["cause"]: p for p in found["unstall.stalls"]}
        assert dict(stalls["blocked"].attributes) == {"cause": "blocked", "route": ""}
        assert stalls["blocked"].value == sum(1 for e in w.events if e.cause.value == "blocked")
        stalled = {p.attributes["cause"]: p.value for p in found["unstall.stalled"]}
        assert sum(stalled.values()) == pytest.approx(sum(e.duration for e in w.events))
        (lag,) = found["unstall.loop.lag"]
        ours = w.lag_histogram()
        assert lag.count == ours.count > 0
        assert lag.sum == pytest.approx(ours.total / 1e6, rel=0.011)  # bucket upper bounds
        assert lag.max >= ours.max / 1e6
        # buckets at shared bounds are exact: each boundary's cumulative count matches ours
        running = 0
        for bound, count in zip(lag.explicit_bounds, lag.bucket_counts, strict=False):
            running += count
            assert running == ours.cumulative([round(bound * 1e6)])[0].frequency
        assert found.get("unstall.tripwire.hits", []) == []
        # a second collection hands over only what was recorded since
        asyncio.run(asyncio.sleep(0.2))
        again = points(reader)["unstall.loop.lag"][0]
        assert again.count == w.lag_histogram().count
    finally:
        w.stop()
        provider.shutdown()
