"""The Waiter the thread engine completes results with, on real asyncio and uvloop loops."""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
from typing import Any

import pytest
from tests.loops import RunLoop

import unstall
from unstall.offload import Offloader
from unstall.offload._thread import _Inbox
from unstall.offload._waiter import Waiter, resolve_all

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


def test_resolve_wakes_the_task_in_the_same_callback(run_loop: RunLoop) -> None:
    """An asyncio.Future would wake the task one iteration later, after ``after``."""

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        waiter = Waiter(loop)
        order: list[str] = []

        async def waiting() -> None:
            value = await waiter
            order.append(f"task got {value}")

        task = loop.create_task(waiting())
        await asyncio.sleep(0)  # the task is now suspended on the waiter
        loop.call_soon(waiter.resolve, True, 7)
        loop.call_soon(order.append, "after")
        await task
        return order

    assert run_loop(main()) == ["task got 7", "after"]


def test_the_task_resumes_in_its_own_context(run_loop: RunLoop) -> None:
    async def main() -> tuple[str, str]:
        loop = asyncio.get_running_loop()
        waiter = Waiter(loop)

        async def waiting() -> tuple[str, str]:
            marker.set("task's own")
            await waiter
            return marker.get(), str(asyncio.current_task() is task)

        task = loop.create_task(waiting())
        await asyncio.sleep(0)
        # resolve itself runs in an empty context; the task must still see its own.
        loop.call_soon(waiter.resolve, True, None, context=contextvars.Context())
        return await task

    assert run_loop(main()) == ("task's own", "True")


def test_exceptions_come_back_as_the_same_object(run_loop: RunLoop) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        waiter = Waiter(loop)
        error = KeyError("missing")
        loop.call_soon(waiter.resolve, False, error)
        with pytest.raises(KeyError) as caught:
            await waiter
        assert caught.value is error
        assert waiter.done()
        assert not waiter.cancelled()
        assert waiter.exception() is error

    run_loop(main())


def test_cancelling_the_task_cancels_the_waiter_and_drops_a_late_result(run_loop: RunLoop) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        waiter = Waiter(loop)
        task = loop.create_task(_await(waiter))
        await asyncio.sleep(0)
        task.cancel("shutting down")
        with pytest.raises(asyncio.CancelledError) as caught:
            await task
        assert caught.value.args == ("shutting down",)
        assert waiter.cancelled()
        waiter.resolve(True, "late")  # ignored
        assert waiter.cancelled()
        with pytest.raises(asyncio.CancelledError):
            waiter.result()

    run_loop(main())


def test_fail_later_wakes_on_the_next_iteration(run_loop: RunLoop) -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        waiter = Waiter(loop)
        order: list[str] = []

        async def waiting() -> None:
            try:
                await waiter
            except TimeoutError:
                order.append("task timed out")

        task = loop.create_task(waiting())
        await asyncio.sleep(0)
        loop.call_soon(waiter.fail_later, TimeoutError())
        loop.call_soon(order.append, "after")
        await task
        waiter.fail_later(TimeoutError())  # already done: no effect
        return order

    assert run_loop(main()) == ["after", "task timed out"]


def test_a_done_waiter_is_not_suspended_on_and_callbacks_follow_the_protocol(
    run_loop: RunLoop,
) -> None:
    async def main() -> list[object]:
        loop = asyncio.get_running_loop()
        waiter = Waiter(loop)
        looks_like_a_future = asyncio.isfuture(waiter)  # what Task checks
        assert looks_like_a_future
        assert waiter.get_loop() is loop
        with pytest.raises(asyncio.InvalidStateError):
            waiter.result()
        with pytest.raises(asyncio.InvalidStateError):
            waiter.exception()
        seen: list[object] = []

        def first(w: Waiter) -> None:
            seen.append(("first", w.result()))

        def second(w: Waiter) -> None:
            seen.append("second")

        waiter.add_done_callback(first)
        waiter.add_done_callback(second)
        assert waiter.remove_done_callback(second) == 1
        waiter.resolve(True, "v")
        assert await waiter == "v"  # done: no suspension
        waiter.add_done_callback(second)  # after completion: scheduled, like a Future
        assert seen == [("first", "v")]
        await asyncio.sleep(0)
        assert waiter.cancel() is False
        return seen

    assert run_loop(main()) == [("first", "v"), "second"]


