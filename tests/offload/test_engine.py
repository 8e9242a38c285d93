"""The engine interface: the in-process fake drives the Offloader, auto and map through it alone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import offload_work as work
import pytest
from tests.loops import RunLoop

from unstall.errors import NotPicklable, OffloaderClosed
from unstall.offload import Engine, Limiter, Offloader
from unstall.offload._engine import CallTiming, CancelMode, TimingSink
from unstall.offload._fake import InlineCall, InlineEngine
from unstall.offload._thread import ThreadEngine

T = TypeVar("T")


class RecordingEngine(InlineEngine):
    """The inline fake, also noting the options each call came with."""

    def __init__(self, capacity: int = 4) -> None:
        super().__init__(capacity)
        self.options: list[tuple[float | None, CancelMode, bool]] = []

    async def run(
        self,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        *,
        timeout: float | None = None,
        cancel: CancelMode = "wait",
        pipeline: bool = False,
        measure: TimingSink | None = None,
    ) -> T:
        self.options.append((timeout, cancel, pipeline))
        return await super().run(
            fn, args, kwargs, timeout=timeout, cancel=cancel, pipeline=pipeline, measure=measure
        )


def test_the_fake_answers_through_its_handler_and_records_calls(run_loop: RunLoop) -> None:
    def handler(call: InlineCall) -> Any:
        if call.args == (0,):
            raise work.WorkFailed("zero")
        return ("handled", call.fn.__name__, call.args, call.kwargs)

    async def main() -> None:
        fake = InlineEngine(handler=handler)
        async with Offloader(engines={"thread": fake, "process": fake}) as off:
            # The handler, not the function, makes the result here.
            answer: Any = await off.to_thread(work.add, 1, b=2)
            assert answer == ("handled", "add", (1,), {"b": 2})
            answer = await off.run(work.add, (3,), engine="process")
            assert answer == ("handled", "add", (3,), {})
            with pytest.raises(work.WorkFailed, match="zero"):
                await off.to_process(work.add, 0)
        assert fake.calls == [
            InlineCall(work.add, (1,), {"b": 2}),
            InlineCall(work.add, (3,), {}),
            InlineCall(work.add, (0,), {}),
        ]
        assert fake.closed

    run_loop(main())


def test_the_fake_times_each_call_even_when_it_raises(run_loop: RunLoop) -> None:
    async def main() -> None:
        fake = InlineEngine()
        timings: list[CallTiming] = []
        assert await fake.run(work.sleep_then, (0.02, "ok"), {}, measure=timings.append) == "ok"
        with pytest.raises(work.WorkFailed):
            await fake.run(work.fail, ("no",), {}, measure=timings.append)
        assert len(timings) == 2
        assert timings[0].wall >= 0.02
        assert timings[0].cpu < timings[0].wall
        await fake.aclose()
        with pytest.raises(OffloaderClosed, match="inline engine is closed"):
            await fake.run(work.add, (1,), {})

    run_loop(main())


def test_the_thread_engine_times_calls_and_survives_a_failing_sink(run_loop: RunLoop) -> None:
    def broken_sink(timing: CallTiming) -> None:
        raise RuntimeError("sink")

    async def main() -> None:
        engine = ThreadEngine(max_workers=1)
        try:
            timings: list[CallTiming] = []
            assert await engine.run(work.spin, (0.02,), {}, measure=timings.append) > 0
            ((cpu, wall),) = timings
            assert 0 < cpu <= wall + 0.005
            assert wall >= 0.02
            assert await engine.run(work.add, (1, 1), {}, measure=broken_sink) == 2
        finally:
            await engine.aclose()

    run_loop(main())


def test_map_sends_chunks_as_a_pipeline_unless_a_timeout_is_set(run_loop: RunLoop) -> None:
    async def main() -> None:
        fake = RecordingEngine(capacity=2)
        async with Offloader(engines={"process": fake}) as off:
            assert await off.map_list(work.square, range(5), chunksize=2) == [0, 1, 4, 9, 16]
            assert fake.options == [(None, "kill", True)] * 3
            fake.options.clear()
            assert await off.map_list(work.square, range(3), chunksize=2, timeout=5) == [0, 1, 4]
            assert fake.options == [(5, "kill", False)] * 2

    run_loop(main())


def test_map_checks_its_options_and_the_engine_when_called() -> None:
    off = Offloader(engines={"thread": InlineEngine()})
    with pytest.raises(ValueError, match="explicit engine"):
        off.map(work.square, [1], engine="auto")
    with pytest.raises(ValueError, match="chunksize"):
        off.map(work.square, [1], engine="thread", chunksize=0)
    off.close_now()
    with pytest.raises(OffloaderClosed):
        off.map(work.square, [1], engine="thread")


def test_map_keeps_at_most_a_window_of_chunks_in_flight(run_loop: RunLoop) -> None:
    in_flight = [0, 0]  # now, most

    class Counting(InlineEngine):
        async def run(
            self,
            fn: Callable[..., T],
            args: tuple[Any, ...],
            kwargs: Mapping[str, Any],
            *,
            timeout: float | None = None,
            cancel: CancelMode = "wait",
            pipeline: bool = False,
            measure: TimingSink | None = None,
        ) -> T:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
            try:
                return await super().run(fn, args, kwargs)
            finally:
                in_flight[0] -= 1

    async def main() -> None:
        fake = Counting(capacity=8)
        async with Offloader(engines={"thread": fake}) as off:
            results = await off.map_list(work.square, range(40), engine="thread", chunksize=1)
            assert results == [i * i for i in range(40)]
            assert in_flight[1] == 16  # twice the engine's capacity by default
            in_flight[1] = 0
            await off.map_list(work.square, range(40), engine="thread", chunksize=1, window=3)
            assert in_flight[1] == 3

    run_loop(main())


def test_auto_routes_through_the_engines_it_is_given(run_loop: RunLoop) -> None:
    async def main() -> None:
        thread, process = InlineEngine(), InlineEngine()
        engines = {"thread": thread, "process": process}
        async with Offloader(engines=engines, auto_samples=1) as off:
            # On the fake, a sleep waits (little CPU): measured once, it stays on "thread".
            await off.run(time.sleep, (0.02,), engine="auto")
            (decision,) = off.stats().auto
            assert decision.engine == "thread"
            assert "waiting" in decision.reason
            await off.run(time.sleep, (0.0,), engine="auto")
            assert len(thread.calls) == 2
            # Pinned to "process": the call goes to the process engine, as it is.
            off.pin(work.add, "process")
            assert await off.run(work.add, (2, 3), engine="auto") == 5
            assert process.calls == [InlineCall(work.add, (2, 3), {})]

    run_loop(main())


def test_auto_falls_back_to_a_thread_when_the_arguments_cannot_travel(run_loop: RunLoop) -> None:
    def refuse(call: InlineCall) -> Any:
        what = call.kwargs.get("what", "argument 0")
        raise NotPicklable(f"cannot send {what}", what=what, reason="test")

    async def main() -> None:
        thread, process = InlineEngine(), InlineEngine(handler=refuse)
        async with Offloader(engines={"thread": thread, "process": process}) as off:
            off.pin(work.echo, "process")
            assert await off.run(work.echo, ("here",), engine="auto") == "here"
            assert thread.calls == [InlineCall(work.echo, ("here",), {})]
            # A result that cannot come back is the function's own problem: it is raised.
            with pytest.raises(NotPicklable, match="result"):
                await off.run(work.echo, (), {"what": "result"}, engine="auto")
            assert len(thread.calls) == 1

    run_loop(main())


def test_the_limiter_as_a_context_manager(run_loop: RunLoop) -> None:
    async def main() -> None:
        limiter = Limiter(1)
        async with limiter:
            assert limiter.in_use == 1
            waiting = asyncio.ensure_future(limiter.__aenter__())
            await asyncio.sleep(0)
            assert limiter.waiting == 1
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
        assert (limiter.in_use, limiter.waiting) == (0, 0)
        with pytest.raises(work.WorkFailed):
            async with limiter:
                raise work.WorkFailed("inside")
        assert limiter.in_use == 0

        order: list[int] = []

        async def hold(i: int) -> None:
            async with limiter:
                order.append(i)
                await asyncio.sleep(0)

        await asyncio.gather(*(hold(i) for i in range(4)))
        assert order == [0, 1, 2, 3]
        assert limiter.in_use == 0

    run_loop(main())


def test_an_engine_is_an_abstract_interface() -> None:
    with pytest.raises(TypeError, match="abstract"):
        Engine()  # type: ignore[abstract]
    assert issubclass(InlineEngine, Engine)
    assert InlineEngine().describe() == {"engine": "inline", "capacity": 4}
