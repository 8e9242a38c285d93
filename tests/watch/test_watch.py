"""Stall detection on real asyncio and uvloop loops: duration, blamed line, offender, cause, task, context."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import itertools
import re
import sys
import time
import warnings
from typing import Any

import pytest
from tests.loops import RunLoop
from tests.waiting import wait_for

import unstall
from unstall.watch import Cause, StallEvent, Watcher, watch

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")


def _cpu_inner(seconds: float) -> int:
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += sum(range(500))  # CPU LINE
    return n


def _cpu_outer(seconds: float) -> int:
    return _cpu_inner(seconds)


def test_module_is_callable_and_returns_one_watcher() -> None:
    assert callable(unstall.watch)
    w = unstall.watch(threshold_ms=50, log=False)
    assert isinstance(w, Watcher)
    assert unstall.watch() is w  # one process-wide watcher while it runs
    w.stop()
    assert not w.running


def test_invalid_options_raise_with_the_fix() -> None:
    for bad in (0, -1, 0.5, float("inf"), float("nan"), 60_001, True):
        with pytest.raises(ValueError, match=r"threshold_ms=.* from 1 to 60000"):
            Watcher(threshold_ms=bad)
    with pytest.raises(ValueError, match="iteration_timing='sometimes'"):
        Watcher(iteration_timing="sometimes")


def test_a_second_watch_call_adds_sinks_and_context_and_warns_about_what_it_ignores() -> None:
    first: list[object] = []
    second: list[object] = []
    assert callable(unstall.watch)
    w = unstall.watch(threshold_ms=50, log=False, sinks=[first.append])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert unstall.watch() is w  # no options: nothing to ignore
        assert watch(threshold_ms=50, log=False, sinks=[second.append], context=[request_id]) is w
    with pytest.warns(
        RuntimeWarning, match=r"ignored .*threshold_ms=200.* keeps .*threshold_ms=50"
    ):
        assert unstall.watch(threshold_ms=200, iteration_timing="always") is w
    with pytest.raises(TypeError, match="'thresold_ms'"):
        watch(thresold_ms=5)
    assert w.threshold == 0.05
    assert w._sinks.send("event") == 0
    assert first == second == ["event"]
    assert request_id in w._sampler._context
    w.stop()


def test_sleep_is_blocked_with_line_offender_task_and_context(run_loop: RunLoop) -> None:
    seen: list[object] = []

    async def handler() -> None:
        request_id.set("req-42")
        time.sleep(0.3)  # SLEEP LINE
        await wait_for(lambda: bool(seen))

    async def main() -> Watcher:
        w = watch(threshold_ms=100, sinks=[seen.append], context=[request_id], log=False)
        await asyncio.sleep(0.05)
        await asyncio.create_task(handler(), name="handler-task")
        return w

    w = run_loop(main())
    w.stop()
    events = [e for e in w.events if e.blamed and "SLEEP LINE" in e.blamed.source]
    assert len(events) == 1, list(w.events)
    event = events[0]
    assert 0.25 < event.duration < 3.0
    assert event.cause is Cause.BLOCKED
    assert event.offender is not None
    assert (event.offender.module, event.offender.function) == ("time", "sleep")
    assert event.code == "UNS101"
    assert event.entry == "time.sleep"
    assert event.fix
    assert event.stack_source == "samples"
    assert event.samples >= 1
    assert event.task is not None
    assert event.task.name == "handler-task"
    assert event.task.coroutine.endswith("handler")
    assert event.task.awaiting[0].endswith("handler")
    # 3.11's C task hides its context; on uvloop there is no Handle frame to read it from
    if sys.version_info >= (3, 12) or run_loop.kind == "asyncio":
        assert ("request_id", "req-42") in event.context
    assert seen
    assert all(isinstance(s, StallEvent) for s in seen)
    assert all(not hasattr(f, "__dict__") for f in event.stacks[0])  # plain slotted data


def test_cpu_two_calls_deep_is_cpu_with_the_inner_line(run_loop: RunLoop) -> None:
    async def main() -> Watcher:
        w = watch(threshold_ms=100, log=False)
        await asyncio.sleep(0.05)
        _cpu_outer(0.3)
        await wait_for(lambda: bool(w.events))
        return w

    w = run_loop(main())
    w.stop()
    event = max(w.events, key=lambda e: e.duration)
    assert 0.25 < event.duration < 3.0
    assert event.cause is Cause.CPU
    assert event.cpu_time > 0.05
    assert event.blamed is not None
    assert event.blamed.function.endswith("_cpu_inner")
    assert any(f.function.endswith("_cpu_outer") for f in event.stacks[0])
    assert "process" in (event.fix or "")
    report = w.report()
    assert report.sites[0].cpu_share > 0.5
    assert "_cpu_inner" in report.render_text()


class _Node:
    __slots__ = ("other",)

    def __init__(self) -> None:
        self.other: Any = None


def _make_cyclic_garbage(n: int) -> None:
    nodes = [_Node() for _ in range(n)]
    for a, b in itertools.pairwise(nodes):
        a.other = b
    nodes[-1].other = nodes[0]


def test_gc_pause_is_labelled_gc(run_loop: RunLoop) -> None:
    async def main() -> Watcher:
        w = watch(threshold_ms=20, log=False)
        await asyncio.sleep(0.05)
        gc.collect()  # GC LINE
        await wait_for(lambda: bool(w.events))
        return w

    gc.disable()
    try:
        _make_cyclic_garbage(1_500_000)  # built off the loop: the stall is the collection alone
        w = run_loop(main())
    finally:
        gc.enable()
    w.stop()
    events = [e for e in w.events if e.blamed and "GC LINE" in e.blamed.source]
    assert len(events) == 1, list(w.events)
    assert events[0].cause is Cause.GC
    assert events[0].stack_source in ("samples", "gc", "signal")
    assert events[0].gc_time >= events[0].duration / 2
    assert "garbage collection" in (events[0].fix or "")


def test_regex_holding_the_gil_still_gets_its_line(run_loop: RunLoop) -> None:
    async def main() -> Watcher:
        w = watch(threshold_ms=100, log=False)
        await asyncio.sleep(0.05)
        re.match(r"(a+)+$", "a" * 23 + "b")  # REGEX LINE
        await wait_for(lambda: bool(w.events))
        return w

    w = run_loop(main())
    w.stop()
    events = [e for e in w.events if e.blamed and "REGEX LINE" in e.blamed.source]
    assert len(events) == 1, list(w.events)
    event = events[0]
    assert event.duration > 0.15
    assert event.cause is Cause.CPU
    assert event.stack_source in ("samples", "signal")
    assert event.offender is not None
    assert event.offender.function == "match"


def test_real_http_server_with_a_stalling_handler(run_loop: RunLoop) -> None:
    import aiohttp
    from aiohttp import web

    async def fast(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def slow(request: web.Request) -> web.Response:
        time.sleep(0.3)  # HANDLER STALL
        return web.Response(text="slow")

    async def main() -> Watcher:
        w = watch(threshold_ms=100, log=False)
        app = web.Application()
        app.router.add_get("/", fast)
        app.router.add_get("/slow", slow)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        async with aiohttp.ClientSession() as session:
            for path in ("/", "/slow", "/"):
                async with session.get(f"http://127.0.0.1:{port}{path}") as resp:
                    assert resp.status == 200
        await wait_for(lambda: bool(w.events))
        await runner.cleanup()
        return w

    w = run_loop(main())
    w.stop()
    hits = [e for e in w.events if e.blamed and "HANDLER STALL" in e.blamed.source]
    assert len(hits) == 1
    assert hits[0].task is not None
    assert hits[0].cause is Cause.BLOCKED


@pytest.mark.parametrize("timing", ["sampled", "always", "off"])
def test_short_iterations_produce_no_events_and_sane_percentiles(
    run_loop: RunLoop, timing: str
) -> None:
    async def main() -> tuple[Watcher, int]:
        w = watch(threshold_ms=100, iteration_timing=timing, log=False)
        loop_id = id(asyncio.get_running_loop())
        started = time.perf_counter()
        for i in range(3000):
            if i % 500 == 0:
                time.sleep(0.02)  # a few busy iterations below the threshold
            await asyncio.sleep(0)
        if timing == "sampled":  # the first timing window opens a second in
            while time.perf_counter() - started < 1.1:
                await asyncio.sleep(0.001)
        await asyncio.sleep(0.15)
        return w, loop_id

    w, loop_id = run_loop(main())
    report = w.report()
    w.stop()
    assert not w.events
    loop = next(lp for lp in report.loops if lp.loop_id == loop_id)
    assert loop.lag is not None
    assert loop.lag.count > 0
    for p in filter(None, (loop.busy, loop.lag)):
        assert 0 <= p.p50 <= p.p90 <= p.p99 <= p.p999 <= p.max < 0.1
        assert 0 < p.mean <= p.max
    if loop.mode == "heartbeat":
        assert loop.busy is None
        assert not loop.timed
    else:
        assert loop.busy is not None
        assert loop.busy.count >= (3000 if timing == "always" else 10)
        assert loop.busy.p50 < 0.005
        if timing == "always":
            assert loop.busy.max >= 0.015  # the 20 ms iterations are there
        assert loop.timed
        assert 0.0 < loop.utilization <= 1.0
        hist = w.histogram(loop_id)
        assert hist is not None
        assert hist.get_total_count() == loop.busy.count


@pytest.mark.slow
def test_utilization_covers_every_run_of_a_loop_asyncio_run_makes() -> None:
    # started before asyncio.run, as `unstall run` does: the loop is attached for its main run
    # and again for each shutdown step; utilization must come from the windows of the main run
    async def main() -> int:
        end = time.perf_counter() + 2.2  # two sampled windows, at 1 s and 2 s
        while time.perf_counter() < end:
            time.sleep(0.005)
            await asyncio.sleep(0.005)
        return id(asyncio.get_running_loop())

    w = watch(threshold_ms=100, log=False)
    try:
        loop_id = asyncio.run(main())
        rows = [lp for lp in w.report().loops if lp.loop_id == loop_id]
    finally:
        w.stop()
    assert len(rows) == 1
    assert rows[0].mode == "sampled iterations"
    assert rows[0].timed
    assert 0.25 < rows[0].utilization < 0.85


def test_utilization_tracks_the_busy_fraction() -> None:
    async def main(busy: bool) -> tuple[Watcher, int]:
        w = watch(threshold_ms=100, iteration_timing="always", log=False)
        end = time.perf_counter() + 0.4
        while time.perf_counter() < end:
            if busy:
                time.sleep(0.01)
            await asyncio.sleep(0.01)
        return w, id(asyncio.get_running_loop())

    values = []
    for busy in (True, False):
        w, loop_id = asyncio.run(main(busy))
        values.append(next(lp.utilization for lp in w.report().loops if lp.loop_id == loop_id))
        w.stop()
    assert 0.25 < values[0] < 0.85
    assert values[1] < 0.2
