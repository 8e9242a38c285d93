"""The prometheus_client collector: a real registry renders the watcher's metrics with the same meaning."""

from __future__ import annotations

import asyncio
import time

import pytest
from tests.waiting import wait_until

from unstall.watch import watch

prometheus_client = pytest.importorskip("prometheus_client")

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from unstall.integrations.prometheus import UnstallCollector  # noqa: E402
from unstall.watch._metrics import prometheus_text  # noqa: E402


def test_a_registry_renders_the_watchers_metrics_like_the_endpoint() -> None:
    async def main() -> None:
        await asyncio.sleep(0.3)  # heartbeats
        time.sleep(0.25)
        await asyncio.sleep(0.02)

    w = watch(threshold_ms=100, log=False)
    asyncio.run(main())
    assert wait_until(lambda: w.stalls >= 1)
    registry = prometheus_client.CollectorRegistry()
    registry.register(UnstallCollector())  # the process-wide watcher
    rendered = prometheus_client.generate_latest(registry).decode()
    ours = {f.name: f for f in text_string_to_metric_families(prometheus_text(w.metrics()))}
    theirs = {f.name: f for f in text_string_to_metric_families(rendered)}
    assert (
        set(theirs)
        == set(ours)
        == {
            "unstall_loop_lag_seconds",
            "unstall_stalls",
            "unstall_stalled_seconds",
            "unstall_tripwire_hits",
        }
    )
    for name in ("unstall_stalls", "unstall_stalled_seconds"):
        assert [(s.labels, s.value) for s in theirs[name].samples if s.name.endswith("_total")] == [
            (s.labels, s.value) for s in ours[name].samples
        ]
    (stalls,) = [s for s in theirs["unstall_stalls"].samples if s.name.endswith("_total")]
    assert stalls.labels == {"cause": "blocked", "route": ""}
    assert stalls.value == 1
    buckets = [s for s in theirs["unstall_loop_lag_seconds"].samples if s.name.endswith("_bucket")]
    assert buckets[-1].labels["le"] == "+Inf"
    assert buckets[-1].value > 0


def test_the_collector_yields_nothing_without_a_watcher() -> None:
    registry = prometheus_client.CollectorRegistry()
    registry.register(UnstallCollector())
    assert "unstall_" not in prometheus_client.generate_latest(registry).decode()
