"""The thread engine and unstall.to_thread on real threads, on asyncio and uvloop."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import traceback

import offload_work as work
import pytest
from tests.loops import RunLoop
from tests.waiting import wait_for

import unstall
from unstall.errors import OffloaderClosed
from unstall.offload import Offloader
from unstall.offload._thread import ThreadEngine


def _unstall_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("unstall-thread")]


def test_to_thread_runs_off_the_loop_thread(run_loop: RunLoop) -> None:
    async def main() -> tuple[int, int]:
        pid, ident = await unstall.to_thread(work.whoami)
        assert await unstall.to_thread(work.add, 2, b=3) == 5
        return pid, ident

    _, ident = run_loop(main())
    assert ident != threading.get_ident()


def test_contextvars_reach_the_thread(run_loop: RunLoop) -> None:
    async def main() -> str:
        work.request_id.set("req-42")
        value: str = await unstall.to_thread(work.read_request_id)
        return value

    assert run_loop(main()) == "req-42"


def test_exception_type_and_traceback_text_are_kept(run_loop: RunLoop) -> None:
    async def main() -> None:
        await unstall.to_thread(work.fail, "boom")

    with pytest.raises(work.WorkFailed, match="boom") as info:
        run_loop(main())
    text = "".join(traceback.format_exception(info.value))
    assert "raise WorkFailed(message)" in text
    assert "offload_work.py" in text


def test_concurrency_is_bounded_and_callers_wait(run_loop: RunLoop) -> None:
    lock = threading.Lock()
    active = [0]
    peak = [0]

    def tracked() -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.25)
        with lock:
            active[0] -= 1

    async def main() -> None:
        async with Offloader(threads=2) as off:
            tasks = [asyncio.create_task(off.to_thread(tracked)) for _ in range(5)]
            assert await wait_for(lambda: active[0] == 2)  # two calls started
            described = off.stats().engines["thread"]
            assert described["running"] == 2
            assert described["waiting"] == 3
            assert described["threads"] == 2
            await asyncio.gather(*tasks)

    run_loop(main())
    assert peak[0] == 2


def test_cancelled_before_start_never_runs(run_loop: RunLoop) -> None:
    gate = threading.Event()
    ran: list[str] = []

    async def main() -> None:
        async with Offloader(threads=1) as off:
            engine = off.engine("thread")
            first = asyncio.create_task(off.to_thread(gate.wait, 5))
            second = asyncio.create_task(off.to_thread(ran.append, "second"))
            # the thread took the first call; the second waits in the queue
            assert await wait_for(lambda: engine.describe()["waiting"] == 1)
            second.cancel()
            with pytest.raises(asyncio.CancelledError):
                await second
            gate.set()
            assert await first is True
            # The slot the cancelled call held is free again.
            assert await off.to_thread(work.add, 1, 1) == 2

    run_loop(main())
    assert ran == []


def test_cancelled_while_queued_in_the_engine_never_runs(run_loop: RunLoop) -> None:
    # Bypass the limiter wait: the job is already in the queue when it is cancelled.
    gate = threading.Event()
    started: list[int] = []
    ran: list[str] = []

    def block() -> bool:
        started.append(threading.get_ident())
        return gate.wait(5)

    async def main() -> None:
        engine = ThreadEngine(max_workers=2)
        try:
            blockers = [asyncio.create_task(engine.run(block, (), {})) for _ in range(2)]
            assert await wait_for(lambda: len(started) == 2)
            victim = asyncio.create_task(engine.run(ran.append, ("x",), {}))
            assert await wait_for(lambda: engine.describe()["waiting"] == 1)
            victim.cancel()
            await asyncio.gather(victim, return_exceptions=True)
            gate.set()
            await asyncio.gather(*blockers)
        finally:
            # the threads take the queue in order and end only at the close sentinels behind
            # the cancelled job: once they are gone, it has been taken (and must not have run)
            await engine.aclose()
        assert engine.threads() == []

    run_loop(main())
    assert ran == []


def test_timeout_raises_and_the_thread_finishes_in_the_background(run_loop: RunLoop) -> None:
    done = threading.Event()

    def slow() -> None:
        time.sleep(0.3)
        done.set()

    async def main() -> None:
        async with Offloader(threads=1) as off:
            with pytest.raises(TimeoutError):
                await off.run(slow, timeout=0.05)
            # The running call keeps its slot until it really ends: the bound holds.
            assert off.stats().engines["thread"]["running"] == 1
            assert await off.to_thread(work.add, 2, 2) == 4
            assert done.is_set()

    run_loop(main())


def test_idle_threads_retire(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader(threads=4, thread_idle_timeout=0.1) as off:
            await asyncio.gather(*(off.to_thread(time.sleep, 0.02) for _ in range(4)))
            engine = off.engine("thread")
            assert isinstance(engine, ThreadEngine)
            assert len(engine.threads()) == 4
            assert await wait_for(lambda: engine.threads() == [])
            assert await off.to_thread(work.add, 1, 2) == 3

    run_loop(main())


def test_sequential_calls_are_served_by_one_thread(run_loop: RunLoop) -> None:
    """A thread is idle again before its result is handed back, so the caller's next call
    reuses it rather than starting a second thread (and waking a cold one each time)."""

    async def main() -> set[int]:
        async with Offloader(threads=8) as off:
            idents = {await off.to_thread(threading.get_ident) for _ in range(3000)}
            engine = off.engine("thread")
            assert isinstance(engine, ThreadEngine)
            assert len(engine.threads()) == 1
            return idents

    assert len(run_loop(main())) == 1


def test_close_leaves_no_threads_and_rejects_new_calls(run_loop: RunLoop) -> None:
    threads_seen: list[threading.Thread] = []

    async def main() -> None:
        off = Offloader(threads=3)
        await asyncio.gather(*(off.to_thread(time.sleep, 0.01) for _ in range(3)))
        engine = off.engine("thread")
        assert isinstance(engine, ThreadEngine)
        threads = engine.threads()
        assert threads
        threads_seen.extend(threads)
        await off.close()
        assert not any(t.is_alive() for t in threads)
        with pytest.raises(OffloaderClosed):
            await off.to_thread(work.add, 1)

    run_loop(main())
    assert not any(t in _unstall_threads() for t in threads_seen)


def test_one_offloader_serves_two_loops_one_after_the_other() -> None:
    off = Offloader(threads=2)

    async def main() -> int:
        return await off.to_thread(work.add, 20, 22)

    assert asyncio.run(main()) == 42
    assert asyncio.run(main()) == 42
    off.close_now()


def test_many_concurrent_calls_all_complete(run_loop: RunLoop) -> None:
    async def main() -> list[int]:
        async with Offloader(threads=4) as off:
            return await asyncio.gather(*(off.to_thread(work.add, i, 1) for i in range(500)))

    assert run_loop(main()) == [i + 1 for i in range(500)]


def test_loops_served_are_not_kept_alive() -> None:
    off = Offloader(threads=2)

    async def main() -> int:
        return await off.to_thread(work.add, 1, 1)

    for _ in range(5):
        assert asyncio.run(main()) == 2
    gc.collect()
    engine = off.engine("thread")
    assert isinstance(engine, ThreadEngine)
    assert len(engine._inboxes) <= 1
    off.close_now()
