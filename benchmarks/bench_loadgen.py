"""What the load generator itself costs: requests/s it can drive against a server that answers
at once, with the bench's own stream client vs closed-loop workers on an aiohttp ClientSession
and on an httpx.AsyncClient, side by side in one run.

    python benchmarks/bench_loadgen.py [--seconds 3] [--concurrency 16]

The server is the bench's upstream (aiohttp) with no delay, in its own process. The faster
the client, the less the benchmark measures itself instead of the service. One run on the
2-core development machine (2 s x 3 rounds, 16 workers, medians): unstall.bench 16,293 req/s,
aiohttp 9,542 (0.59x), httpx 523 (0.03x; 913 req/s sequentially, so its pool, not the server,
is the limit under concurrency).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx

from unstall.bench import run_load
from unstall.bench._runner import ServerProcess


async def _closed_loop(
    get: Callable[[], Awaitable[int]], concurrency: int, seconds: float
) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            if await get() == 200:
                done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - t0)


async def bench_aiohttp(url: str, concurrency: int, seconds: float) -> float:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:

        async def get() -> int:
            async with s.get(url) as response:
                await response.read()
                return response.status

        return await _closed_loop(get, concurrency, seconds)


async def bench_httpx(url: str, concurrency: int, seconds: float) -> float:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def get() -> int:
            return (await client.get(url)).status_code

        return await _closed_loop(get, concurrency, seconds)


async def bench_unstall(url: str, concurrency: int, seconds: float) -> float:
    return (await run_load(url, concurrency=concurrency, duration=seconds)).rps


async def main(seconds: float, concurrency: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = await ServerProcess.start("upstream", "--delay-ms=0", log_dir=Path(tmp))
        try:
            url = server.url + "/"
            results: dict[str, list[float]] = {"unstall.bench": [], "aiohttp": [], "httpx": []}
            for _ in range(rounds):  # interleaved, so drift in machine load hits all alike
                results["unstall.bench"].append(await bench_unstall(url, concurrency, seconds))
                results["aiohttp"].append(await bench_aiohttp(url, concurrency, seconds))
                results["httpx"].append(await bench_httpx(url, concurrency, seconds))
        finally:
            await server.stop()
    base = statistics.median(results["unstall.bench"])
    print(f"closed-loop GET, {concurrency} workers, {seconds:g} s x {rounds} rounds (median req/s)")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"  {name:<14} {median:8.0f} req/s   {median / base:5.2f}x of unstall.bench")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.rounds))
