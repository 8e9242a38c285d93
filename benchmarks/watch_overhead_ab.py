"""In-process A/B of the watcher's modes: CPU time of one workload, bare vs watched.

Usage: python benchmarks/watch_overhead_ab.py [--repeat 31] [--workload steps|echo|http|asgi]
                                              [--loop asyncio|uvloop] [--modes ...] [--cpu 1]

Complements ``watch_overhead.py`` (a fresh process per run): here every run shares one warm
interpreter and the modes alternate within each round (order reversed every other round), so
a slow phase of the machine, which on a small VM lasts seconds and moves whole runs by 30%,
falls on both sides of a comparison. Two figures per mode: the median process CPU time (all
threads, so the watchdog's own work counts) and the median over rounds of that round's ratio
to its bare run. Modes: ``bare``; ``off`` (heartbeat + watchdog, no iteration timing);
``thread`` (bare plus one idle thread: while a process has a second thread, Linux takes a
reference on the file for each system call on a descriptor, which the watchdog's thread pays
too); ``sampled`` (the default: iterations timed 20 ms of every second; on uvloop the same as
``off``); ``always`` (every iteration timed); ``nohygiene`` (``sampled`` without the run-time
checks of asyncio mistakes); ``service`` (``sampled`` plus what a service
turns on: the ``/metrics`` endpoint, and the framework middleware on ``http`` and ``asgi``),
and each half alone, ``metrics`` and ``middleware``; their ratios to ``sampled`` are printed
too. Workloads: ``steps``, 100k ``asyncio.sleep(0)``
steps over 4 tasks; ``echo``, 20k round trips over asyncio streams to a blocking echo server
in another process; ``http``, 4,000 requests to an aiohttp server on 127.0.0.1, 32 in flight;
``asgi``, the same to uvicorn serving a Starlette app on the same loop. Every mode waits
0.3 s after its set-up before the timed part: the steady state is measured, not the watcher's
start (its sentinel process, which inherits the pinned CPU, starts then).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable

from unstall.watch import MetricsServer, Watcher

MODES = (
    "bare",
    "thread",
    "off",
    "sampled",
    "always",
    "nohygiene",
    "metrics",
    "middleware",
    "service",
)
Body = Callable[[], Awaitable[None]]
SETTLE = 0.3  # seconds every mode waits after its set-up, before the timed part
# units of work per run: sleep(0) steps, echo round trips, HTTP requests (asgi uses "http")
SIZES = {"steps": 100_000, "echo": 20_000, "http": 4000}
THRESHOLD_MS = 100.0  # the watcher's stall threshold (its default)

ECHO_SERVER = """
import socket, sys
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen()
print(srv.getsockname()[1], flush=True)
while True:
    conn, _ = srv.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while data := conn.recv(64):
        conn.sendall(data)
    conn.close()
