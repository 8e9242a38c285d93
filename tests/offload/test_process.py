"""The process engine and unstall.to_process on real worker processes, on asyncio and uvloop."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
import traceback
from pathlib import Path

import offload_work as work
import pytest
from offload_work import Runner

import unstall
from unstall.errors import NotPicklable, OffloaderClosed, OffloadError, WorkerCrashed
from unstall.offload import Offloader
from unstall.offload._process import ProcessEngine


def _process_engine(off: Offloader) -> ProcessEngine:
    engine = off.engine("process")
    assert isinstance(engine, ProcessEngine)
    return engine


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie has exited; only its parent's bookkeeping is left


def _wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.02)
    return False


def test_to_process_runs_in_another_process(run: Runner) -> None:
    async def main() -> int:
        assert await unstall.to_process(work.add, 2, b=40) == 42
        pid: int = (await unstall.to_process(work.whoami))[0]
        return pid

    assert run(main()) != os.getpid()


def test_exception_type_and_worker_traceback_are_kept(run: Runner) -> None:
    async def main() -> None:
        await unstall.to_process(work.fail, "bad input")

    with pytest.raises(work.WorkFailed, match="bad input") as info:
        run(main())
    text = "".join(traceback.format_exception(info.value))
    assert "Traceback in worker process" in text
    assert "raise WorkFailed(message)" in text


@pytest.mark.parametrize(
    ("crash", "exitcode"), [(work.exit_now, 3), (work.kill_self, -signal.SIGKILL)]
)
def test_a_dead_worker_fails_only_its_call_and_the_pool_heals(
    run: Runner, crash: object, exitcode: int
) -> None:
    async def main() -> None:
        async with Offloader(processes=2) as off:
            other = asyncio.create_task(off.run(work.sleep_then, (0.4, "ok"), engine="process"))
            await asyncio.sleep(0.1)
            args = (3,) if crash is work.exit_now else ()
            with pytest.raises(WorkerCrashed) as info:
                await off.run(crash, args, engine="process")  # type: ignore[arg-type]
            assert info.value.exitcode == exitcode
            assert info.value.function is not None
            assert info.value.function.endswith(crash.__name__)  # type: ignore[attr-defined]
            assert "Only this call failed" in str(info.value)
            assert await other == "ok"
            results = await asyncio.gather(
                *(off.run(work.add, (i, 1), engine="process") for i in range(4))
            )
            assert results == [1, 2, 3, 4]
            assert off.stats().engines["process"]["crashes"] == 1

    run(main())


def test_not_picklable_names_the_argument(run: Runner) -> None:
    def local_function() -> None:
        pass

    async def main() -> None:
        with pytest.raises(NotPicklable) as info:
            await unstall.to_process(lambda: 1)
        assert info.value.what == "function"
        assert "lambda" in str(info.value)

        with pytest.raises(NotPicklable) as info:
            await unstall.to_process(work.add, 1, local_function)
        assert info.value.what == "argument 1"
        assert "local_function" in str(info.value)

        with socket.socket() as sock, pytest.raises(NotPicklable) as info:
            await unstall.to_process(work.add, 1, b=sock)
        assert info.value.what == "keyword 'b'"
        assert "socket" in str(info.value)
        assert "engine='thread'" in str(info.value)

        with pytest.raises(NotPicklable) as info:
            await unstall.to_process(work.unpicklable_result)
        assert info.value.what == "result"

    run(main())


def test_timeout_kills_and_replaces_only_that_worker(run: Runner) -> None:
    async def main() -> None:
        async with Offloader(processes=2) as off:
            engine = _process_engine(off)
            other = asyncio.create_task(off.run(work.sleep_then, (0.6, "other"), engine="process"))
            await asyncio.sleep(0.1)
            with pytest.raises(TimeoutError, match="terminated"):
                await off.run(work.whoami_after, (30,), engine="process", timeout=0.3)
            assert await other == "other"
            assert len(engine.pids()) == 1
            assert await off.run(work.add, (1, 2), engine="process") == 3

    run(main())


def test_timeout_kills_the_stuck_worker(run: Runner, tmp_path: Path) -> None:
    marker = tmp_path / "finished"

    async def main() -> int:
        async with Offloader(processes=1) as off:
            engine = _process_engine(off)
            await off.run(work.add, (0, 0), engine="process")
            (pid,) = engine.pids()
            with pytest.raises(TimeoutError):
                await off.run(
                    work.sleep_and_touch, (2.0, str(marker)), engine="process", timeout=0.2
                )
            new_pid, _ = await off.run(work.whoami, engine="process")
            assert new_pid != pid
            return pid

    pid = run(main())
    assert _wait_gone(pid)
    assert not marker.exists()


def test_cancel_kill_terminates_the_worker_and_cancel_wait_lets_it_finish(
    run: Runner, tmp_path: Path
) -> None:
    killed_marker = tmp_path / "killed"
    waited_marker = tmp_path / "waited"

    async def main() -> None:
        async with Offloader(processes=1) as off:
            engine = _process_engine(off)
            task = asyncio.create_task(
                off.run(
                    work.sleep_and_touch, (1.0, str(killed_marker)), engine="process", cancel="kill"
                )
            )
            await asyncio.sleep(0.3)
            (pid,) = engine.pids()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert engine.pids() == []
            assert _wait_gone(pid)

            task = asyncio.create_task(
                off.run(work.sleep_and_touch, (0.3, str(waited_marker)), engine="process")
            )
            await asyncio.sleep(0.15)
            (pid,) = engine.pids()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The worker finishes the call in the background, then serves the next one.
            assert await off.run(work.add, (1, 1), engine="process") == 2
            assert engine.pids() == [pid]

    run(main())
    assert not killed_marker.exists()
    assert waited_marker.exists()


def test_cancelled_before_start_never_runs(run: Runner, tmp_path: Path) -> None:
    marker = tmp_path / "never"

    async def main() -> None:
        async with Offloader(processes=1) as off:
            busy = asyncio.create_task(off.run(work.sleep_then, (0.3, 1), engine="process"))
            await asyncio.sleep(0.05)
            queued = asyncio.create_task(off.run(work.touch, (str(marker),), engine="process"))
            await asyncio.sleep(0.05)
            queued.cancel()
            with pytest.raises(asyncio.CancelledError):
                await queued
            assert await busy == 1
            assert await off.run(work.add, (2, 2), engine="process") == 4

    run(main())
    assert not marker.exists()


def test_bounded_concurrency(run: Runner) -> None:
    async def main() -> None:
        async with Offloader(processes=2) as off:
            tasks = [
                asyncio.create_task(off.run(work.sleep_then, (0.2, i), engine="process"))
                for i in range(5)
            ]
            await asyncio.sleep(0.1)
            described = off.stats().engines["process"]
            assert described["running"] == 2
            assert described["waiting"] == 3
            assert await asyncio.gather(*tasks) == list(range(5))
            assert off.stats().engines["process"]["workers"] == 2

    run(main())


def test_worker_log_records_reach_the_parent_handlers(
    run: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def main() -> int:
        async with Offloader(processes=1) as off:
            return await off.run(work.log_something, ("hello",), engine="process")

    pid = run(main())
    records = [r for r in caplog.records if r.name == "offload.worker.test"]
    assert [r.getMessage() for r in records] == ["from worker: hello"]
    assert records[0].process == pid
    assert records[0].levelno == logging.WARNING


def test_close_leaves_no_processes_and_rejects_new_calls(run: Runner) -> None:
    async def main() -> list[int]:
        off = Offloader(processes=2)
        await asyncio.gather(
            *(off.run(work.sleep_then, (0.05,), engine="process") for _ in range(2))
        )
        pids = _process_engine(off).pids()
        assert len(pids) == 2
        await off.close()
        with pytest.raises(OffloaderClosed):
            await off.run(work.add, (1,), engine="process")
        return pids

    pids = run(main())
    active = {p.pid for p in multiprocessing.active_children()}
    assert not active & set(pids)
    assert all(_gone(pid) for pid in pids)


def test_close_stops_a_running_call_after_the_grace_period(run: Runner) -> None:
    async def main() -> None:
        off = Offloader(processes=1)
        engine = _process_engine(off)
        task = asyncio.create_task(off.run(work.sleep_then, (30,), engine="process"))
        await asyncio.sleep(0.3)
        (pid,) = engine.pids()
        started = time.monotonic()
        await engine.aclose(grace=0.2)
        assert time.monotonic() - started < 3
        with pytest.raises(OffloaderClosed):
            await task
        assert _wait_gone(pid)

    run(main())


def test_spawn_start_method_works(run: Runner) -> None:
    async def main() -> int:
        async with Offloader(processes=1, start_method="spawn") as off:
            assert _process_engine(off).start_method == "spawn"
            return await off.run(work.add, (5, 6), engine="process")

    assert run(main()) == 11


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
            task = asyncio.create_task(off.run(time.sleep, (60,), engine="process"))
            await asyncio.sleep(0.5)
            print(off.engine("process").pids()[0], flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    pid = int(proc.stdout.split()[0])
    assert _wait_gone(pid, 10), f"worker {pid} outlived its parent"


def test_offload_error_is_the_base_of_engine_errors() -> None:
    assert issubclass(WorkerCrashed, OffloadError)
    assert issubclass(NotPicklable, TypeError)


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


def test_big_arguments_and_results_travel_without_blocking_the_loop(run: Runner) -> None:
    blob = os.urandom(8 << 20)

    async def main() -> None:
        async with Offloader(processes=1) as off:
            assert await off.run(work.echo, (blob,), engine="process") == blob

    run(main())


def test_a_call_orphaned_by_a_closed_loop_does_not_hold_its_worker() -> None:
    off = Offloader(processes=1)

    tasks: list[asyncio.Task[object]] = []

    async def abandon() -> None:
        tasks.append(asyncio.create_task(off.run(work.sleep_then, (30,), engine="process")))
        await asyncio.sleep(0.3)  # the call is running when the loop shuts down

    async def use() -> int:
        return await off.run(work.add, (1, 2), engine="process", timeout=10)

    asyncio.run(abandon())
    started = time.monotonic()
    assert asyncio.run(use()) == 3
    assert time.monotonic() - started < 5
    off.close_now()


def test_pipelined_calls_queue_behind_a_busy_worker_and_keep_order(run: Runner) -> None:
    async def main() -> None:
        async with Offloader(processes=1) as off:
            engine = _process_engine(off)
            first = asyncio.create_task(
                engine.run(work.sleep_then, (0.3, "first"), {}, pipeline=True)
            )
            await asyncio.sleep(0.1)
            # No free slot: the next pipelined call is sent to the busy worker right away.
            second = asyncio.create_task(engine.run(work.add, (1, 2), {}, pipeline=True))
            await asyncio.sleep(0.05)
            (worker,) = engine._workers
            assert len(worker.queued) == 1
            assert await first == "first"
            assert await second == 3
            assert engine.describe()["running"] == 0

    run(main())


def test_a_crash_fails_the_running_and_the_queued_pipelined_call(run: Runner) -> None:
    async def main() -> None:
        async with Offloader(processes=1) as off:
            engine = _process_engine(off)
            running = asyncio.create_task(engine.run(work.crash_after, (0.3,), {}, pipeline=True))
            await asyncio.sleep(0.1)
            queued = asyncio.create_task(engine.run(work.add, (1, 2), {}, pipeline=True))
            with pytest.raises(WorkerCrashed, match="died with exit code 9"):
                await running
            with pytest.raises(WorkerCrashed, match="before it started"):
                await queued
            assert await engine.run(work.add, (2, 2), {}) == 4

    run(main())


def test_a_crash_inside_map_fails_the_map_and_the_pool_heals(run: Runner) -> None:
    async def main() -> None:
        async with Offloader(processes=2) as off:
            with pytest.raises(WorkerCrashed):
                await off.map_list(work.exit_on_seven, range(200), engine="process")
            assert await off.map_list(work.square, range(100), engine="process") == [
                i * i for i in range(100)
            ]

    run(main())


def test_a_worker_that_dies_while_idle_is_replaced_without_failing_a_call(run: Runner) -> None:
    off = Offloader(processes=1)

    async def one() -> int:
        pid: int = (await off.run(work.whoami, engine="process"))[0]
        return pid

    async def killed_while_watched() -> int:
        pid = await one()
        os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.3)  # the loop sees the pipe close and retires the worker
        assert _process_engine(off).pids() == []
        return await one()

    first = run(one())
    # Killed while no loop watches it: the next call finds the broken pipe and moves on.
    (worker,) = _process_engine(off)._workers
    os.kill(first, signal.SIGKILL)
    # Wait until the process has really let go of its pipes (the reply pipe reads EOF): a
    # zombie's threads may still hold them for a moment.
    assert select.select([worker.reply_fd], [], [], 5)[0]
    second = run(one())
    assert second != first
    third = run(killed_while_watched())
    assert third not in (first, second)
    assert _process_engine(off).describe()["crashes"] >= 1
    off.close_now()


def test_a_closed_pool_leaves_no_stale_registration_on_the_loop(run: Runner) -> None:
    # Closing retires idle workers whose reply pipes the loop watches; the fd numbers are
    # reused at once by the next pool's pipes, which must still be heard.
    async def main() -> None:
        async with asyncio.timeout(30):  # a lost reply would hang: fail instead
            for _ in range(3):
                async with Offloader(processes=2) as off:
                    calls = (off.run(work.add, (i, 1), engine="process") for i in range(2))
                    assert await asyncio.gather(*calls) == [1, 2]
                    assert await off.run(work.add, (1, 1), engine="process") == 2

    run(main())


@pytest.mark.parametrize(
    ("fn", "typename", "text"),
    [
        (work.raise_unrebuildable, "Unrebuildable", "code 7: bad state"),
        (work.raise_holds_a_lock, "HoldsALock", "locked"),
    ],
)
def test_exceptions_that_cannot_travel_still_say_what_happened(
    run: Runner, fn: object, typename: str, text: str
) -> None:
    async def main() -> None:
        async with Offloader(processes=1) as off:
            with pytest.raises(OffloadError) as info:
                await off.run(fn, engine="process")  # type: ignore[arg-type]
            message = str(info.value)
            assert typename in message
            assert text in message
            assert "Traceback in worker process" in "".join(traceback.format_exception(info.value))
            assert await off.run(work.add, (1, 1), engine="process") == 2

    run(main())


def test_worker_log_records_keep_their_exception_text(
    run: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def main() -> None:
        async with Offloader(processes=1) as off:
            await off.run(work.log_exception, engine="process")

    run(main())
    (record,) = [r for r in caplog.records if r.name == "offload.worker.test"]
    assert record.getMessage() == "it failed"
    assert record.exc_text is not None
    assert "ValueError: inner problem" in record.exc_text
