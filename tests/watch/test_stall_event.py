"""The stall event builder on its own: data in (a finished stall, its samples), a StallEvent out."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import pytest

from unstall.watch import Cause, Frame, TaskInfo
from unstall.watch._judge import where_of
from unstall.watch._loops import LoopState, Mark, Pending
from unstall.watch._sampling import MAX_STACKS, Session
from unstall.watch._stall_event import stall_event

NO_CLOCK = Mark(0.0, -1.0, -1.0)


@pytest.fixture
def state() -> Iterator[LoopState]:
    loop = asyncio.new_event_loop()
    made = LoopState(loop, 0.1)
    yield made
    made.release()
    loop.close()


def _stack(line: int, function: str = "handler") -> tuple[Frame, ...]:
    return (Frame("/app/main.py", 1, "main", "app"), Frame("/app/app.py", line, function, "app"))


def _session(*stacks: tuple[tuple[Frame, ...], int]) -> Session:
    session = Session(10.0, 10.05)
    for stack, count in stacks:
        session.stacks[stack] = count
        session.samples += count
    return session


def test_a_sampled_stall_keeps_its_stacks_most_sampled_first_and_its_task(
    state: LoopState,
) -> None:
    session = _session((_stack(3), 2), (_stack(7), 5))
    session.task = TaskInfo("handler-task", "handler")
    session.context = (("request_id", "req-1"),)
    stall = Pending(10.0, 0.3, True, NO_CLOCK, NO_CLOCK)
    event = stall_event(
        state, stall, session, threshold=0.1, busy_poll=0.005, dumped=None, wall=1000.0
    )
    assert event.start == 1010.0
    assert (event.duration, event.threshold, event.precision) == (0.3, 0.1, 0.0)
    assert event.stacks == (_stack(7), _stack(3))
    assert event.stack_source == "samples"
    assert event.blamed == _stack(7)[-1]
    assert event.samples == 7
    assert event.task == session.task
    assert event.context == session.context
    assert (event.thread_id, event.thread_name, event.loop_id) == (
        state.thread_id,
        state.thread_name,
        state.loop_id,
    )
    # no CPU clock, and 7 samples where 50 were asked for: the watchdog was starved of the GIL
    assert event.cause is Cause.CPU


def test_at_most_max_stacks_are_kept(state: LoopState) -> None:
    session = _session(*((_stack(line), line) for line in range(1, MAX_STACKS + 4)))
    stall = Pending(10.0, 0.3, True, NO_CLOCK, NO_CLOCK)
    event = stall_event(state, stall, session, threshold=0.1, busy_poll=0.005, dumped=None, wall=0)
    assert len(event.stacks) == MAX_STACKS
    assert event.stacks[0] == _stack(MAX_STACKS + 3)


def test_a_heartbeat_stall_is_known_within_half_an_interval(state: LoopState) -> None:
    stall = Pending(10.0, 0.3, False, NO_CLOCK, NO_CLOCK)
    event = stall_event(state, stall, None, threshold=0.1, busy_poll=0.005, dumped=None, wall=0)
    assert event.precision == state.interval / 2
    assert (event.stacks, event.stack_source, event.samples) == ((), "", 0)
    assert event.cause is Cause.UNKNOWN  # no clock and no samples: nothing to tell
    assert event.blamed is None
    assert event.task is None


def test_the_cause_comes_from_the_cpu_marks(state: LoopState) -> None:
    busy = Pending(10.0, 0.3, True, Mark(9.99, 5.0, -1.0), Mark(10.3, 5.29, -1.0))
    waiting = Pending(10.0, 0.3, True, Mark(9.99, 5.0, -1.0), Mark(10.3, 5.01, -1.0))
    cpu = stall_event(state, busy, None, threshold=0.1, busy_poll=0.005, dumped=None, wall=0)
    assert cpu.cause is Cause.CPU
    assert cpu.cpu_time == pytest.approx(0.29)
    blocked = stall_event(state, waiting, None, threshold=0.1, busy_poll=0.005, dumped=None, wall=0)
    assert blocked.cause is Cause.BLOCKED


def test_a_dump_is_the_stack_only_when_no_sample_has_one(state: LoopState) -> None:
    dumped = _stack(42, "in_c")
    stall = Pending(10.0, 0.3, True, NO_CLOCK, NO_CLOCK)
    alone = stall_event(state, stall, None, threshold=0.1, busy_poll=0.005, dumped=dumped, wall=0)
    assert alone.stacks == (dumped,)
    assert alone.stack_source == "faulthandler"
    sampled = _session((_stack(3), 4))
    both = stall_event(state, stall, sampled, threshold=0.1, busy_poll=0.005, dumped=dumped, wall=0)
    assert both.stacks == (_stack(3),)
    assert both.stack_source == "samples"


def test_a_gc_stall_blames_the_line_that_set_the_collection_off(state: LoopState) -> None:
    where = where_of(sys._getframe())  # THE LINE THAT ALLOCATED
    state.gc_spans.append((10.0, 10.25, where))
    session = _session((_stack(3), 4))
    stall = Pending(10.0, 0.3, True, NO_CLOCK, NO_CLOCK)
    event = stall_event(state, stall, session, threshold=0.1, busy_poll=0.005, dumped=None, wall=0)
    assert event.cause is Cause.GC
    assert event.gc_time == pytest.approx(0.25)
    assert event.stack_source == "gc"
    assert event.stacks[1:] == (_stack(3),)
    assert event.blamed is not None
    assert "THE LINE THAT ALLOCATED" in event.blamed.source