"""


async def _steps() -> None:
    async def worker(n: int) -> None:
        for _ in range(n):
            await asyncio.sleep(0)

    await asyncio.gather(*(worker(SIZES["steps"] // 4) for _ in range(4)))


async def _echo_setup(port: int) -> tuple[Body, Body]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def trips() -> None:
        for _ in range(SIZES["echo"]):
            writer.write(b"ping")
            await reader.readexactly(4)

    async def close() -> None:
        writer.close()
        await writer.wait_closed()

    return trips, close


async def _load(port: int, path: str = "/") -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        sem = asyncio.Semaphore(32)

        async def one() -> None:
            async with sem, session.get(f"http://127.0.0.1:{port}{path}") as resp:
                await resp.read()

        await asyncio.gather(*(one() for _ in range(SIZES["http"])))


async def _http_setup(middleware: bool) -> tuple[Body, Body]:
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

    async def load() -> None:
        await _load(port, "/items/42")

    return load, runner.cleanup


async def _asgi_setup(middleware: bool) -> tuple[Body, Body]:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    from unstall.integrations.asgi import UnstallMiddleware

    async def hello(request: Request) -> Response:
        return PlainTextResponse("ok")

    app: object = Starlette(routes=[Route("/items/{item_id}", hello)])
    if middleware:
        app = UnstallMiddleware(app)  # type: ignore[arg-type]
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]

    async def load() -> None:
        await _load(port, "/items/42")

    async def close() -> None:
        server.should_exit = True
        await task

    return load, close


async def _run(mode: str, workload: str, echo_port: int) -> float:
    watcher = None
    metrics = None
    idle: threading.Thread | None = None
    done = threading.Event()
    if mode == "thread":  # what any second thread costs the loop's system calls
        idle = threading.Thread(target=done.wait, daemon=True)
        idle.start()
    elif mode != "bare":
        timing = mode if mode in ("off", "sampled", "always") else "sampled"
        watcher = Watcher(
            threshold_ms=THRESHOLD_MS,
            log=False,
            iteration_timing=timing,
            hygiene=mode != "nohygiene",
        ).start()
    # what a service adds to the watcher: the /metrics endpoint and the framework middleware
    if mode in ("metrics", "service") and watcher is not None:
        metrics = MetricsServer("127.0.0.1:0").start(watcher.metrics)
    middleware = mode in ("middleware", "service")
    cleanup = None
    body: Body = _steps
    if workload == "http":
        body, cleanup = await _http_setup(middleware)
    elif workload == "asgi":
        body, cleanup = await _asgi_setup(middleware)
    elif workload == "echo":
        body, cleanup = await _echo_setup(echo_port)
    # steady state: the watcher's one-off start (its sentinel, a Python process that inherits
    # the pinned CPU, starts now) is not what a service pays per request
    await asyncio.sleep(SETTLE)
    gc.collect()
    start = time.process_time()
    await body()
    spent = time.process_time() - start
    if cleanup is not None:
        await cleanup()
    if metrics is not None:
        metrics.close()
    if watcher is not None:
        watcher.stop()
    if idle is not None:
        done.set()
        idle.join()
    return spent


def main() -> int:
    """Alternate the modes ``--repeat`` times and print median CPU ms and the ratio to bare."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=31)
    parser.add_argument("--workload", choices=("steps", "echo", "http", "asgi"), default="steps")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset")
    parser.add_argument("--cpu", default="", help="pin this process (and the echo server) here")
    args = parser.parse_args()
    unknown = [m for m in args.modes.split(",") if m and m not in MODES]
    if unknown:
        parser.error(f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}")
    if args.cpu:
        if not hasattr(os, "sched_setaffinity"):
            parser.error("--cpu needs os.sched_setaffinity (Linux).")
        try:
            os.sched_setaffinity(0, {int(c) for c in args.cpu.split(",")})
        except ValueError:
            parser.error(f"--cpu {args.cpu!r} is not a comma-separated list of CPU numbers.")
    factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
    if args.loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            parser.error("--loop uvloop needs uvloop installed.")
        factory = uvloop.new_event_loop
    modes = ["bare", *(m for m in args.modes.split(",") if m and m != "bare")]
    bytes(1 << 20)  # see watch_overhead.py: the allocator's mmap threshold, raised up front
    server = None
    echo_port = 0
    if args.workload == "echo":
        server = subprocess.Popen(
            [sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE, text=True
        )
        assert server.stdout is not None
        echo_port = int(server.stdout.readline())
    times: dict[str, list[float]] = {m: [] for m in modes}
    try:
        for i in range(args.repeat):
            for mode in modes if i % 2 else list(reversed(modes)):
                with asyncio.Runner(loop_factory=factory) as runner:
                    times[mode].append(runner.run(_run(mode, args.workload, echo_port)))
    finally:
        if server is not None:
            server.kill()
            server.wait()
    print(
        f"{args.loop}/{args.workload}: median process CPU over {args.repeat} alternating rounds"
        f"{f', cpu {args.cpu}' if args.cpu else ''}"
    )
    for mode in modes:
        value = statistics.median(times[mode])
        # each round's ratio to that round's bare run, then the median of those
        ratio = statistics.median(t / b for t, b in zip(times[mode], times["bare"], strict=True))
        print(f"    {mode:<8} {value * 1e3:8.1f} ms  x{ratio:.3f}")
    for extra in ("nohygiene", "metrics", "middleware", "service"):
        if extra in times and "sampled" in times:
            paired = statistics.median(
                t / b for t, b in zip(times[extra], times["sampled"], strict=True)
            )
            print(f"    {extra} / sampled (paired, median): x{paired:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
