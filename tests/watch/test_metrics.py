"""The metrics: bounded counters, the Prometheus text format (parsed by prometheus_client's parser),
and the /metrics endpoint scraped over real HTTP."""

from __future__ import annotations

import asyncio
import math
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from tests.waiting import wait_until

from unstall.watch import Cause, Histogram, MetricsServer, StallEvent, TripwireEvent, watch
from unstall.watch._metrics import LAG_BOUNDS, Counters, MetricsSnapshot, prometheus_text

parser = pytest.importorskip("prometheus_client.parser")


def stall(route: str = "", cause: Cause = Cause.BLOCKED, duration: float = 0.2) -> StallEvent:
    return StallEvent(0.0, duration, 0.1, cause, None, method="GET" if route else "", route=route)


def call(code: str = "UNS101") -> TripwireEvent:
    return TripwireEvent("time.sleep", code, "sleep", "", None)


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in parser.text_string_to_metric_families(text)}


def test_counters_count_by_cause_and_route_and_hits_by_rule() -> None:
    counters = Counters()
    for event in (stall("/a"), stall("/a"), stall("/a", Cause.CPU, 0.5), stall("")):
        counters.add_stall(event)
    counters.add_call(call("UNS101"))
    counters.add_call(call("UNS101"))
    counters.add_call(call("UNS103"))
    snap = counters.snapshot(Histogram())
    rows = {(r.cause, r.route): (r.count, r.seconds) for r in snap.stalls}
    assert rows == {
        ("blocked", "/a"): (2, pytest.approx(0.4)),
        ("cpu", "/a"): (1, 0.5),
        ("blocked", ""): (1, 0.2),
    }
    assert [(h.rule, h.count) for h in snap.hits] == [("UNS101", 2), ("UNS103", 1)]


def test_routes_past_the_limit_count_as_other() -> None:
    counters = Counters(max_routes=3)
    for i in range(50):
        counters.add_stall(stall(f"/r{i}"))
    routes = {r.route: r.count for r in counters.snapshot(Histogram()).stalls}
    assert routes == {"/r0": 1, "/r1": 1, "/r2": 1, "<other>": 47}


def test_prometheus_text_parses_with_exact_lag_buckets() -> None:
    lag = Histogram()
    for micros, n in ((300, 10), (1000, 5), (4000, 3), (250_000, 2), (20_000_000, 1)):
        lag.record(micros, n)
    counters = Counters()
    counters.add_stall(stall('/q/"x"\\y\nz', Cause.GC, 1.5))  # a label that needs escaping
    counters.add_call(call())
    snap = counters.snapshot(lag)
    found = families(prometheus_text(snap))
    hist = found["unstall_loop_lag_seconds"]
    assert hist.type == "histogram"
    buckets = {s.labels["le"]: s.value for s in hist.samples if s.name.endswith("_bucket")}
    assert buckets["0.0005"] == 10
    assert buckets["0.001"] == 15  # 1000 us is in the le=0.001 bucket: (lower, upper]
    assert buckets["0.005"] == 18
    assert buckets["0.25"] == 20
    assert buckets["10.0"] == 20
    assert buckets["+Inf"] == 21
    count = next(s.value for s in hist.samples if s.name.endswith("_count"))
    total = next(s.value for s in hist.samples if s.name.endswith("_sum"))
    assert count == 21
    assert total == pytest.approx((300 * 10 + 1000 * 5 + 4000 * 3 + 250_000 * 2 + 20_000_000) / 1e6)
    stalls = found["unstall_stalls"]
    assert stalls.type == "counter"
    (sample,) = stalls.samples
    assert sample.labels == {"cause": "gc", "route": '/q/"x"\\y\nz'}
    assert sample.value == 1
    assert found["unstall_stalled_seconds"].samples[0].value == 1.5
    assert found["unstall_tripwire_hits"].samples[0].labels == {"rule": "UNS101"}
    assert all(Histogram.is_bound(b * 1e6) for b in LAG_BOUNDS if not math.isinf(b))


def scrape(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.headers["Content-Type"], r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_the_endpoint_serves_a_running_watcher_and_shuts_down_cleanly() -> None:
    async def main() -> None:
        w = watch(threshold_ms=100, log=False)
        server = MetricsServer("127.0.0.1:0").start(w.metrics)
        try:
            await asyncio.sleep(0.05)
            time.sleep(0.25)
            await asyncio.sleep(0.05)
            await asyncio.to_thread(wait_until, lambda: w.stalls >= 1)
            status, kind, body = await asyncio.to_thread(scrape, server.url)
            assert status == 200
            assert kind.startswith("text/plain; version=0.0.4")
            found = families(body)
            (row,) = found["unstall_stalls"].samples
            assert row.labels == {"cause": "blocked", "route": ""}
            lag_count = next(
                s.value
                for s in found["unstall_loop_lag_seconds"].samples
                if s.name.endswith("_count")
            )
            assert lag_count > 0
            assert (await asyncio.to_thread(scrape, server.url.replace("/metrics", "/other")))[
                0
            ] == 404
        finally:
            server.close()
        w.stop()
        assert not any(t.name == "unstall-metrics" for t in threading.enumerate())
        with socket.socket() as s:  # nobody listens there any more (closed scrapes may linger)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", server.port))

    asyncio.run(main())


def test_a_failing_render_is_a_500_never_an_exception() -> None:
    def broken() -> MetricsSnapshot:
        raise RuntimeError("boom")

    with MetricsServer("127.0.0.1:0", broken) as server:
        assert scrape(server.url)[0] == 500
        assert server.errors == 1
        client = socket.create_connection(("127.0.0.1", server.port))
        client.close()  # a client that goes away says nothing: the server goes on
        assert scrape(server.url)[0] == 500


def test_a_taken_port_raises_at_construction() -> None:
    with MetricsServer("127.0.0.1:0") as first, pytest.raises(OSError, match="in use"):
        MetricsServer(f"127.0.0.1:{first.port}")
    with pytest.raises(ValueError, match="HOST:PORT"):
        MetricsServer("nowhere:port")


def test_watch_serves_metrics_and_a_bad_port_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import unstall.watch._process as process

    with MetricsServer("127.0.0.1:0") as taken:
        with caplog.at_level("WARNING", logger="unstall"):
            w = watch(threshold_ms=100, log=False, metrics=f"127.0.0.1:{taken.port}")
        assert w.running
        assert process._server is None
        assert "cannot serve metrics" in caplog.text
    w.stop()
    process._current = None
    w = watch(threshold_ms=100, log=False, metrics="127.0.0.1:0")
    served: MetricsServer | None = getattr(process, "_server")  # noqa: B009 (mypy narrowed it)
    assert served is not None
    status, _, body = scrape(served.url)
    assert status == 200
    assert "unstall_loop_lag_seconds_bucket" in body


def test_importing_the_watchdog_leaves_the_http_server_and_the_catalog_unloaded() -> None:
    code = (
        "import sys, unstall.watch; "
        "heavy = [m for m in ('http.server', 'unstall.catalog', 'unstall.check', 'tomllib') "
        "if m in sys.modules]; print(heavy); "
        "unstall.watch.MetricsServer; print('http.server' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split("\n")[:2] == ["[]", "True"]
