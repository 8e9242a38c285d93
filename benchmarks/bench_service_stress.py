"""Stress the benchmark service: start it, cycle every variant under load with a lag reset
before each, restart, and count server processes that died.

    python benchmarks/bench_service_stress.py [--seconds 150] [--no-sentinel]

The service's watcher runs with its sentinel (the helper process that asks a thread stuck in
C code for its own stack) unless ``--no-sentinel``. The faulthandler backstop it replaced read
every thread's frames from its own thread: on the 2-core machine this was written on, 3 of 41
service runs died with SIGSEGV (exit -11) in 90 s with it. See also
``benchmarks/sentinel_stress.py``, which makes the sentinel fire far more often.
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


async def stress(seconds: float, sentinel: bool) -> tuple[int, list[int]]:
    cycles, deaths = 0, []
    end = time.monotonic() + seconds
    with tempfile.TemporaryDirectory() as tmp:
        while time.monotonic() < end:
            args = ["--cpu-iterations=20000"] + ([] if sentinel else ["--no-sentinel"])
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
    parser.add_argument("--no-sentinel", action="store_true")
    args = parser.parse_args()
    cycles, deaths = asyncio.run(stress(args.seconds, not args.no_sentinel))
    print(
        f"sentinel={not args.no_sentinel}: {cycles} good cycles, {len(deaths)} dead servers {deaths}"
    )


if __name__ == "__main__":
    main()