def test_wait_for_and_gather_work_with_offloaded_calls(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader(threads=2) as off:
            gate = threading.Event()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(off.to_thread(gate.wait, 5), 0.05)
            gate.set()
            results = await asyncio.gather(
                off.to_thread(pow, 2, 10), asyncio.shield(off.to_thread(pow, 3, 3))
            )
            assert list(results) == [1024, 27]

    run_loop(main())


@pytest.mark.skipif(sys.version_info < (3, 12), reason="eager tasks are new in Python 3.12")
def test_eager_tasks_can_offload() -> None:
    """On the stock loop (uvloop's task factory hook does not take eager tasks on 3.13)."""

    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        loop.set_task_factory(asyncio.eager_task_factory)  # type: ignore[attr-defined,unused-ignore]
        powers: list[int] = await asyncio.gather(*(unstall.to_thread(pow, 2, i) for i in range(5)))
        return powers

    assert asyncio.run(main()) == [1, 2, 4, 8, 16]


def test_results_behind_a_task_that_raises_out_of_the_drain_are_still_delivered() -> None:
    """SystemExit raised by a woken task's step leaves the drain; the rest arrive next."""

    class _FakeJob:
        def __init__(self, fut: Waiter) -> None:
            self.fut = fut

    async def exits(waiter: Waiter) -> None:
        await waiter
        raise SystemExit(3)

    loop = asyncio.new_event_loop()
    try:
        first, second = Waiter(loop), Waiter(loop)
        exiting = loop.create_task(exits(first))
        waiting = loop.create_task(_await(second))
        loop.run_until_complete(asyncio.sleep(0))
        inbox = _Inbox(loop)

        def push_both() -> None:  # from another thread, as a worker does
            inbox.push(_FakeJob(first), True, None)  # type: ignore[arg-type]
            inbox.push(_FakeJob(second), True, "second")  # type: ignore[arg-type]

        pushed = threading.Thread(target=push_both)
        pushed.start()
        pushed.join()
        with pytest.raises(SystemExit):
            loop.run_until_complete(waiting)
        assert loop.run_until_complete(waiting) == "second"
        with pytest.raises(SystemExit):
            exiting.result()
    finally:
        loop.close()


async def _await(waiter: Waiter) -> Any:
    return await waiter


def test_resolve_all_settles_the_rest_when_a_woken_task_raises_out() -> None:
    async def exits(waiter: Waiter) -> None:
        await waiter
        raise SystemExit(4)

    loop = asyncio.new_event_loop()
    try:
        first, second, third = Waiter(loop), Waiter(loop), Waiter(loop)
        exiting = loop.create_task(exits(first))
        waiting = [loop.create_task(_await(w)) for w in (second, third)]
        loop.run_until_complete(asyncio.sleep(0))
        error = ValueError("bad")
        loop.call_soon(resolve_all, [(first, True, None), (second, True, 2), (third, False, error)])
        with pytest.raises(SystemExit):
            loop.run_until_complete(asyncio.sleep(0.05))
        with pytest.raises(SystemExit):
            exiting.result()
        assert second.done()
        assert third.done()
        assert loop.run_until_complete(waiting[0]) == 2
        with pytest.raises(ValueError, match="bad"):
            loop.run_until_complete(waiting[1])
    finally:
        loop.close()


def test_future_style_setters_wake_on_the_next_iteration(run_loop: RunLoop) -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        ok, bad = Waiter(loop), Waiter(loop)
        order: list[str] = []

        async def waiting() -> None:
            order.append(f"got {await ok}")
            with pytest.raises(KeyError):
                await bad
            order.append("raised")

        task = loop.create_task(waiting())
        await asyncio.sleep(0)
        loop.call_soon(ok.set_result, 1)
        loop.call_soon(order.append, "after")
        loop.call_soon(bad.set_exception, KeyError("k"))
        await task
        ok.set_result(2)  # already done: ignored
        assert ok.result() == 1
        return order

    assert run_loop(main()) == ["after", "got 1", "raised"]
