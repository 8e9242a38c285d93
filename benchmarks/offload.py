"""unstall.offload against the standard library and peers, side by side, in one run.

Usage: python benchmarks/offload.py [--rounds 5] [--quick] [--dask] [--only SECTION ...]

Prints medians over ``--rounds`` interleaved rounds and, per section, the median over rounds
of each method's ratio to the reference method measured in the same round:

1. thread round trip of a no-op, sequential and with 32 concurrent callers, on asyncio and
   uvloop: unstall.to_thread vs asyncio.to_thread, loop.run_in_executor,
   anyio.to_thread.run_sync and asyncer.asyncify (when installed);
2. process round trip of a no-op (sequential): unstall.to_process vs ProcessPoolExecutor via
   run_in_executor, anyio.to_process.run_sync, a long-lived aiomultiprocess.Pool (when
   installed) and Dask on a two-worker LocalCluster of processes (``--dask``);
3. throughput of many small CPU tasks as a fraction of ideal (serial CPU time / cores), with
   the event loop's lag (p99 and max of a 1 ms heartbeat) meanwhile: unstall.map with adaptive
   chunks vs one call per item (unstall and ProcessPoolExecutor, all futures submitted at once,
   the usual pattern);
4. a GIL-holding CPU function called from the loop via engine="auto", "thread" and "process":
   wall time and loop lag.

Numbers are machine-dependent; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import importlib.util
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

CONCURRENT_CALLERS = 32


def noop() -> None:
    return None


async def async_noop() -> None:
    """aiomultiprocess runs coroutine functions only."""


def cpu_item(seconds: float) -> float:
    """Busy-wait in pure Python (holds the GIL) for ``seconds``."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass
    return seconds


# -- measuring -------------------------------------------------------------------------------


