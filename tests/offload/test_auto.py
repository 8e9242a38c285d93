"""engine="auto": measured on a thread first, then GIL-holding CPU work moves to a process."""

from __future__ import annotations

import asyncio
import os
import time

import offload_work as work
import pytest
from tests.loops import RunLoop

import unstall
from unstall.errors import OffloadError
from unstall.offload import AutoDecision, Offloader


def _decision(off: Offloader, name: str) -> AutoDecision:
    (found,) = [d for d in off.stats().auto if d.function == name]
    return found


def test_a_pure_python_cpu_loop_moves_to_a_process(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader(processes=1, auto_samples=2) as off:
            pid, _ = await off.run(work.whoami, engine="auto")
            assert pid == os.getpid()  # measured on a thread first
            await off.run(work.spin, (0.3,), engine="auto")
            decision = _decision(off, "offload_work.spin")
            assert decision.engine == "process", decision
            assert decision.loop_lag_ms is not None
            assert decision.loop_lag_ms > 1.0
            assert decision.cpu_ratio is not None
            assert "holds the GIL" in decision.reason
            # The next call really runs in a worker process.
            (count,) = await off.map_list(work.spin, [0.01], engine="process")
            assert count > 0
            assert await off.run(work.spin, (0.01,), engine="auto") > 0
            assert off.stats().engines["process"]["workers"] == 1

    run_loop(main())


def test_sleeping_and_gil_releasing_work_stay_on_threads(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader(auto_samples=2) as off:
            for _ in range(2):
                await off.run(time.sleep, (0.05,), engine="auto")
                await off.run(work.hash_blob, (4,), engine="auto")
            sleeping = _decision(off, "time.sleep")
            assert sleeping.engine == "thread"
            assert "waiting" in sleeping.reason
            hashing = _decision(off, "offload_work.hash_blob")
            assert hashing.engine == "thread", hashing
            assert hashing.samples == 2
            assert "process" not in off.stats().engines

    run_loop(main())


def test_decisions_can_be_pinned_and_unpinned(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader(processes=1) as off:
            off.pin(work.whoami, "process")
            pid, _ = await off.run(work.whoami, engine="auto")
            assert pid != os.getpid()
            decision = _decision(off, "offload_work.whoami")
            assert decision.pinned
            assert decision.engine == "process"
            off.unpin("offload_work.whoami")
            assert off.stats().auto == ()
            with pytest.raises(OffloadError, match="'warp'"):
                off.pin(work.whoami, "warp")

    run_loop(main())


def test_unpicklable_cpu_work_stays_on_a_thread(run_loop: RunLoop) -> None:
    def local_spin(seconds: float) -> int:
        return work.spin(seconds)

    async def main() -> None:
        async with Offloader(auto_samples=1) as off:
            await off.run(local_spin, (0.3,), engine="auto")
            (decision,) = off.stats().auto
            assert decision.engine == "thread"
            assert "cannot be pickled" in decision.reason

    run_loop(main())


def test_module_level_stats_and_pin_use_the_default_offloader(run_loop: RunLoop) -> None:
    async def main() -> None:
        unstall.offload.pin(work.square, "thread")
        assert await unstall.offload.offload(engine="auto")(work.square).aio(3) == 9
        names = [d.function for d in unstall.offload.stats().auto]
        assert "offload_work.square" in names
        unstall.offload.unpin(work.square)

    run_loop(main())


def test_concurrent_first_calls_wait_for_a_gil_verdict_but_not_for_waiting_work(
    run_loop: RunLoop,
) -> None:
    async def main() -> None:
        async with Offloader(processes=1, auto_samples=1) as off:
            # The second call sees the loop starve during the first and waits for the
            # verdict instead of piling onto another thread: it runs in the process.
            first, second = await asyncio.gather(
                off.run(work.spin_pid, (0.3,), engine="auto"),
                off.run(work.spin_pid, (0.3,), engine="auto"),
            )
            assert first == os.getpid()
            assert second != os.getpid()

            # Sleeping calls are not held back by the measurement of the first one.
            started = time.perf_counter()
            await asyncio.gather(*(off.run(time.sleep, (0.3,), engine="auto") for _ in range(4)))
            assert time.perf_counter() - started < 0.9

    run_loop(main())
