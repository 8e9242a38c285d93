"""Where the watchdog runs and how it behaves in a host: threads, restarts, fork, memory, sinks, stop."""

from __future__ import annotations

import asyncio
import asyncio.base_events
import collections
import json
import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from tests.loops import RunLoop
from tests.waiting import wait_for, wait_until

from unstall.watch import Cause, Frame, Watcher, watch
from unstall.watch._loops import LoopState, Pending
from unstall.watch._report import site_key
from unstall.watch._sampling import Session


def _watchdogs() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "unstall-watchdog"]


def test_loops_in_two_threads_and_a_loop_that_restarts(run_loop: RunLoop) -> None:
    w = watch(threshold_ms=100, log=False)

    def thread_main() -> None:
        async def main() -> None:
            await asyncio.sleep(0.02)
            time.sleep(0.3)  # THREAD SLEEP
            await asyncio.sleep(0.2)

        for _ in range(2):  # a loop that closes, then a new one
            run_loop(main())

    threads = [threading.Thread(target=thread_main) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.stop()
    hits = [e for e in w.events if e.blamed and "THREAD SLEEP" in e.blamed.source]
    assert len(hits) == 4, list(w.events)
    assert len({e.thread_id for e in hits}) == 2
    assert len({e.loop_id for e in hits}) >= 2
    assert all(e.cause is Cause.BLOCKED for e in hits)
    assert all(lp.closed for lp in w.report().loops)


def test_a_loop_already_running_in_another_thread_is_found() -> None:
    go = threading.Event()
    loops: list[int] = []

    def thread_main() -> None:
        async def main() -> None:
            loops.append(id(asyncio.get_running_loop()))
            while not go.is_set():
                await asyncio.sleep(0.01)
            time.sleep(0.3)  # DISCOVERED
            await wait_for(lambda: w.stalls)

        asyncio.run(main())

    t = threading.Thread(target=thread_main)
    t.start()
    assert wait_until(lambda: loops)  # the loop runs before the watcher starts
    w = watch(threshold_ms=100, log=False)
    assert wait_until(lambda: any(lp.loop_id == loops[0] for lp in w.report().loops))
    go.set()
    t.join()
    w.stop()
    hits = [e for e in w.events if e.blamed and "DISCOVERED" in e.blamed.source]
    assert len(hits) == 1, list(w.events)


def test_raising_sinks_and_providers_are_contained_and_stop_restores_everything() -> None:
    original = asyncio.base_events.BaseEventLoop.run_forever
    calls: list[object] = []
    ctx_var: Any = __import__("contextvars").ContextVar("v")

    def bad_sink(event: object) -> None:
        raise RuntimeError("sink failure")

    def bad_provider(ctx: Any) -> dict[str, str]:
        raise LookupError("provider failure")

    async def main() -> Watcher:
        w = watch(
            threshold_ms=100,
            sinks=[bad_sink, calls.append],
            context=[bad_provider, ctx_var],
            iteration_timing=True,
            log=False,
        )
        await asyncio.sleep(0.02)
        time.sleep(0.3)
        await wait_for(lambda: w.stalls >= 1)
        selector = asyncio.get_running_loop()._selector  # type: ignore[attr-defined]
        assert "select" in vars(selector)
        w.stop()
        assert "select" not in vars(selector)
        return w

    w = asyncio.run(main())
    assert w.sink_errors >= 2  # the sink and the provider, both swallowed
    assert calls
    assert asyncio.base_events.BaseEventLoop.run_forever is original
    assert not _watchdogs()
    w.stop()  # idempotent


def test_no_watchdog_thread_is_left_after_stop(run_loop: RunLoop) -> None:
    async def main() -> None:
        with Watcher(threshold_ms=100, log=False) as w:
            await asyncio.sleep(0.05)
            assert w.running
            assert len(_watchdogs()) == 1

    run_loop(main())
    assert not _watchdogs()


def test_bounded_memory_over_ten_thousand_stalls() -> None:
    w = Watcher(threshold_ms=1, max_events=50, max_sites=10, log=False)
    loop = asyncio.new_event_loop()
    try:
        state = LoopState(loop, 0.001)
        now = time.perf_counter()
        for i in range(10_000):
            session = Session(now, now)
            frame = Frame(f"/app/mod{i % 40}.py", i % 97 + 1, f"handler{i % 40}", "app")
            session.stacks[(frame,)] = 1
            state.pending.append(Pending(now + i, 0.002, True, state.cpu_mark, state.cpu_mark))
            w._sampler.current[state.loop_id] = session
            w._flush(state, now)
    finally:
        state.release()
        loop.close()
    assert w.stalls == 10_000
    assert len(w.events) == 50
    report = w.report()
    assert len(report.sites) <= 10
    assert sum(s.count for s in report.sites) <= 10_000
    assert len(report.recent) == 10
    assert len(w._sampler.recent) <= 8


def test_many_short_lived_loops_keep_a_bounded_number_of_rows() -> None:
    w = watch(threshold_ms=100, log=False)
    for _ in range(30):
        asyncio.run(asyncio.sleep(0))
    rows = w.report().loops
    w.stop()
    assert len(rows) <= 17
    assert any("earlier closed loop" in r.thread_name for r in rows)


def test_forked_child_starts_clean_and_keeps_watching() -> None:
    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")

    async def stall() -> None:
        before = w.stalls
        await asyncio.sleep(0.02)
        time.sleep(0.3)  # FORK STALL
        await wait_for(lambda: w.stalls > before)

    w = watch(threshold_ms=100, log=False)
    other = Watcher(threshold_ms=100, log=False).start()  # every running watcher follows a fork
    asyncio.run(stall())
    assert w.stalls == 1
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            result: dict[str, Any] = {
                "events": len(w.events),
                "stalls": w.stalls,
                "sites": len(w.report().sites),
                "watchdogs": len(_watchdogs()),
            }
            asyncio.run(stall())
            result["child_stalls"] = w.stalls
            blamed = w.events[-1].blamed if w.events else None
            result["blamed"] = blamed.source if blamed is not None else ""
            os.write(write_end, json.dumps(result).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as fh:
        data = json.loads(fh.read() or "{}")
    os.waitpid(pid, 0)
    w.stop()
    other.stop()
    assert data["events"] == 0
    assert data["stalls"] == 0
    assert data["sites"] == 0
    assert data["watchdogs"] == 2
    assert data["child_stalls"] == 1
    assert "FORK STALL" in data["blamed"]
    assert w.stalls == 1  # the parent is untouched


def test_report_text_and_json() -> None:
    async def main() -> Watcher:
        w = watch(threshold_ms=100, log=False)
        await asyncio.sleep(0.02)
        time.sleep(0.3)  # REPORT STALL
        await wait_for(lambda: w.stalls >= 1)
        return w

    w = asyncio.run(main())
    w.stop()
    report = w.report()
    data = json.loads(report.to_json())
    assert data["stalls"] == 1
    assert data["threshold"] == pytest.approx(0.1)
    site = data["sites"][0]
    assert "test_watch_runtime.py" in site["location"]
    assert site["count"] == 1
    assert site["blocked_share"] == 1.0
    assert site["offender"] == "time.sleep"
    assert site["code"] == "UNS101"
    assert data["recent"][0]["cause"] == "blocked"
    assert data["loops"]
    assert "lag" in data["loops"][0]
    text = report.render_text()
    assert "1 stall(s)" in text
    assert "REPORT STALL" in text
    assert "offender: time.sleep" in text
    assert "p99.9" in text
    assert "utilization" in text


def test_logger_gets_every_event(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> Watcher:
        w = watch(threshold_ms=100)
        await asyncio.sleep(0.02)
        time.sleep(0.3)
        await wait_for(lambda: w.stalls >= 1)
        return w

    with caplog.at_level("WARNING", logger="unstall"):
        w = asyncio.run(main())
        w.stop()
    records = [r for r in caplog.records if r.name == "unstall"]
    assert len(records) == 1
    assert "stalled" in records[0].getMessage()
    assert getattr(records[0], "unstall.site") == site_key(w.events[0])


def test_the_watchdog_never_keeps_the_process_alive() -> None:
    code = (
        "import asyncio, time, unstall\n"
        "unstall.watch(threshold_ms=50, report_at_exit=True)\n"
        "async def main():\n"
        "    time.sleep(0.2)\n"
        "    await asyncio.sleep(0.1)\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "1 stall(s)" in done.stderr


def test_sites_aggregate_and_rank_by_total() -> None:
    async def main() -> Watcher:
        w = watch(threshold_ms=100, log=False)
        for seconds in (0.15, 0.15, 0.15):
            await asyncio.sleep(0.02)
            time.sleep(seconds)  # SMALL SITE
        await asyncio.sleep(0.02)
        time.sleep(0.3)  # BIG SITE
        await wait_for(lambda: w.stalls >= 4)
        return w

    w = asyncio.run(main())
    w.stop()
    sites = w.report().sites
    counts = collections.Counter({s.location.split("(")[0]: s.count for s in sites})
    assert sorted(counts.values()) == [1, 3]
    assert sites[0].total >= sites[1].total
    small = next(s for s in sites if s.count == 3)
    assert small.max >= small.p99 > 0.1
    assert small.example
    assert "SMALL SITE" in small.example[-2].source


def test_importing_the_watchdog_loads_neither_the_tripwire_nor_the_catalog() -> None:
    code = (
        "import sys, unstall.watch\n"
        "print(sorted(m for m in ('unstall.catalog', 'unstall.watch._tripwire', 'tomllib')"
        " if m in sys.modules))\n"
        "from unstall.watch import Tripwire\n"
        "print(Tripwire.__module__, 'unstall.watch._tripwire' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines() == ["[]", "unstall.watch True"]


def test_a_sample_that_lands_in_the_heartbeat_is_not_taken_for_the_stall() -> None:
    # after C code held the GIL for a whole stall, the watchdog's first chance to sample is
    # when the loop thread releases it: in the tick that ends the stall (reading its timer).
    # That sample says nothing about the stall and must not become its blamed line.
    from unstall.watch._alarm import Alarm

    readers: list[threading.Thread] = []

    def reader_in(module_function: Callable[[], object]) -> threading.Thread:
        thread = threading.Thread(target=module_function, daemon=True)
        thread.start()
        readers.append(thread)

        def reading() -> bool:  # inside the function: it blocks in its read
            frame = sys._current_frames().get(thread.ident or 0)
            while frame is not None and frame.f_code is not module_function.__code__:
                frame = frame.f_back
            return frame is not None

        assert wait_until(reading)
        return thread

    loop = asyncio.new_event_loop()
    w = Watcher(threshold_ms=100, log=False)
    state = LoopState(loop, 0.1)
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    beat = Alarm(r1, lambda fd, delay, interval: None)  # reads a pipe: blocks like a late tick
    try:
        in_tick = reader_in(beat.expirations)
        state.thread_id = in_tick.ident or 0
        session = Session(time.perf_counter(), time.perf_counter())
        w._sampler.take(state, session)
        assert session.samples == 0

        def user_code() -> None:
            os.read(r2, 1)  # USER READ

        in_user = reader_in(user_code)
        state.thread_id = in_user.ident or 0
        w._sampler.take(state, session)
        assert session.samples == 1
        (stack,) = session.stacks
        assert any(f.function.endswith("user_code") for f in stack)
    finally:
        os.write(w1, b"\0" * 8)
        os.write(w2, b"\0")
        for thread in readers:  # done reading before the descriptors close
            thread.join(5)
        for fd in (w1, r2, w2):
            os.close(fd)
        beat.close()
        state.release()
        loop.close()