class Heartbeat:
    """Lateness of a 1 ms sleep loop: what every other request on this loop would feel."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + 0.001
            await asyncio.sleep(0.001)
            self.lags.append(max(0.0, loop.time() - expected))

    def __enter__(self) -> Heartbeat:
        self._task = asyncio.get_running_loop().create_task(self._beat())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()

    def p99_ms(self) -> float:
        if not self.lags:
            return float("nan")
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3

    def max_ms(self) -> float:
        return max(self.lags, default=float("nan")) * 1e3


async def sequential(call: Callable[[], Awaitable[Any]], n: int) -> float:
    """Microseconds per call, one caller."""
    start = time.perf_counter()
    for _ in range(n):
        await call()
    return (time.perf_counter() - start) / n * 1e6


async def many_callers(call: Callable[[], Awaitable[Any]], n: int) -> float:
    """Microseconds per call, CONCURRENT_CALLERS callers sharing ``n`` calls."""

    async def caller(count: int) -> None:
        for _ in range(count):
            await call()

    per = max(1, n // CONCURRENT_CALLERS)
    start = time.perf_counter()
    await asyncio.gather(*(caller(per) for _ in range(CONCURRENT_CALLERS)))
    return (time.perf_counter() - start) / (per * CONCURRENT_CALLERS) * 1e6


def run_on(loop_name: str, coro: Coroutine[Any, Any, Any]) -> Any:
    if loop_name == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    return asyncio.run(coro)


# section, case, loop, method, per-round values, unit
Row = tuple[str, str, str, str, list[float], str]
ROWS: list[Row] = []


def record(section: str, case: str, loop: str, method: str, values: list[float], unit: str) -> None:
    ROWS.append((section, case, loop, method, list(values), unit))


# -- 1. threads ------------------------------------------------------------------------------


async def thread_round(rounds: int, n_seq: int, n_conc: int, loop_name: str) -> None:
    import unstall
    from unstall.offload import get_default

    loop = asyncio.get_running_loop()
    methods: dict[str, Callable[[], Awaitable[Any]]] = {
        "asyncio.to_thread": lambda: asyncio.to_thread(noop),
        "unstall.to_thread": lambda: unstall.to_thread(noop),
        "loop.run_in_executor": lambda: loop.run_in_executor(None, noop),
    }
    if importlib.util.find_spec("anyio"):
        import anyio.to_thread

        methods["anyio.to_thread.run_sync"] = lambda: anyio.to_thread.run_sync(noop)
    if importlib.util.find_spec("asyncer"):
        import asyncer

        asyncified = asyncer.asyncify(noop)
        methods["asyncer.asyncify"] = lambda: asyncified()
    elif loop_name == "asyncio":
        print("note: asyncer is not installed; skipping asyncer.asyncify rows")
    for call in methods.values():  # warm up threads
        await many_callers(call, CONCURRENT_CALLERS * 4)
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for name, call in methods.items():
            results.setdefault(("sequential", name), []).append(await sequential(call, n_seq))
            results.setdefault((f"{CONCURRENT_CALLERS} callers", name), []).append(
                await many_callers(call, n_conc)
            )
    for (case, name), values in results.items():
        record("thread round trip", case, loop_name, name, values, "us/call")
    await get_default().close()


# -- 2. processes ----------------------------------------------------------------------------


async def process_round(rounds: int, n: int, loop_name: str, dask: bool) -> None:
    import unstall
    from unstall.offload import get_default

    loop = asyncio.get_running_loop()
    workers = os.cpu_count() or 2
    pool = concurrent.futures.ProcessPoolExecutor(workers)
    methods: dict[str, Callable[[], Awaitable[Any]]] = {
        "ProcessPoolExecutor": lambda: loop.run_in_executor(pool, noop),
        "unstall.to_process": lambda: unstall.to_process(noop),
    }
    if importlib.util.find_spec("anyio"):
        import anyio.to_process

        methods["anyio.to_process.run_sync"] = lambda: anyio.to_process.run_sync(noop)
    amp_pool: Any = None
    if importlib.util.find_spec("aiomultiprocess"):
        import aiomultiprocess

        amp_pool = aiomultiprocess.Pool(processes=workers)
        methods["aiomultiprocess Pool.apply"] = lambda: amp_pool.apply(async_noop, ())
    elif loop_name == "asyncio":
        print("note: aiomultiprocess is not installed; skipping aiomultiprocess rows")
    cluster: Any = None
    client: Any = None
    if dask and importlib.util.find_spec("distributed"):
        import distributed

        cluster = await distributed.LocalCluster(  # type: ignore[no-untyped-call]
            processes=True,
            n_workers=2,
            threads_per_worker=1,
            asynchronous=True,
            dashboard_address=None,
        )
        client = await distributed.Client(cluster, asynchronous=True)  # type: ignore[no-untyped-call]
        methods["dask Client.submit"] = lambda: client.submit(noop, pure=False)
    elif dask and loop_name == "asyncio":
        print("note: distributed is not installed; skipping Dask rows")
    for call in methods.values():  # warm up worker processes
        for _ in range(20):
            await call()
    results: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, call in methods.items():
            results.setdefault(name, []).append(await sequential(call, n))
    for name, values in results.items():
        record("process round trip", "sequential", loop_name, name, values, "us/call")
    pool.shutdown()
    if amp_pool is not None:
        amp_pool.close()
        await amp_pool.join()
    if client is not None:
        await client.close()
        await cluster.close()
    await get_default().close()


# -- 3. many small CPU tasks -----------------------------------------------------------------


async def throughput(items: int, seconds: float, rounds: int) -> None:
    from unstall.offload import Offloader

    cores = os.cpu_count() or 1
    ideal = items * seconds / cores
    case = f"{items} x {seconds * 1e3:g} ms"
    loop = asyncio.get_running_loop()
    outcomes: dict[str, list[tuple[float, float, float]]] = {}

    async def timed(name: str, work: Callable[[], Awaitable[Any]]) -> None:
        with Heartbeat() as beat:
            start = time.perf_counter()
            await work()
            elapsed = time.perf_counter() - start
        outcomes.setdefault(name, []).append((ideal / elapsed, beat.p99_ms(), beat.max_ms()))

    async with Offloader(processes=cores) as off:
        pool = concurrent.futures.ProcessPoolExecutor(cores)
        await asyncio.gather(*(loop.run_in_executor(pool, noop) for _ in range(cores * 2)))
        await off.map_list(noop_item, range(cores * 4), engine="process", chunksize=1)
        for _ in range(rounds):
            await timed(
                "unstall.map (adaptive chunks)",
                lambda: off.map_list(cpu_item, [seconds] * items, engine="process"),
            )
            await timed(
                "unstall.map (chunksize=1)",
                lambda: off.map_list(cpu_item, [seconds] * items, engine="process", chunksize=1),
            )
            await timed(
                "ProcessPoolExecutor, a future per item",
                lambda: asyncio.gather(
                    *(loop.run_in_executor(pool, cpu_item, seconds) for _ in range(items))
                ),
            )
        pool.shutdown()
    for name, values in outcomes.items():
        record("map throughput", case, "asyncio", name, [v[0] for v in values], "x ideal")
        record("map loop lag p99", case, "asyncio", name, [v[1] for v in values], "ms")
        record("map loop lag max", case, "asyncio", name, [v[2] for v in values], "ms")


def noop_item(_: object) -> None:
    return None


# -- 4. a GIL-holding function ---------------------------------------------------------------


async def gil_holder(calls: int, seconds: float, rounds: int) -> None:
    from unstall.offload import Offloader

    outcomes: dict[str, list[tuple[float, float, float]]] = {}
    for _ in range(rounds):
        for engine in ("thread", "process", "auto"):
            async with Offloader(processes=2) as off:
                await off.run(noop, engine="process")  # a warm worker, for a fair comparison
                with Heartbeat() as beat:
                    start = time.perf_counter()
                    for _ in range(calls // 2):
                        await asyncio.gather(
                            off.run(cpu_item, (seconds,), engine=engine),
                            off.run(cpu_item, (seconds,), engine=engine),
                        )
                    elapsed = time.perf_counter() - start
                outcomes.setdefault(engine, []).append((elapsed, beat.p99_ms(), beat.max_ms()))
    case = f"{calls} x {seconds * 1e3:g} ms, 2 at a time"
    for engine, values in outcomes.items():
        name = f'engine="{engine}"'
        record("GIL-holding wall time", case, "asyncio", name, [v[0] for v in values], "s")
        record("GIL-holding loop lag p99", case, "asyncio", name, [v[1] for v in values], "ms")
        record("GIL-holding loop lag max", case, "asyncio", name, [v[2] for v in values], "ms")


# -- report ----------------------------------------------------------------------------------

REFERENCES = {
    "thread round trip": "asyncio.to_thread",
    "process round trip": "ProcessPoolExecutor",
    "map throughput": "ProcessPoolExecutor, a future per item",
    "GIL-holding wall time": 'engine="thread"',
}


def print_table() -> None:
    header = f"{'section':<26} {'case':<24} {'loop':<8} {'method':<40} {'median':>12}  ratio"
    print(header)
    print("-" * len(header))
    for section, case, loop, method, values, unit in ROWS:
        value = statistics.median(values)
        reference = REFERENCES.get(section)
        ratio = ""
        if reference is not None:
            base = [r[4] for r in ROWS if r[:3] == (section, case, loop) and r[3] == reference]
            if base and len(base[0]) == len(values) and all(base[0]):
                # Median of the per-round ratios: rounds are interleaved, so each ratio
                # compares runs made under the same machine load.
                ratios = [v / b for v, b in zip(values, base[0], strict=True)]
                ratio = f"{statistics.median(ratios):.2f}x"
        shown = f"{value:.2f} {unit}" if unit != "us/call" else f"{value:.1f} {unit}"
        print(f"{section:<26} {case:<24} {loop:<8} {method:<40} {shown:>12}  {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about 1 minute)")
    parser.add_argument("--dask", action="store_true", help="include Dask (starts a cluster)")
    parser.add_argument(
        "--only",
        choices=("thread", "process", "map", "auto"),
        action="append",
        help="run only these sections (repeatable; default: all)",
    )
    args = parser.parse_args()
    only = set(args.only or ("thread", "process", "map", "auto"))
    scale = 0.25 if args.quick else 1.0
    n_seq, n_conc, n_proc = int(2000 * scale), int(4000 * scale), int(500 * scale)
    loops = ["asyncio"]
    if importlib.util.find_spec("uvloop"):
        loops.append("uvloop")
    started = time.perf_counter()
    for loop_name in loops:
        if "thread" in only:
            run_on(loop_name, thread_round(args.rounds, n_seq, n_conc, loop_name))
        if "process" in only:
            run_on(loop_name, process_round(args.rounds, n_proc, loop_name, args.dask))
    map_rounds = max(1, args.rounds // 2)
    if "map" in only:
        asyncio.run(throughput(int(10_000 * scale), 0.0001, map_rounds))
        asyncio.run(throughput(int(1_000 * scale), 0.001, map_rounds))
        asyncio.run(throughput(max(8, int(100 * scale)), 0.05, map_rounds))
    if "auto" in only:
        asyncio.run(gil_holder(8, 0.05, max(1, args.rounds // 2)))
    print(f"cpus={os.cpu_count()} rounds={args.rounds} quick={args.quick}")
    print_table()
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
