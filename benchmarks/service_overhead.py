"""What a service adds to ``unstall.watch()``: the framework middleware and the ``/metrics`` endpoint.

Usage: python benchmarks/service_overhead.py [--framework asgi|aiohttp] [--loop asyncio|uvloop]
                                             [--batches 40] [--batch 400] [--cpu 1]

One process, one loop, one watcher (as shipped: ``sampled``) and two servers of the same app on
127.0.0.1: ``watch`` (the app alone) and ``service`` (the app behind unstall's middleware, with
the metrics endpoint serving while that batch runs). An aiohttp client sends batches of
``--batch`` requests, 32 in flight, alternating between the servers in ABBA order, so a slow
phase of a shared machine falls on both sides; each batch's process CPU time (all threads,
client included, as in ``watch_overhead_ab.py``) is measured. Printed: the median CPU per
request of each side and the median over pairs of adjacent batches of service / watch.
``asgi`` is uvicorn serving Starlette; ``aiohttp`` an aiohttp application.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from unstall.watch import MetricsServer, Watcher

Close = Callable[[], Awaitable[None]]


async def _asgi(middleware: bool) -> tuple[int, Close]:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    from unstall.integrations.asgi import UnstallMiddleware

    async def hello(request: Request) -> Response:
        return PlainTextResponse("ok")

    app: Any = Starlette(routes=[Route("/items/{item_id}", hello)])
    if middleware:
        app = UnstallMiddleware(app)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]

    async def close() -> None:
        server.should_exit = True
        await task

    return port, close


async def _aiohttp(middleware: bool) -> tuple[int, Close]:
    from aiohttp import web

    from unstall.integrations.aiohttp import unstall_middleware

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(middlewares=[unstall_middleware] if middleware else [])
    app.router.add_get("/items/{item_id}", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return port, runner.cleanup


async def _main(framework: str, batches: int, batch: int) -> tuple[list[float], list[float]]:
    import aiohttp

    watcher = Watcher(threshold_ms=100, log=False).start()
    make = _asgi if framework == "asgi" else _aiohttp
    plain_port, close_plain = await make(False)
    service_port, close_service = await make(True)
    sides: dict[str, list[float]] = {"watch": [], "service": []}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:

        async def load(port: int, n: int) -> None:
            sem = asyncio.Semaphore(32)

            async def one(i: int) -> None:
                async with sem, session.get(f"http://127.0.0.1:{port}/items/{i}") as resp:
                    await resp.read()

            await asyncio.gather(*(one(i) for i in range(n)))

        await load(plain_port, batch)  # warm both servers and the connection pool
        await load(service_port, batch)
        for i in range(2 * batches):
            side = ("watch", "service", "service", "watch")[i % 4]  # ABBA
            metrics = (
                MetricsServer("127.0.0.1:0").start(watcher.metrics) if side == "service" else None
            )
            gc.collect()
            start = time.process_time()
            await load(service_port if side == "service" else plain_port, batch)
            sides[side].append((time.process_time() - start) / batch)
            if metrics is not None:
                metrics.close()
    await close_plain()
    await close_service()
    watcher.stop()
    return sides["watch"], sides["service"]


def main() -> int:
    """Run the alternating batches and print the medians and the median paired ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--framework", choices=("asgi", "aiohttp"), default="asgi")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--batches", type=int, default=40, help="batches on each side")
    parser.add_argument("--batch", type=int, default=400, help="requests a batch")
    parser.add_argument("--cpu", default="", help="pin this process to these CPUs")
    args = parser.parse_args()
    if args.cpu:
        os.sched_setaffinity(0, {int(c) for c in args.cpu.split(",")})
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if args.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    bytes(1 << 20)  # see watch_overhead.py: the allocator's mmap threshold, raised up front
    with asyncio.Runner(loop_factory=factory) as runner:
        plain, service = runner.run(_main(args.framework, args.batches, args.batch))
    ratios = [s / p for p, s in zip(plain, service, strict=True)]
    print(
        f"{args.loop}/{args.framework}: {args.batches} batches of {args.batch} requests a side, "
        f"ABBA{f', cpu {args.cpu}' if args.cpu else ''}"
    )
    print(f"    watch      {statistics.median(plain) * 1e6:7.1f} us CPU a request")
    print(f"    service    {statistics.median(service) * 1e6:7.1f} us CPU a request")
    print(f"    service / watch (median of paired batches): x{statistics.median(ratios):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
