"""Overhead of ``unstall.watch()`` on real workloads, side by side, each run in a fresh process.

Usage: python benchmarks/watch_overhead.py [--repeat 5] [--quick]

Workloads: (a) 100k short task steps, (b) 20k loopback echo round trips over asyncio streams,
(c) an aiohttp server on 127.0.0.1 under 32 concurrent aiohttp clients. Configurations: bare,
watch() (heartbeat), watch(iteration_timing=True), watch(tripwire=True), asyncio debug mode, and peer tools when importable. Prints the
median wall time of each and its ratio to bare, on asyncio and uvloop.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time

CONFIGS = (
    "bare",
    "watch",
    "watch_iter",
    "tripwire",
    "debug",
    "blockbuster",
    "aiocop",
    "pyleak",
    "aiodebug",
)
WORKLOADS = ("steps", "echo", "http")


def _available(config: str) -> str | None:
    """``None`` when the configuration can run, else the reason it cannot."""
    if config == "tripwire":
        return (
            None
            if importlib.util.find_spec("unstall.watch._tripwire")
            else "tripwire not built yet"
        )
    if config in ("blockbuster", "aiocop", "pyleak", "aiodebug"):
        return (
            None
            if importlib.util.find_spec(config)
            else f"{config} not installed in this environment"
        )
    return None


CHILD = r"""
import asyncio, sys, time
workload, config, loop_kind, scale = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])

async def steps():
    async def worker(n):
        for _ in range(n):
            await asyncio.sleep(0)
    await asyncio.gather(*(worker(int(25_000 * scale)) for _ in range(4)))

async def echo():
    async def handle(r, w):
        while data := await r.read(64):
            w.write(data)
            await w.drain()
        w.close()
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    r, w = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(int(20_000 * scale)):
        w.write(b"ping")
        await r.readexactly(4)
    w.close()
    server.close()

async def http():
    import aiohttp
    from aiohttp import web
    async def hello(request):
        return web.Response(text="ok")
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    total = int(4000 * scale)
    async with aiohttp.ClientSession() as session:
        sem = asyncio.Semaphore(32)
        async def one():
            async with sem:
                async with session.get(f"http://127.0.0.1:{port}/") as resp:
                    await resp.read()
        await asyncio.gather(*(one() for _ in range(total)))
    await runner.cleanup()

async def main():
    if config == "watch":
        import unstall
        unstall.watch(threshold_ms=100)
    elif config == "watch_iter":
        import unstall
        unstall.watch(threshold_ms=100, iteration_timing=True)
    elif config == "tripwire":
        import unstall
        unstall.watch(threshold_ms=100, tripwire=True)
    start = time.perf_counter()
    await {"steps": steps, "echo": echo, "http": http}[workload]()
    print(time.perf_counter() - start)

if loop_kind == "uvloop":
    import uvloop
    with asyncio.Runner(loop_factory=uvloop.new_event_loop, debug=config == "debug") as r:
        r.run(main())
else:
    asyncio.run(main(), debug=config == "debug")
"""


def _once(workload: str, config: str, loop: str, scale: float) -> float:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, workload, config, loop, str(scale)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    """Run every workload x configuration x loop and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--loops", default="asyncio,uvloop")
    args = parser.parse_args()
    results: dict[str, dict[str, float | str]] = {}
    for loop in args.loops.split(","):
        for workload in WORKLOADS:
            runnable = [c for c in CONFIGS if _available(c) is None]
            times: dict[str, list[float]] = {c: [] for c in runnable}
            for i in range(args.repeat):
                order = runnable if i % 2 == 0 else list(reversed(runnable))
                for config in order:
                    times[config].append(_once(workload, config, loop, args.scale))
            row: dict[str, float | str] = {}
            bare = statistics.median(times["bare"])
            for config in CONFIGS:
                reason = _available(config)
                row[config] = f"n/a ({reason})" if reason else statistics.median(times[config])
            results[f"{loop}/{workload}"] = row
            cells = [f"{loop}/{workload}:".ljust(16), f"bare {bare * 1e3:8.1f}ms"]
            for config in CONFIGS[1:]:
                value = row[config]
                cells.append(
                    f"{config} n/a" if isinstance(value, str) else f"{config} x{value / bare:.3f}"
                )
            print("  ".join(cells), flush=True)
    notes = {c: _available(c) for c in CONFIGS if _available(c)}
    for config, reason in notes.items():
        print(f"note: {config}: n/a ({reason})")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"total {time.perf_counter() - start:.0f}s")
    sys.exit(code)
