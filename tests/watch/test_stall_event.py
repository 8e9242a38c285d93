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
from unstall.watch._sentinel import Dump
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
    event = stall_event(state, stall, session, threshold=0.1, busy_poll=0.005, wall=1000.0)
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
    event = stall_event(state, stall, session, threshold=0.1, busy_poll=0.005, wall=0)
    assert len(event.stacks) == MAX_STACKS
    assert event.stacks[0] == _stack(MAX_STACKS + 3)


def test_a_heartbeat_stall_is_known_within_half_an_interval(state: LoopState) -> None:
    stall = Pending(10.0, 0.3, False, NO_CLOCK, NO_CLOCK)
    event = stall_event(state, stall, None, threshold=0.1, busy_poll=0.005, wall=0)
    assert event.precision == state.interval / 2
    assert (event.stacks, event.stack_source, event.samples) == ((), "", 0)
    assert event.cause is Cause.UNKNOWN  # no clock and no samples: nothing to tell
    assert event.blamed is None
    assert event.task is None


def test_the_cause_comes_from_the_cpu_marks(state: LoopState) -> None:
    busy = Pending(10.0, 0.3, True, Mark(9.99, 5.0, -1.0), Mark(10.3, 5.29, -1.0))
    waiting = Pending(10.0, 0.3, True, Mark(9.99, 5.0, -1.0), Mark(10.3, 5.01, -1.0))
    cpu = stall_event(state, busy, None, threshold=0.1, busy_poll=0.005, wall=0)
    assert cpu.cause is Cause.CPU
    assert cpu.cpu_time == pytest.approx(0.29)
    blocked = stall_event(state, waiting, None, threshold=0.1, busy_poll=0.005, wall=0)
    assert blocked.cause is Cause.BLOCKED


def test_a_gc_stall_blames_the_line_that_set_the_collection_off(state: LoopState) -> None:
    where = where_of(sys._getframe())  # THE LINE THAT ALLOCATED
    state.gc_spans.append((10.0, 10.25, where))
    session = _session((_stack(3), 4))
    stall = Pending(10.0, 0.3, True, NO_CLOCK, NO_CLOCK)
    event = stall_event(state, stall, session, threshold=0.1, busy_poll=0.005, wall=0)
    assert event.cause is Cause.GC
    assert event.gc_time == pytest.approx(0.25)
    assert event.stack_source == "gc"
    assert event.stacks[1:] == (_stack(3),)
    assert event.blamed is not None
    assert "THE LINE THAT ALLOCATED" in event.blamed.source


def _dump(state: LoopState, native_id: int, stack: tuple[Frame, ...], at: float = 10.1) -> Dump:
    return Dump(at, state.loop_id, native_id, stack, ((native_id, 0.1),))


C_MATCH = Frame("<C>", 0, "match", "")


def test_the_loop_thread_s_own_dumps_come_before_its_samples(state: LoopState) -> None:
    in_c = (*_stack(42, "parse"), C_MATCH)
    session = _session((_stack(43, "parse"), 1))  # a line late: taken as the stall ended
    stall = Pending(10.0, 0.3, True, NO_CLOCK, NO_CLOCK)
    dumps = (_dump(state, state.native_id, in_c), _dump(state, state.native_id, in_c, 10.2))
    event = stall_event(state, stall, session, threshold=0.1, busy_poll=0.005, wall=0, dumps=dumps)
    assert event.stacks == (in_c, _stack(43, "parse"))
    assert event.stack_source == "signal"
    assert event.blamed == in_c[1]
    assert event.offender == C_MATCH
    assert event.samples == 3
    assert event.gil_thread == ""


def _handed_chain() -> tuple[tuple[object, int, str], ...]:
    # the await chain of a task waiting for a worker, as the loop thread notes it
    return tuple(where_of(sys._getframe()))  # HANDED THE WORK


def test_a_loop_waiting_for_another_thread_s_gil_blames_the_line_that_handed_it_the_work(
    state: LoopState,
) -> None:
    worker = (
        Frame("/usr/lib/python3/threading.py", 1010, "Thread.run", "threading"),
        Frame("/usr/lib/python3/concurrent/futures/thread.py", 58, "_WorkItem.run", "concurrent"),
        Frame("/app/parsing.py", 12, "parse", "app"),
        C_MATCH,
    )
    other = Pending(10.0, 0.3, True, NO_CLOCK, NO_CLOCK, (_handed_chain(),))
    dumps = (_dump(state, 4242, worker),)
    event = stall_event(
        state,
        other,
        None,
        threshold=0.1,
        busy_poll=0.005,
        wall=0,
        dumps=dumps,
        thread_names={4242: "asyncio_0"},
    )
    assert event.cause is Cause.GIL
    assert event.gil_thread == "asyncio_0"
    assert event.stacks[0] == worker
    assert event.blamed is not None
    assert "HANDED THE WORK" in event.blamed.source
    assert event.offender == C_MATCH
    assert event.stack_source == "signal"
    assert event.fix is not None
    assert "asyncio_0" in event.fix
    assert "process" in event.fix
    # without the handing task, the worker's own line
    alone = stall_event(
        state,
        Pending(10.0, 0.3, True, NO_CLOCK, NO_CLOCK),
        None,
        threshold=0.1,
        busy_poll=0.005,
        wall=0,
        dumps=dumps,
    )
    assert alone.cause is Cause.GIL
    assert alone.blamed == worker[2]
    assert alone.gil_thread == "native id 4242"


def test_a_loop_starved_while_other_threads_ran_is_gil_even_without_a_sentinel(
    state: LoopState,
) -> None:
    before = Mark(10.0, 1.0, -1.0, 2.0)
    after = Mark(10.4, 1.01, -1.0, 2.35)  # the loop used 10 ms; the others 340 ms
    starved = Pending(10.05, 0.3, True, before, after)
    event = stall_event(state, starved, None, threshold=0.1, busy_poll=0.005, wall=0)
    assert event.cause is Cause.GIL
    assert "process" in (event.fix or "")
    sampled = _session((_stack(3), 50))  # the watchdog sampled all along: not the GIL
    blocked = stall_event(state, starved, sampled, threshold=0.1, busy_poll=0.005, wall=0)
    assert blocked.cause is Cause.BLOCKED
