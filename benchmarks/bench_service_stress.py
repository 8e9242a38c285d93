"""Stress the benchmark service: start it, cycle every variant under load with a lag reset
before each, restart, and count server processes that died.

    python benchmarks/bench_service_stress.py [--seconds 150] [--backstop]

``--backstop`` arms ``unstall.watch``'s faulthandler backstop in the service (``unstall bench``
leaves it off). On the 2-core machine this was written on, with the backstop 3 of 41 service
runs died with SIGSEGV (exit -11) in 90 s, and an earlier run died in its first cycle; without
it, 0 of 39 (and 0 of 59 in an earlier 150 s run).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from unstall.bench import run_load
from unstall.bench._runner import ServerProcess, get_json

PATHS = ("/sleep/blocking", "/cpu/inline", "/sleep/async", "/cpu/thread", "/cpu/auto")


async def stress(seconds: float, backstop: bool) -> tuple[int, list[int]]:
    cycles, deaths = 0, []
    end = time.monotonic() + seconds
    with tempfile.TemporaryDirectory() as tmp:
        while time.monotonic() < end:
            args = ["--cpu-iterations=20000"] + (["--backstop"] if backstop else [])
            server = await ServerProcess.start("service", *args, log_dir=Path(tmp))
            try:
                for path in PATHS:
                    await get_json(server.url, "/__unstall/reset")
                    await run_load(server.url + path, concurrency=8, duration=0.3)
                    await get_json(server.url, "/__unstall/lag")
                cycles += 1
            except (OSError, RuntimeError, asyncio.IncompleteReadError):
                await asyncio.sleep(0.5)
                deaths.append(server.proc.returncode if server.proc.returncode is not None else 0)
                print(f"server died after {cycles} good cycles: exit {server.proc.returncode}")
                print(server.log_tail())
            finally:
                await server.stop()
    return cycles, deaths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--backstop", action="store_true")
    args = parser.parse_args()
    cycles, deaths = asyncio.run(stress(args.seconds, args.backstop))
    print(f"backstop={args.backstop}: {cycles} good cycles, {len(deaths)} dead servers {deaths}")


if __name__ == "__main__":
    main()
