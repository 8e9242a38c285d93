"""A dead worker whose exit status comes late: calls, kills and shutdown meanwhile raise nothing.

A worker's pipes close as it dies; how it ended is known a moment later, and the engine looks
again until it is. Whatever happens in between (a new call, a close, the loop closing) must
neither raise into the host's loop nor leave a process, a pipe or a slot behind. The
forkserver that reaps the workers is held stopped to keep that moment open for as long as
the test needs.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import select
import signal
from pathlib import Path

import offload_work as work
import pytest
from process_helpers import (
    exit_status_held,
    loop_errors,
    open_fds,
    process_engine,
    wait_gone,
)
from tests.loops import RunLoop
from tests.waiting import wait_for

from unstall.offload import Offloader
from unstall.offload._process import ProcessEngine

pytestmark = pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(),
    reason="holds back exit statuses by stopping the forkserver",
)

#: The engine looks again at an unknown exit status every 5 ms: a timer of ours due after
#: this runs after any look that was due when it was set.
NEXT_LOOK = 0.02


async def started_forkserver() -> None:
    """Start the forkserver (and its fds in this process) before a test counts fds."""
    async with Offloader(processes=1, start_method="forkserver") as off:
        await off.run(work.add, (1,), engine="process")


async def status_pending(engine: ProcessEngine, pid: int) -> None:
    """Kill worker ``pid`` and return once the loop saw its pipe close (status held back)."""
    os.kill(pid, signal.SIGKILL)
    # Checked on every turn of the loop: the engine gives up on a status after 200 ms.
    assert await wait_for(lambda: pid not in engine.pids(), interval=0)
    assert engine.describe()["crashes"] == 0  # its exit status is not known yet


def test_a_call_made_while_a_dead_idle_workers_status_is_pending_runs_on_a_new_worker(
    run_loop: RunLoop,
) -> None:
    async def main() -> None:
        raised = loop_errors(asyncio.get_running_loop())
        await started_forkserver()
        fds = open_fds()
        off = Offloader(processes=1, start_method="forkserver")
        engine = process_engine(off)
        first, _ = await off.run(work.whoami, engine="process")
        (worker,) = engine._pool.workers
        with exit_status_held(first) as release:
            await status_pending(engine, first)
            release()
            # Blocking the loop until the status is on its way, so that the engine's next
            # look at it cannot come before the new call.
            assert select.select([worker.proc.sentinel], [], [], 5)[0]
            second, _ = await off.run(work.whoami, engine="process")
        assert second != first
        assert await wait_for(lambda: raised or engine.describe()["crashes"])
        await off.close()
        assert raised == []
        assert engine.describe()["crashes"] == 1
        assert wait_gone(first)
        assert wait_gone(second)
        assert not {p.pid for p in multiprocessing.active_children()} & {first, second}
        assert open_fds() == fds

    run_loop(main())


def test_closing_while_a_dead_workers_status_is_pending_raises_nothing(run_loop: RunLoop) -> None:
    async def main() -> None:
        raised = loop_errors(asyncio.get_running_loop())
        await started_forkserver()
        fds = open_fds()
        off = Offloader(processes=1, start_method="forkserver")
        engine = process_engine(off)
        pid, _ = await off.run(work.whoami, engine="process")
        (worker,) = engine._pool.workers
        with exit_status_held(pid) as release:
            await status_pending(engine, pid)
            release()
            assert select.select([worker.proc.sentinel], [], [], 5)[0]
            off.close_now()
        await asyncio.sleep(NEXT_LOOK)  # the engine's look at the status, due by now, has run
        assert raised == []
        assert engine._pool.empty()
        assert wait_gone(pid)
        assert open_fds() == fds

    run_loop(main())


def test_a_worker_dead_mid_call_when_its_loop_closes_gives_its_slot_back(
    run_loop: RunLoop, tmp_path: Path
) -> None:
    off = Offloader(processes=1, start_method="forkserver")
    engine = process_engine(off)
    running = tmp_path / "running"

    async def whoami() -> int:
        pid: int = (await off.run(work.whoami, engine="process"))[0]
        return pid

    async def die_mid_call(pid: int) -> None:
        call = asyncio.create_task(
            off.run(work.sleep_then, (30,), {"started": str(running)}, engine="process")
        )
        assert await wait_for(running.exists)
        await status_pending(engine, pid)
        # The loop closes now, before the engine learns how the worker ended.
        assert not call.done()

    async def use() -> int:
        return await off.run(work.add, (1, 2), engine="process", timeout=10)

    first = run_loop(whoami())
    with exit_status_held(first):
        run_loop(die_mid_call(first))
    assert run_loop(use()) == 3
    off.close_now()
    assert wait_gone(first)
