"""The load generator's accounting, against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any

import pytest
from tests.loops import RunLoop

from unstall.bench import LoadResult, Sample, run_load
from unstall.bench._client import HTTPConnection
from unstall.bench._load import check_loopback_url

Server = Callable[[], AbstractAsyncContextManager[tuple[str, Any]]]
StallingServer = Callable[[float], AbstractContextManager[str]]


def test_request_cap_counts_match_the_server(run_loop: RunLoop, counting_server: Server) -> None:
    async def main() -> None:
        async with counting_server() as (base, seen):
            result = await run_load(f"{base}/ok", concurrency=4, duration=30, max_requests=57)
            assert result.requests == result.ok == 57
            assert result.errors == result.timeouts == 0
            assert seen.hits["/ok"] == 57
            assert result.latency.count == 57
            assert 0 < result.latency.p50 <= result.latency.p99 <= result.latency.max
            assert result.rps == pytest.approx(57 / result.elapsed)
            assert result.elapsed < 30

    run_loop(main())


def test_concurrency_is_actually_reached(run_loop: RunLoop, counting_server: Server) -> None:
    async def main() -> None:
        async with counting_server() as (base, seen):
            result = await run_load(
                f"{base}/hold?ms=150", concurrency=12, duration=30, max_requests=24
            )
            assert result.ok == 24
            assert result.max_in_flight == 12
            # the server saw all twelve at once: the requests really overlapped
            assert seen.max_active == 12
            # two waves of 150 ms, not twenty-four in a row
            assert result.elapsed < 24 * 0.150

    run_loop(main())


def test_time_bound_stops_new_requests(run_loop: RunLoop, counting_server: Server) -> None:
    async def main() -> None:
        async with counting_server() as (base, seen):
            t0 = time.perf_counter()
            result = await run_load(f"{base}/hold?ms=100", concurrency=3, duration=0.45)
            wall = time.perf_counter() - t0
            # each worker starts a request at 0, 0.1, 0.2, 0.3, 0.4 (at most) then stops
            assert 3 <= result.requests <= 15
            assert seen.hits["/hold"] == result.requests
            assert result.errors == 0
            assert wall < 0.45 + 0.100 + 2.0  # duration + one request + a loaded machine's slack
            assert result.elapsed <= wall

    run_loop(main())


def test_error_kinds_are_counted(
    run_loop: RunLoop, counting_server: Server, free_port: int
) -> None:
    async def main() -> None:
        async with counting_server() as (base, seen):
            failed = await run_load(f"{base}/fail", concurrency=2, duration=30, max_requests=10)
            assert (failed.requests, failed.ok, failed.errors) == (10, 0, 10)
            assert failed.error_kinds == (("HTTP 500", 10),)
            assert failed.latency.count == 0
            assert seen.hits["/fail"] == 10

            dropped = await run_load(f"{base}/drop", concurrency=2, duration=30, max_requests=6)
            assert (dropped.requests, dropped.ok, dropped.errors) == (6, 0, 6)
            assert all(kind != "timeout" for kind, _ in dropped.error_kinds)

        refused = await run_load(
            f"http://127.0.0.1:{free_port}/", concurrency=2, duration=30, max_requests=4
        )
        assert (refused.requests, refused.ok, refused.errors) == (4, 0, 4)
        assert dict(refused.error_kinds) == {"ConnectionRefusedError": 4}

    run_loop(main())


def test_request_timeout_is_a_counted_error(run_loop: RunLoop, counting_server: Server) -> None:
    async def main() -> None:
        async with counting_server() as (base, _seen):
            t0 = time.perf_counter()
            result = await run_load(
                f"{base}/hold?ms=3000",
                concurrency=2,
                duration=0.1,
                request_timeout=0.3,
            )
            assert time.perf_counter() - t0 < 2.5
            assert result.timeouts == result.errors == result.requests == 2
            assert result.ok == 0

    run_loop(main())


def test_client_reads_chunked_bodies_and_keeps_the_connection(
    run_loop: RunLoop, counting_server: Server
) -> None:
    async def main() -> None:
        async with counting_server() as (base, _seen):
            host, port, _ = check_loopback_url(base)
            conn = HTTPConnection(host, port)
            try:
                assert await conn.get("/chunked") == (200, b"alpha-beta-gamma")
                assert await conn.get("/ok") == (200, b"ok\n")
                assert conn.connects == 1
            finally:
                conn.close()

    run_loop(main())


def test_client_reads_to_close_without_a_length(run_loop: RunLoop) -> None:
    async def main() -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        conn = HTTPConnection("127.0.0.1", port)
        try:
            assert await conn.get("/") == (200, b"until close")
            assert await conn.get("/") == (200, b"until close")
            assert conn.connects == 2
        finally:
            conn.close()
            server.close()
            await server.wait_closed()

    run_loop(main())


@pytest.mark.parametrize(
    "url",
    ["http://example.com/", "http://10.0.0.1:80/", "https://127.0.0.1/", "ftp://127.0.0.1/"],
)
def test_only_loopback_http_is_driven(url: str) -> None:
    with pytest.raises(ValueError, match=repr(url).replace("/", "/").replace(".", r"\.")):
        asyncio.run(run_load(url, concurrency=1, duration=1))


def test_bounds_are_validated() -> None:
    url = "http://127.0.0.1:9/"
    with pytest.raises(ValueError, match="concurrency=0"):
        asyncio.run(run_load(url, concurrency=0, duration=1))
    with pytest.raises(ValueError, match="duration=0"):
        asyncio.run(run_load(url, concurrency=1, duration=0))
    with pytest.raises(ValueError, match="max_requests=0"):
        asyncio.run(run_load(url, concurrency=1, duration=1, max_requests=0))
    assert check_loopback_url("http://localhost:8080/a?b=1") == ("localhost", 8080, "/a?b=1")
    assert check_loopback_url("http://[::1]/") == ("::1", 80, "/")


# ---- the open loop -------------------------------------------------------------------------------


def test_open_loop_starts_requests_on_schedule(run_loop: RunLoop, counting_server: Server) -> None:
    samples: list[Sample] = []

    async def main() -> None:
        async with counting_server() as (base, seen):
            before = time.perf_counter()  # the server runs on this loop: one clock for both
            result = await run_load(
                f"{base}/ok", concurrency=8, duration=0.5, rate=100, on_sample=samples.append
            )
            assert (result.mode, result.rate) == ("open loop", 100)
            # request n is due at n / 100 s: fifty of them start before 0.5 s
            assert result.requests == result.ok == seen.hits["/ok"] == 50
            assert sorted(s.start for s in samples) == pytest.approx([n / 100 for n in range(50)])
            assert all(s.outcome == 200 for s in samples)
            # the server saw them spread over the half second, none before it was due (give or
            # take uvloop's timers, which run on a millisecond clock)
            for n, arrived in enumerate(sorted(seen.arrivals)):
                assert arrived - before >= n / 100 - 0.002
            assert seen.arrivals[-1] - before >= 0.49 - 0.002
            assert 0.49 - 0.002 <= result.elapsed < 0.49 + 2.0
            assert result.latency.count == 50

    run_loop(main())


def test_open_loop_counts_latency_from_the_scheduled_start_through_a_stall(
    run_loop: RunLoop, stalling_server: StallingServer
) -> None:
    stall = 0.4
    samples: list[Sample] = []

    async def main() -> tuple[LoadResult, LoadResult]:
        with stalling_server(stall) as url:
            opened = await run_load(
                url, concurrency=64, duration=1.0, rate=50, on_sample=samples.append
            )
        with stalling_server(stall) as url:
            closed = await run_load(url, concurrency=2, duration=1.0)
        return opened, closed

    opened, closed = run_loop(main())
    assert opened.ok == opened.requests == 50
    during = [s for s in samples if s.start < stall - 0.05]
    assert len(during) >= 15  # scheduled every 20 ms while the server's loop was stalled
    for sample in during:
        # it waited for the stall to end: its latency runs from when it was due, not sent
        assert sample.latency >= stall - sample.start - 0.03, sample
    assert opened.max_in_flight >= len(during)  # they were sent on time, all outstanding at once
    # the same stall in a closed loop is two slow requests among hundreds: p90 hides it
    assert closed.mode == "closed loop"
    assert closed.latency.max >= stall - 0.03
    assert closed.latency.p90 < 0.1 < 0.2 < opened.latency.p90


def test_open_loop_rate_is_validated() -> None:
    with pytest.raises(ValueError, match=r"rate=0 must be a positive number of requests"):
        asyncio.run(run_load("http://127.0.0.1:9/", concurrency=1, duration=1, rate=0))
    with pytest.raises(ValueError, match=r"rate=inf"):
        asyncio.run(run_load("http://127.0.0.1:9/", concurrency=1, duration=1, rate=math.inf))
