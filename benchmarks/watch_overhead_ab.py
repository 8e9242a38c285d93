"""In-process A/B of the watcher's modes: process CPU time of one workload, bare vs watched.

Usage: python benchmarks/watch_overhead_ab.py [--repeat 7] [--workload steps|http] [--modes ...]

Complements ``watch_overhead.py`` (fresh process per run, wall and CPU): here every run
shares one warm interpreter, configurations alternate order each round, and the figure is the
median process CPU time (all threads, so the watchdog's own work counts) of the timed part.
Modes: ``bare``; ``off`` (heartbeat + watchdog + backstop, no iteration timing); ``sampled``
(the default: iterations timed 20 ms of every second); ``always`` (every iteration timed).
Steps: 100k ``asyncio.sleep(0)`` steps over 4 tasks. Http: 4,000 requests to an aiohttp
server on 127.0.0.1, 32 in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable

from unstall.watch import Watcher

MODES = ("bare", "off", "sampled", "always")


async def _steps() -> None:
    async def worker(n: int) -> None:
        for _ in range(n):
            await asyncio.sleep(0)

    await asyncio.gather(*(worker(25_000) for _ in range(4)))


async def _http_setup() -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    import aiohttp
    from aiohttp import web

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def load() -> None:
        async with aiohttp.ClientSession() as session:
            sem = asyncio.Semaphore(32)

            async def one() -> None:
                async with sem, session.get(f"http://127.0.0.1:{port}/") as resp:
                    await resp.read()

            await asyncio.gather(*(one() for _ in range(4000)))

    return load, runner.cleanup


async def _run(mode: str, workload: str) -> float:
    watcher = None
    if mode != "bare":
        watcher = Watcher(threshold_ms=100, log=False, iteration_timing=mode).start()
    cleanup = None
    body: Callable[[], Awaitable[None]] = _steps
    if workload == "http":
        body, cleanup = await _http_setup()
    gc.collect()
    start = time.process_time()
    await body()
    spent = time.process_time() - start
    if cleanup is not None:
        await cleanup()
    if watcher is not None:
        watcher.stop()
    return spent


def main() -> int:
    """Alternate the modes ``--repeat`` times and print median CPU ms and the ratio to bare."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--workload", choices=("steps", "http"), default="steps")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset")
    args = parser.parse_args()
    modes = ["bare", *(m for m in args.modes.split(",") if m in MODES and m != "bare")]
    times: dict[str, list[float]] = {m: [] for m in modes}
    for i in range(args.repeat):
        for mode in modes if i % 2 else list(reversed(modes)):
            times[mode].append(asyncio.run(_run(mode, args.workload)))
    print(f"{args.workload}: median process CPU over {args.repeat} alternating rounds")
    for mode in modes:
        value = statistics.median(times[mode])
        # each round's ratio to that round's bare run, then the median of those
        ratio = statistics.median(t / b for t, b in zip(times[mode], times["bare"], strict=True))
        print(f"    {mode:<8} {value * 1e3:8.1f} ms  x{ratio:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
