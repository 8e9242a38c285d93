"""Process workers' lifetime: start methods, shutdown, parent death, dead and orphaned workers."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import offload_work as work
import pytest
from process_helpers import gone, process_engine, wait_gone
from tests.loops import RunLoop
from tests.waiting import wait_for

from unstall.errors import OffloaderClosed
from unstall.offload import Offloader
from unstall.offload._process import ProcessEngine


def test_close_leaves_no_processes_and_rejects_new_calls(run_loop: RunLoop) -> None:
    async def main() -> list[int]:
        off = Offloader(processes=2)
        await asyncio.gather(
            *(off.run(work.sleep_then, (0.05,), engine="process") for _ in range(2))
        )
        pids = process_engine(off).pids()
        assert len(pids) == 2
        await off.close()
        with pytest.raises(OffloaderClosed):
            await off.run(work.add, (1,), engine="process")
        return pids

    pids = run_loop(main())
    active = {p.pid for p in multiprocessing.active_children()}
    assert not active & set(pids)
    assert all(gone(pid) for pid in pids)


def test_close_stops_a_running_call_after_the_grace_period(
    run_loop: RunLoop, tmp_path: Path
) -> None:
    running = tmp_path / "running"

    async def main() -> None:
        off = Offloader(processes=1)
        engine = process_engine(off)
        task = asyncio.create_task(
            off.run(work.sleep_then, (30,), {"started": str(running)}, engine="process")
        )
        assert await wait_for(running.exists)
        (pid,) = engine.pids()
        started = time.monotonic()
        await engine.aclose(grace=0.2)
        assert time.monotonic() - started < 3
        with pytest.raises(OffloaderClosed):
            await task
        assert wait_gone(pid)

    run_loop(main())


def test_spawn_start_method_works(run_loop: RunLoop) -> None:
    async def main() -> int:
        async with Offloader(processes=1, start_method="spawn") as off:
            assert process_engine(off).start_method == "spawn"
            return await off.run(work.add, (5, 6), engine="process")

    assert run_loop(main()) == 11


def test_unknown_start_method_is_rejected() -> None:
    with pytest.raises(ValueError, match="start_method"):
        ProcessEngine(start_method="teleport")


def test_workers_die_with_the_parent(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import asyncio, os, signal, sys, time
        from unstall.offload import Offloader

        async def main():
            off = Offloader(processes=1)
            pid = await off.run(os.getpid, engine="process")  # the worker is up and serving
            task = asyncio.create_task(off.run(time.sleep, (60,), engine="process"))
            while not off.stats().engines["process"]["running"]:  # the call is on its way
                await asyncio.sleep(0.01)
            print(pid, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    pid = int(proc.stdout.split()[0])
    assert wait_gone(pid, 10), f"worker {pid} outlived its parent"


def test_a_worker_that_cannot_start_says_so(tmp_path: Path) -> None:
    # Without the __main__ guard, each spawned worker re-runs the script and dies at start.
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, time
            from unstall.errors import WorkerCrashed
            from unstall.offload import Offloader

            async def main():
                async with Offloader(processes=1) as off:
                    try:
                        await off.run(time.sleep, (0,), engine="process")
                    except WorkerCrashed as exc:
                        print("CRASHED:", exc)

            asyncio.run(main())
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert "CRASHED:" in proc.stdout, proc.stderr
    assert "failed to start" in proc.stdout
    assert "if __name__ == '__main__':" in proc.stdout


def test_a_call_orphaned_by_a_closed_loop_does_not_hold_its_worker(tmp_path: Path) -> None:
    off = Offloader(processes=1)
    running = tmp_path / "running"

    tasks: list[asyncio.Task[object]] = []

    async def abandon() -> None:
        tasks.append(
            asyncio.create_task(
                off.run(work.sleep_then, (30,), {"started": str(running)}, engine="process")
            )
        )
        assert await wait_for(running.exists)  # the call is running when the loop shuts down

    async def use() -> int:
        return await off.run(work.add, (1, 2), engine="process", timeout=10)

    asyncio.run(abandon())
    started = time.monotonic()
    assert asyncio.run(use()) == 3
    assert time.monotonic() - started < 5
    off.close_now()


def test_a_worker_that_dies_while_idle_is_replaced_without_failing_a_call(
    run_loop: RunLoop,
) -> None:
    off = Offloader(processes=1)

    async def one() -> int:
        pid: int = (await off.run(work.whoami, engine="process"))[0]
        return pid

    async def killed_while_watched() -> int:
        pid = await one()
        engine = process_engine(off)
        crashes = engine.describe()["crashes"]
        os.kill(pid, signal.SIGKILL)
        # the loop sees the pipe close and retires the worker, once its exit status is known
        # (a call made before then: test_process_exit_status.py)
        assert await wait_for(lambda: engine.describe()["crashes"] > crashes)
        assert engine.pids() == []
        return await one()

    first = run_loop(one())
    # Killed while no loop watches it: the next call finds the broken pipe and moves on.
    (worker,) = process_engine(off)._pool.workers
    os.kill(first, signal.SIGKILL)
    # Wait until the process has really let go of its pipes (the reply pipe reads EOF): a
    # zombie's threads may still hold them for a moment.
    assert select.select([worker.reply_fd], [], [], 5)[0]
    second = run_loop(one())
    assert second != first
    assert process_engine(off).describe()["crashes"] == 1
    third = run_loop(killed_while_watched())
    assert third not in (first, second)
    assert process_engine(off).describe()["crashes"] == 2
    off.close_now()


def test_a_closed_pool_leaves_no_stale_registration_on_the_loop(run_loop: RunLoop) -> None:
    # Closing retires idle workers whose reply pipes the loop watches; the fd numbers are
    # reused at once by the next pool's pipes, which must still be heard.
    async def main() -> None:
        async with asyncio.timeout(30):  # a lost reply would hang: fail instead
            for _ in range(3):
                async with Offloader(processes=2) as off:
                    calls = (off.run(work.add, (i, 1), engine="process") for i in range(2))
                    assert await asyncio.gather(*calls) == [1, 2]
                    assert await off.run(work.add, (1, 1), engine="process") == 2

    run_loop(main())
