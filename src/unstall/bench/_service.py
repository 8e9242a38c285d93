"""The benchmarked async service (aiohttp), its slow upstream, and the loop-lag endpoints.

Every pattern has an endpoint per variant, side by side, so one process serves the whole
comparison. ``/__unstall/reset`` starts a fresh :class:`unstall.watch.Watcher` and
``/__unstall/lag`` returns its lag percentiles (milliseconds) as JSON.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

import unstall.offload
from unstall.bench import _offload
from unstall.bench._work import cpu_work, db_query, http_get
from unstall.watch import Watcher, _sentinel

__all__ = ("ServiceConfig", "build_service", "build_upstream")

LAG_THRESHOLD_MS = 40.0  # stalls past this count in the lag snapshot's "stalls"
WIDE_POOL_THREADS = 64  # the default pool has min(32, cpus + 4) threads: few, for waiting calls


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """What the endpoints do: the upstream URL, the SQLite file, the CPU work size, the sleep.

    ``sentinel`` runs the watcher's sentinel (the helper process that names stalls in C code
    holding the GIL; see benchmarks/bench_service_stress.py), kept for the service's life so
    that a lag reset does not start a new one.
    """

    upstream_url: str
    db_path: str
    cpu_iterations: int
    sleep_seconds: float = 0.02
    sentinel: bool = True


class _Lag:
    """Owns the service's watcher; a reset replaces it so each measurement starts empty."""

    def __init__(self, sentinel: bool) -> None:
        self.watcher: Watcher | None = None
        self.sentinel = sentinel
        # held for the service's life: each reset's new watcher shares it
        self._kept = _sentinel.acquire() if sentinel else None

    def start(self) -> None:
        self.watcher = Watcher(LAG_THRESHOLD_MS, log=False, sentinel=self.sentinel).start()

    async def reset(self) -> None:
        old, self.watcher = self.watcher, None
        if old is not None:
            await asyncio.to_thread(old.stop)  # stop joins the watchdog thread: not on the loop
        self.start()

    def snapshot(self) -> dict[str, Any]:
        watcher = self.watcher
        if watcher is None:
            return {"samples": 0}
        report = watcher.report()
        loop_id = id(asyncio.get_running_loop())
        for stats in report.loops:
            if stats.loop_id != loop_id:
                continue
            # the heartbeat's lateness is the lag every callback saw; iteration busy time is extra
            lag = stats.lag
            result: dict[str, Any] = {"mode": stats.mode, "stalls": report.stalls}
            if lag is not None and lag.count:
                result.update(
                    samples=lag.count,
                    p50_ms=lag.p50 * 1e3,
                    p90_ms=lag.p90 * 1e3,
                    p99_ms=lag.p99 * 1e3,
                    max_ms=lag.max * 1e3,
                )
            else:
                result.update(
                    samples=stats.iterations,
                    p50_ms=stats.p50 * 1e3,
                    p90_ms=stats.p90 * 1e3,
                    p99_ms=stats.p99 * 1e3,
                    max_ms=stats.max * 1e3,
                )
            busy = stats.busy
            if busy is not None and busy.count:
                result.update(busy_samples=busy.count, busy_max_ms=busy.max * 1e3)
            return result
        return {"samples": 0, "stalls": report.stalls}


