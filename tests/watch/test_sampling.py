"""Sampling sessions on their own: one per stalled loop, ended when the loop comes back, matched once."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from unstall.watch._loops import LoopState
from unstall.watch._sampling import Sampler, Session, _current_frames


@pytest.fixture
def state() -> Iterator[LoopState]:
    loop = asyncio.new_event_loop()
    made = LoopState(loop, 0.1)  # made on this thread: the samples are of this thread
    yield made
    made.release()
    loop.close()


def test_a_stalled_loop_gets_one_session_that_collects_its_samples(state: LoopState) -> None:
    sampler = Sampler([])
    assert sampler.sample(state, 5.0, 5.06) == 0
    session = sampler.current[state.loop_id]
    assert (session.since, session.first, session.samples) == (5.0, 5.06, 1)
    assert sampler.sample(state, 5.0, 5.07) == 0
    assert sampler.current[state.loop_id] is session
    assert session.samples == 2
    for stack in session.stacks:  # this thread, in this test (one stack per line it sampled from)
        assert any(f.function.startswith("test_a_stalled_loop") for f in stack)
    assert session.task is None  # the loop is not running: no task to name


def test_a_session_ends_when_the_loop_comes_back_and_is_matched_once() -> None:
    sampler = Sampler([])
    session = sampler.current[1] = Session(5.0, 5.06)
    sampler.follow(1, 5.0)  # still the same stall
    assert sampler.current[1] is session
    sampler.follow(1, 0.0)  # back in select
    assert 1 not in sampler.current
    assert sampler.recent[-1] == (1, session)
    assert sampler.match(2, 5.0, 0.3) is None  # another loop's stall
    assert sampler.match(1, 5.0, 0.3) is session
    assert not sampler.recent
    assert sampler.match(1, 5.0, 0.3) is None


def test_a_stall_known_from_a_late_heartbeat_is_matched_by_its_first_sample() -> None:
    sampler = Sampler([])
    sampler.current[1] = running = Session(5.0, 5.06)
    # the heartbeat dates a stall within half an interval: not the session's own start
    assert sampler.match(1, 4.995, 0.3) is running
    assert sampler.current[1] is running  # a stall still running keeps its session
    assert sampler.match(1, 6.0, 0.3) is None


def test_clear_forgets_every_session() -> None:
    sampler = Sampler([])
    sampler.current[1] = Session(5.0, 5.06)
    sampler.follow(1, 0.0)
    sampler.current[1] = Session(6.0, 6.06)
    sampler.clear()
    assert not sampler.current
    assert not sampler.recent


def test_no_collection_starts_while_the_thread_frames_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # sys._current_frames holds the thread-list lock while it allocates; a collection started
    # there can need the lock again (a deadlock on 3.11 that stops the host): none may start.
    real = sys._current_frames
    inside = False
    during: list[str] = []

    def reading() -> dict[int, Any]:
        nonlocal inside
        inside = True
        try:
            return real()
        finally:
            inside = False

    def callback(phase: str, info: dict[str, int]) -> None:
        if inside:
            during.append(phase)

    def run(read: Any) -> int:
        during.clear()
        threshold = gc.get_threshold()
        gc.set_threshold(1)  # every allocation may start a collection
        gc.callbacks.append(callback)
        try:
            for _ in range(200):
                assert threading.get_ident() in read()
        finally:
            gc.callbacks.remove(callback)
            gc.set_threshold(*threshold)
        return len(during)

    # (the bare call is not tried: with collections starting inside it, it can deadlock the run)
    monkeypatch.setattr(sys, "_current_frames", reading)
    assert run(_current_frames) == 0
    assert gc.isenabled()
    gc.disable()
    try:
        _current_frames()
        assert not gc.isenabled()  # a host that turned collection off keeps it off
    finally:
        gc.enable()
