"""The process engine and unstall.to_process on real worker processes, on asyncio and uvloop."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import traceback
from pathlib import Path

import offload_work as work
import pytest
from process_helpers import loop_errors, process_engine, wait_gone
from tests.loops import RunLoop
from tests.waiting import wait_for

import unstall
from unstall.errors import NotPicklable, OffloadError, WorkerCrashed
from unstall.offload import Offloader


def test_to_process_runs_in_another_process(run_loop: RunLoop) -> None:
    async def main() -> int:
        assert await unstall.to_process(work.add, 2, b=40) == 42
        pid: int = (await unstall.to_process(work.whoami))[0]
        return pid

    assert run_loop(main()) != os.getpid()


def test_exception_type_and_worker_traceback_are_kept(run_loop: RunLoop) -> None:
    async def main() -> None:
        await unstall.to_process(work.fail, "bad input")

    with pytest.raises(work.WorkFailed, match="bad input") as info:
        run_loop(main())
    text = "".join(traceback.format_exception(info.value))
    assert "Traceback in worker process" in text
    assert "raise WorkFailed(message)" in text


@pytest.mark.parametrize(
    ("crash", "exitcode"), [(work.exit_now, 3), (work.kill_self, -signal.SIGKILL)]
)
def test_a_dead_worker_fails_only_its_call_and_the_pool_heals(
    run_loop: RunLoop, tmp_path: Path, crash: object, exitcode: int
) -> None:
    started = tmp_path / "started"

    async def main() -> None:
        async with Offloader(processes=2) as off:
            other = asyncio.create_task(
                off.run(work.sleep_then, (0.4, "ok"), {"started": str(started)}, engine="process")
            )
            assert await wait_for(started.exists)
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

    run_loop(main())


def test_not_picklable_names_the_argument(run_loop: RunLoop) -> None:
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

    run_loop(main())


def test_timeout_kills_and_replaces_only_that_worker(run_loop: RunLoop, tmp_path: Path) -> None:
    started = tmp_path / "started"

    async def main() -> None:
        async with Offloader(processes=2) as off:
            engine = process_engine(off)
            other = asyncio.create_task(
                off.run(
                    work.sleep_then, (0.6, "other"), {"started": str(started)}, engine="process"
                )
            )
            assert await wait_for(started.exists)
            with pytest.raises(TimeoutError, match="terminated"):
                await off.run(work.whoami_after, (30,), engine="process", timeout=0.3)
            assert await other == "other"
            assert len(engine.pids()) == 1
            assert await off.run(work.add, (1, 2), engine="process") == 3

    run_loop(main())


def test_timeout_kills_the_stuck_worker(run_loop: RunLoop, tmp_path: Path) -> None:
    marker = tmp_path / "finished"

    async def main() -> int:
        async with Offloader(processes=1) as off:
            engine = process_engine(off)
            await off.run(work.add, (0, 0), engine="process")
            (pid,) = engine.pids()
            with pytest.raises(TimeoutError):
                await off.run(
                    work.sleep_and_touch, (2.0, str(marker)), engine="process", timeout=0.2
                )
            new_pid, _ = await off.run(work.whoami, engine="process")
            assert new_pid != pid
            return pid

    pid = run_loop(main())
    assert wait_gone(pid)
    assert not marker.exists()


def test_cancel_kill_terminates_the_worker_and_cancel_wait_lets_it_finish(
    run_loop: RunLoop, tmp_path: Path
) -> None:
    killed_marker = tmp_path / "killed"
    waited_marker = tmp_path / "waited"
    killed_started = tmp_path / "killed-started"
    waited_started = tmp_path / "waited-started"

    async def main() -> None:
        async with Offloader(processes=1) as off:
            engine = process_engine(off)
            task = asyncio.create_task(
                off.run(
                    work.sleep_and_touch,
                    (1.0, str(killed_marker)),
                    {"started": str(killed_started)},
                    engine="process",
                    cancel="kill",
                )
            )
            assert await wait_for(killed_started.exists)
            (pid,) = engine.pids()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert engine.pids() == []
            assert wait_gone(pid)

            task = asyncio.create_task(
                off.run(
                    work.sleep_and_touch,
                    (0.3, str(waited_marker)),
                    {"started": str(waited_started)},
                    engine="process",
                )
            )
            assert await wait_for(waited_started.exists)
            (pid,) = engine.pids()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The worker finishes the call in the background, then serves the next one.
            assert await off.run(work.add, (1, 1), engine="process") == 2
            assert engine.pids() == [pid]

    run_loop(main())
    assert not killed_marker.exists()
    assert waited_marker.exists()


def test_cancelled_before_start_never_runs(run_loop: RunLoop, tmp_path: Path) -> None:
    marker = tmp_path / "never"
    started = tmp_path / "started"

    async def main() -> None:
        async with Offloader(processes=1) as off:
            busy = asyncio.create_task(
                off.run(work.sleep_then, (0.3, 1), {"started": str(started)}, engine="process")
            )
            assert await wait_for(started.exists)
            queued = asyncio.create_task(off.run(work.touch, (str(marker),), engine="process"))
            assert await wait_for(lambda: off.stats().engines["process"]["waiting"] == 1)
            queued.cancel()
            with pytest.raises(asyncio.CancelledError):
                await queued
            assert await busy == 1
            assert await off.run(work.add, (2, 2), engine="process") == 4

    run_loop(main())
    assert not marker.exists()


def test_bounded_concurrency(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader(processes=2) as off:
            engine = process_engine(off)
            tasks = [
                asyncio.create_task(off.run(work.sleep_then, (0.2, i), engine="process"))
                for i in range(5)
            ]
            # every call holds a slot or waits for one
            assert await wait_for(
                lambda: engine.describe()["running"] + engine.describe()["waiting"] == 5
            )
            described = off.stats().engines["process"]
            assert described["running"] == 2
            assert described["waiting"] == 3
            assert await asyncio.gather(*tasks) == list(range(5))
            assert off.stats().engines["process"]["workers"] == 2

    run_loop(main())


def test_worker_log_records_reach_the_parent_handlers(
    run_loop: RunLoop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def main() -> int:
        async with Offloader(processes=1) as off:
            return await off.run(work.log_something, ("hello",), engine="process")

    pid = run_loop(main())
    records = [r for r in caplog.records if r.name == "offload.worker.test"]
    assert [r.getMessage() for r in records] == ["from worker: hello"]
    assert records[0].process == pid
    assert records[0].levelno == logging.WARNING


def test_a_failing_log_filter_in_the_parent_loses_no_reply_and_raises_nothing_into_the_loop(
    run_loop: RunLoop, capsys: pytest.CaptureFixture[str]
) -> None:
    class Broken(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            raise RuntimeError("the host's filter is broken")

    logger = logging.getLogger("offload.worker.test")
    broken = Broken()
    logger.addFilter(broken)

    async def main() -> list[int]:
        raised = loop_errors(asyncio.get_running_loop())
        async with asyncio.timeout(30), Offloader(processes=1) as off:  # a lost reply hangs
            pids = [
                await off.run(work.log_something, (str(i),), engine="process") for i in range(3)
            ]
        assert raised == []
        return pids

    try:
        assert len(set(run_loop(main()))) == 1
    finally:
        logger.removeFilter(broken)
    # Reported as logging reports a failing handler, on stderr.
    assert "the host's filter is broken" in capsys.readouterr().err


def test_offload_error_is_the_base_of_engine_errors() -> None:
    assert issubclass(WorkerCrashed, OffloadError)
    assert issubclass(NotPicklable, TypeError)


def test_big_arguments_and_results_travel_without_blocking_the_loop(run_loop: RunLoop) -> None:
    blob = os.urandom(8 << 20)

    async def main() -> None:
        async with Offloader(processes=1) as off:
            assert await off.run(work.echo, (blob,), engine="process") == blob

    run_loop(main())


def test_pipelined_calls_queue_behind_a_busy_worker_and_keep_order(
    run_loop: RunLoop, tmp_path: Path
) -> None:
    started = tmp_path / "started"

    async def main() -> None:
        async with Offloader(processes=1) as off:
            engine = process_engine(off)
            first = asyncio.create_task(
                engine.run(
                    work.sleep_then, (0.3, "first"), {"started": str(started)}, pipeline=True
                )
            )
            assert await wait_for(started.exists)
            # No free slot: the next pipelined call is sent to the busy worker right away.
            second = asyncio.create_task(engine.run(work.add, (1, 2), {}, pipeline=True))
            (worker,) = engine._pool.workers
            assert await wait_for(lambda: len(worker.queued) == 1)
            assert await first == "first"
            assert await second == 3
            assert engine.describe()["running"] == 0

    run_loop(main())


def test_a_crash_fails_the_running_and_the_queued_pipelined_call(
    run_loop: RunLoop, tmp_path: Path
) -> None:
    started = tmp_path / "started"

    async def main() -> None:
        async with Offloader(processes=1) as off:
            engine = process_engine(off)
            running = asyncio.create_task(
                engine.run(work.crash_after, (0.3,), {"started": str(started)}, pipeline=True)
            )
            assert await wait_for(started.exists)
            queued = asyncio.create_task(engine.run(work.add, (1, 2), {}, pipeline=True))
            (worker,) = engine._pool.workers
            assert await wait_for(lambda: len(worker.queued) == 1)  # sent before the crash
            with pytest.raises(WorkerCrashed, match="died with exit code 9"):
                await running
            with pytest.raises(WorkerCrashed, match="before it started"):
                await queued
            assert await engine.run(work.add, (2, 2), {}) == 4

    run_loop(main())


def test_a_crash_inside_map_fails_the_map_and_the_pool_heals(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader(processes=2) as off:
            with pytest.raises(WorkerCrashed):
                await off.map_list(work.exit_on_seven, range(200), engine="process")
            assert await off.map_list(work.square, range(100), engine="process") == [
                i * i for i in range(100)
            ]

    run_loop(main())


@pytest.mark.parametrize(
    ("fn", "typename", "text"),
    [
        (work.raise_unrebuildable, "Unrebuildable", "code 7: bad state"),
        (work.raise_holds_a_lock, "HoldsALock", "locked"),
    ],
)
def test_exceptions_that_cannot_travel_still_say_what_happened(
    run_loop: RunLoop, fn: object, typename: str, text: str
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

    run_loop(main())


def test_worker_log_records_keep_their_exception_text(
    run_loop: RunLoop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def main() -> None:
        async with Offloader(processes=1) as off:
            await off.run(work.log_exception, engine="process")

    run_loop(main())
    (record,) = [r for r in caplog.records if r.name == "offload.worker.test"]
    assert record.getMessage() == "it failed"
    assert record.exc_text is not None
    assert "ValueError: inner problem" in record.exc_text
