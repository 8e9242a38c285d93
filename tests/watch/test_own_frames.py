"""The watch's own frames never show: a stall is blamed on the user's line and the real callee."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import types

from tests.loops import RunLoop
from tests.waiting import wait_for, wait_until

from unstall.watch import Watcher, watch
from unstall.watch._frames import sample_stack


def _no_watch_frames(stacks: tuple[tuple[object, ...], ...]) -> bool:
    return not any(
        getattr(f, "module", "").startswith("unstall.watch") for stack in stacks for f in stack
    )


def test_a_sleep_under_the_tripwire_names_time_sleep_not_the_wrapper(run_loop: RunLoop) -> None:
    async def main() -> Watcher:
        w = watch(threshold_ms=100, log=False, tripwire=True)
        await asyncio.sleep(0.05)
        time.sleep(0.3)  # TRIPPED SLEEP
        await wait_for(lambda: bool(w.events))
        return w

    w = run_loop(main())
    w.stop()
    event = next(e for e in w.events if e.blamed and "TRIPPED SLEEP" in e.blamed.source)
    assert event.offender is not None
    assert (event.offender.module, event.offender.function) == ("time", "sleep")
    assert _no_watch_frames(event.stacks)
    site = w.report().sites[0]
    assert site.offender == "time.sleep"
    assert "original" not in w.report().render_text()


def _watch_module() -> types.ModuleType:
    """A module of the watch package (by name) that wraps ``time.sleep`` as the tripwire does."""
    module = types.ModuleType("unstall.watch._test_wrapper")
    exec(
        "import functools, time\n"
        "def wrap(original):\n"
        "    @functools.wraps(original)\n"
        "    def wrapper(*args):\n"
        "        return slow(args)\n"
        "    def slow(args):\n"
        "        return original(*args)\n"
        "    return wrapper\n",
        module.__dict__,
    )
    return module


fakelib = types.ModuleType("fakelib")  # a library the user's code calls, whose sleep is wrapped


def test_a_sample_ends_at_the_frame_that_called_into_the_watch() -> None:
    fakelib.sleep = _watch_module().wrap(time.sleep)  # type: ignore[attr-defined]
    started = threading.Event()

    def user_code() -> None:
        started.set()
        fakelib.sleep(0.5)  # USER CALL

    thread = threading.Thread(target=user_code)
    thread.start()
    try:
        assert started.wait(5)
        assert wait_until(lambda: _innermost(thread).f_code.co_name == "slow")
        stack = sample_stack(_innermost(thread))
    finally:
        thread.join()
    assert stack[-2].function.endswith("user_code")
    assert "USER CALL" in stack[-2].source
    assert (stack[-1].filename, stack[-1].module, stack[-1].function) == ("<C>", "fakelib", "sleep")
    assert _no_watch_frames((stack,))


def _innermost(thread: threading.Thread) -> types.FrameType:
    assert thread.ident is not None
    return sys._current_frames()[thread.ident]


def _sleeper(seconds: float) -> None:
    time.sleep(seconds)  # SPECIALISED CALL


def test_a_specialised_call_into_c_is_still_named() -> None:
    # warm the call site up: 3.11 then makes the call inside PRECALL, where the frame then sits
    for _ in range(64):
        _sleeper(0)
    thread = threading.Thread(target=_sleeper, args=(0.5,))
    thread.start()
    try:
        assert wait_until(lambda: _innermost(thread).f_code.co_name == "_sleeper")
        stack = sample_stack(_innermost(thread))
    finally:
        thread.join()
    assert "SPECIALISED CALL" in stack[-2].source
    assert (stack[-1].module, stack[-1].function) == ("time", "sleep")