def build_service(config: ServiceConfig) -> web.Application:
    """The aiohttp application with one endpoint per (pattern, variant)."""
    app = web.Application()
    lag = _Lag(config.sentinel)
    sessions: list[ClientSession] = []
    upstream = config.upstream_url
    db = config.db_path
    n = config.cpu_iterations
    pause = config.sleep_seconds
    cpu_auto = _offload.auto(cpu_work)
    wide = _offload.thread_pool(WIDE_POOL_THREADS)

    async def on_startup(app: web.Application) -> None:
        sessions.append(
            ClientSession(connector=TCPConnector(limit=0), timeout=ClientTimeout(total=10))
        )
        lag.start()

    async def on_cleanup(app: web.Application) -> None:
        for session in sessions:
            await session.close()
        if lag.watcher is not None:
            await asyncio.to_thread(lag.watcher.stop)
        await wide.close()

    def ok(value: object = "ok") -> web.Response:
        return web.Response(text=f"{value}\n")

    async def sleep_blocking(request: web.Request) -> web.Response:
        time.sleep(pause)  # noqa: ASYNC251  # unstall: ignore - the naive variant, on purpose
        return ok()

    async def sleep_async(request: web.Request) -> web.Response:
        await asyncio.sleep(pause)
        return ok()

    async def http_blocking(request: web.Request) -> web.Response:
        return ok(http_get(upstream))  # unstall: ignore - the naive variant, on purpose

    async def http_async(request: web.Request) -> web.Response:
        async with sessions[0].get(upstream) as response:
            await response.read()
            return ok(response.status)

    async def http_thread(request: web.Request) -> web.Response:
        return ok(await _offload.to_thread(http_get, upstream))

    async def http_thread_wide(request: web.Request) -> web.Response:
        return ok(await wide.to_thread(http_get, upstream))

    async def db_blocking(request: web.Request) -> web.Response:
        return ok(db_query(db)[0])  # unstall: ignore - the naive variant, on purpose

    async def db_thread(request: web.Request) -> web.Response:
        return ok((await _offload.to_thread(db_query, db))[0])

    async def cpu_inline(request: web.Request) -> web.Response:
        return ok(cpu_work(n))  # unstall: ignore - the naive variant, on purpose

    async def cpu_thread(request: web.Request) -> web.Response:
        return ok(await _offload.to_thread(cpu_work, n))

    async def cpu_process(request: web.Request) -> web.Response:
        return ok(await _offload.to_process(cpu_work, n))

    async def cpu_offload_auto(request: web.Request) -> web.Response:
        return ok(await cpu_auto(n))

    async def lag_get(request: web.Request) -> web.Response:
        return web.json_response(lag.snapshot(), dumps=json.dumps)

    async def lag_reset(request: web.Request) -> web.Response:
        await lag.reset()
        return ok()

    async def offload_stats(request: web.Request) -> web.Response:
        decisions = [
            {
                "function": d.function,
                "engine": d.engine,
                "reason": d.reason,
                "samples": d.samples,
                "cpu_ratio": d.cpu_ratio,
                "loop_lag_ms": d.loop_lag_ms,
            }
            for d in unstall.offload.stats().auto
        ]
        return web.json_response({"auto": decisions}, dumps=json.dumps)

    async def health(request: web.Request) -> web.Response:
        return ok()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_get("/health", health)
    app.router.add_get("/sleep/blocking", sleep_blocking)
    app.router.add_get("/sleep/async", sleep_async)
    app.router.add_get("/http/blocking", http_blocking)
    app.router.add_get("/http/async", http_async)
    app.router.add_get("/http/thread", http_thread)
    app.router.add_get("/http/thread-wide", http_thread_wide)
    app.router.add_get("/db/blocking", db_blocking)
    app.router.add_get("/db/thread", db_thread)
    app.router.add_get("/cpu/inline", cpu_inline)
    app.router.add_get("/cpu/thread", cpu_thread)
    app.router.add_get("/cpu/process", cpu_process)
    app.router.add_get("/cpu/auto", cpu_offload_auto)
    app.router.add_get("/__unstall/lag", lag_get)
    app.router.add_get("/__unstall/reset", lag_reset)
    app.router.add_get("/__unstall/offload", offload_stats)
    return app


def build_upstream(delay_seconds: float = 0.02) -> web.Application:
    """A slow upstream: ``GET /`` answers after ``delay_seconds`` without blocking its own loop."""
    app = web.Application()

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(delay_seconds)
        return web.Response(text="upstream\n")

    app.router.add_get("/", slow)
    return app
