"""The loop's kernel timers: the alarm the heartbeat re-arms (the watchdog sleeps on it) and the
periodic beat that is the heartbeat itself."""

from __future__ import annotations

import asyncio
import os
import select
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.loops import RunLoop
from tests.waiting import wait_for, wait_until

import unstall.watch._alarm as alarm_module
import unstall.watch._watchdog as watchdog_module
import unstall.watch._watcher as watcher_module
from unstall.watch import Cause, Watcher
from unstall.watch._alarm import Alarm, create_alarm
from unstall.watch._loops import LoopState
from unstall.watch._sampling import Sampler
from unstall.watch._watchdog import Watchdog

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="timerfd is Linux's; elsewhere the watchdog polls"
)


@pytest.fixture
def alarm() -> Iterator[Alarm]:
    made = create_alarm()
    assert made is not None
    yield made
    made.close()


def _readable(fd: int, timeout: float) -> bool:
    return bool(select.select([fd], [], [], timeout)[0])


def test_an_armed_alarm_fires_once_after_its_delay(alarm: Alarm) -> None:
    start = time.perf_counter()
    assert alarm.arm(0.05)
    assert not _readable(alarm.fd, 0.02)
    assert _readable(alarm.fd, 1.0)
    assert time.perf_counter() - start >= 0.045
    assert alarm.clear()
    assert not alarm.clear()  # one-shot: consumed, not re-fired
    assert not _readable(alarm.fd, 0.08)


def test_re_arming_pushes_the_deadline_and_disarming_cancels_it(alarm: Alarm) -> None:
    alarm.arm(0.06)
    for _ in range(5):  # a heartbeat that keeps coming: the alarm never fires
        time.sleep(0.03)
        alarm.arm(0.06)
    assert not alarm.clear()
    alarm.disarm()
    assert not _readable(alarm.fd, 0.1)


def test_re_arming_after_a_firing_makes_it_quiet_again(alarm: Alarm) -> None:
    alarm.arm(0.001)
    assert _readable(alarm.fd, 1.0)
    alarm.arm(10.0)  # a late heartbeat: the watchdog must not see the old firing
    assert not _readable(alarm.fd, 0.02)


def test_a_closed_alarm_refuses_to_arm_without_raising(alarm: Alarm) -> None:
    alarm.close()
    alarm.close()
    assert alarm.fd == -1
    assert not alarm.arm(0.01)
    alarm.disarm()
    assert not alarm.clear()


def test_a_periodic_timer_counts_every_period_since_the_last_read(alarm: Alarm) -> None:
    assert alarm.expirations() == 0  # never armed: nothing to read
    assert alarm.arm(0.01, 0.01)
    time.sleep(0.105)
    first = alarm.expirations()
    assert 5 <= first <= 11
    assert alarm.expirations() == 0  # consumed
    assert _readable(alarm.fd, 1.0)  # and it keeps firing
    alarm.disarm()
    alarm.expirations()
    assert not _readable(alarm.fd, 0.05)


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="3.13 has os.timerfd_create")
def test_before_3_13_the_alarm_goes_through_the_c_library() -> None:
    backend = alarm_module._via_ctypes()
    assert backend is not None
    make, arm = backend
    fd = make()
    try:
        arm(fd, 0.001, 0.0)
        assert _readable(fd, 1.0)
        assert int.from_bytes(os.read(fd, 8), sys.byteorder) == 1
        arm(fd, 0.005, 0.005)  # periodic
        time.sleep(0.06)
        assert int.from_bytes(os.read(fd, 8), sys.byteorder) >= 5
    finally:
        os.close(fd)


@pytest.mark.skipif(sys.version_info < (3, 13), reason="os.timerfd_create is new in 3.13")
def test_from_3_13_the_alarm_uses_the_os_module() -> None:
    assert alarm_module._via_os() is not None
    made = create_alarm()
    assert made is not None
    made.close()


def test_without_timerfd_there_is_no_alarm_and_the_watchdog_polls(
    monkeypatch: pytest.MonkeyPatch, run_loop: RunLoop
) -> None:
    monkeypatch.setattr(alarm_module, "_probed", True)
    monkeypatch.setattr(alarm_module, "_native", None)
    assert create_alarm() is None

    async def main() -> Watcher:
        with Watcher(threshold_ms=40, log=False) as w:
            state = w._states[0]
            assert state.alarm is None
            assert not state.alarm_ok
            assert w._watchdog.next_wait(False, w._states) == w._watchdog.idle_poll
            assert await wait_for(lambda: state.lag)  # the heartbeat ticks
            time.sleep(0.15)
            assert await wait_for(lambda: w.events)
        return w

    w = run_loop(main())
    assert [e.cause for e in w.events] == [Cause.BLOCKED]
    assert w.events[0].samples > 0


def _count_polls(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    polls: list[float] = []
    original = watcher_module.Watcher._poll

    def counting(self: Watcher, state: Any, now: float) -> None:
        polls.append(now)
        original(self, state, now)

    monkeypatch.setattr(watcher_module.Watcher, "_poll", counting)
    return polls


def _record_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float]]:
    """(loops watched, seconds) of every wait the watchdog decides on after a look at its loops."""
    sleeps: list[tuple[int, float]] = []
    original = Watchdog.next_wait

    def recording(self: Watchdog, sampling: bool, loops: tuple[LoopState, ...]) -> float:
        wait = original(self, sampling, loops)
        sleeps.append((len(loops), wait))
        return wait

    monkeypatch.setattr(Watchdog, "next_wait", recording)
    return sleeps


def _asleep(sleeps: list[tuple[int, float]], loops: int, longer_than: float) -> bool:
    """Whether the watchdog, watching ``loops`` loops, went to sleep for over ``longer_than`` s."""
    return any(n == loops and wait > longer_than for n, wait in sleeps)


@pytest.mark.slow
def test_the_watchdog_sleeps_while_the_loop_is_healthy(
    monkeypatch: pytest.MonkeyPatch, run_loop: RunLoop
) -> None:
    polls = _count_polls(monkeypatch)
    sleeps = _record_sleeps(monkeypatch)

    async def main() -> tuple[int, int]:
        with Watcher(threshold_ms=100, log=False) as w:
            assert w._states[0].alarm_ok
            # start-up is over: it sleeps past the threshold
            assert await wait_for(lambda: _asleep(sleeps, 1, 0.1))
            before = len(polls)
            deadline = time.perf_counter() + 1.2
            while time.perf_counter() < deadline:  # busy but healthy: short steps
                await asyncio.sleep(0)
            busy = len(polls) - before
            before = len(polls)
            await asyncio.sleep(1.2)  # idle
            return busy, len(polls) - before

    busy, idle = run_loop(main())
    # polling every half threshold would be 24 wake-ups in each phase; housekeeping is 1 s
    assert busy <= 3
    assert idle <= 3


def test_a_sleeping_watchdog_still_samples_and_times_a_stall(
    monkeypatch: pytest.MonkeyPatch, run_loop: RunLoop
) -> None:
    polls = _count_polls(monkeypatch)
    sleeps = _record_sleeps(monkeypatch)

    async def main() -> Watcher:
        with Watcher(threshold_ms=50, log=False) as w:
            # asleep for longer than the stall: only the alarm can wake it in time
            assert await wait_for(lambda: _asleep(sleeps, 1, 0.25))
            quiet = len(polls)
            time.sleep(0.25)  # the alarm fires half a threshold after the late heartbeat
            assert await wait_for(lambda: w.events)
            assert len(polls) - quiet >= 10  # sampling at the busy cadence meanwhile
        return w

    w = run_loop(main())
    assert len(w.events) == 1
    event = w.events[0]
    assert event.cause is Cause.BLOCKED
    assert 0.22 <= event.duration <= 0.35
    assert event.samples >= 5
    assert event.blamed is not None
    assert event.blamed.function.endswith("main")


def test_an_alarm_read_before_the_loop_stalls_still_gets_the_stall_sampled(
    monkeypatch: pytest.MonkeyPatch, run_loop: RunLoop
) -> None:
    # the alarm is one-shot: a firing the watchdog reads while the loop is still healthy (its
    # dead man's switch landing just after a heartbeat re-armed the alarm does this) leaves no
    # deadline until the next heartbeat, which a loop that stalls first never gives
    monkeypatch.setattr(watchdog_module, "_HOUSEKEEPING", 60.0)  # only a wake-up ends a wait
    sleeps = _record_sleeps(monkeypatch)

    async def main() -> Watcher:
        with Watcher(threshold_ms=100, log=False, sentinel=False) as w:
            alarm = w._states[0].alarm
            assert alarm is not None
            assert await wait_for(lambda: _asleep(sleeps, 1, 0.5))
            looks = len(sleeps)
            assert alarm.arm(0.001)  # fires while the loop is healthy
            # the stall begins now, before the next heartbeat: first until the watchdog has
            # read the alarm and looked (finding nothing late yet), then for good
            assert wait_until(lambda: len(sleeps) > looks)
            time.sleep(0.3)
            assert await wait_for(lambda: w.events)
        return w

    w = run_loop(main())
    assert len(w.events) == 1
    event = w.events[0]
    assert event.duration >= 0.3
    assert event.samples >= 3
    assert event.blamed is not None
    assert event.blamed.function.endswith("main")


@pytest.mark.slow
def test_back_to_back_stalls_are_each_sampled_with_the_dead_mans_switch_armed(
    monkeypatch: pytest.MonkeyPatch, run_loop: RunLoop
) -> None:
    # the watchdog arms its dead man's switch after each look at a stall (sentinel on); the
    # stall may end, and the loop's heartbeat re-arm the alarm, while it samples: the switch
    # then replaces the loop's deadline, fires while the loop is healthy, and the next stall,
    # begun before another heartbeat, must still wake the watchdog
    stalls = 12
    original = Sampler.sample

    def slow(self: Sampler, state: LoopState, since: float, now: float) -> int:
        errors = original(self, state, since, now)
        time.sleep(0.004)  # a deep stack on a loaded machine: most stalls end meanwhile
        return errors

    monkeypatch.setattr(Sampler, "sample", slow)

    async def main() -> Watcher:
        with Watcher(threshold_ms=100, log=False) as w:
            await asyncio.sleep(0.05)
            for _ in range(stalls):
                time.sleep(0.15)
                # the heartbeat, late, ends the stall in the next iteration; the next stall
                # begins right after it
                await asyncio.sleep(0)
                await asyncio.sleep(0)
            assert await wait_for(lambda: len(w.events) >= stalls)
        return w

    w = run_loop(main())
    seen = [(round(e.duration, 3), e.samples) for e in w.events]
    assert len(w.events) == stalls, seen
    assert all(e.samples for e in w.events), seen


def test_a_loop_started_later_in_another_thread_gets_its_alarm_listened_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    got: list[Watcher] = []
    sleeps = _record_sleeps(monkeypatch)

    def other() -> None:
        async def stall() -> None:
            await asyncio.sleep(0.05)
            time.sleep(0.2)
            await wait_for(lambda: w.events)  # checked below

        asyncio.run(stall())

    with Watcher(threshold_ms=50, log=False) as w:
        # the watchdog is asleep on its pipe, listening to no loop, for longer than the stall
        assert wait_until(lambda: _asleep(sleeps, 0, 0.2))
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        got.append(w)
    assert len(w.events) == 1
    assert w.events[0].samples >= 3
    assert w.events[0].thread_name == thread.name


def test_after_a_fork_a_loop_state_makes_its_own_alarm() -> None:
    # a forked child's copy of a timerfd is the parent's timer itself: re-arming it from the
    # child would move the parent's deadline, so the child closes its copy and makes its own
    loop = asyncio.new_event_loop()
    state = LoopState(loop, 0.05, alarm=True)
    try:
        state.install()
        inherited = state.alarm
        assert inherited is not None
        old_fd = inherited.fd
        state.after_fork()
        assert inherited.fd == -1  # the old descriptor is closed
        assert state.alarm is not None
        assert state.alarm is not inherited
        assert state.alarm_ok
        assert _readable(state.alarm.fd, 1.0)  # armed again: it fires without a heartbeat
        assert old_fd >= 0
    finally:
        state.uninstall()
        state.release()
        loop.close()


# ---- the beat: the heartbeat as a periodic timer the loop reads ------------------------------


def test_the_heartbeat_is_a_timer_the_loop_reads_not_a_pending_callback(
    run_loop: RunLoop,
) -> None:
    loop = run_loop.new_loop()
    state = LoopState(loop, 0.1)

    async def main() -> tuple[int, int]:
        state.install()
        assert state.beat is not None
        assert state._handle is None  # no call_later chain
        if run_loop.kind == "asyncio":
            # nothing of ours in the timer heap: a blocking select waits without a timeout
            assert not [h for h in loop._scheduled if not h.cancelled()]  # type: ignore[attr-defined]
        before = len(state.lag)
        await asyncio.sleep(0.3)
        return before, len(state.lag)

    try:
        before, after = loop.run_until_complete(main())
        # 0.3 s at a 12.5 ms interval: about 24 ticks, each with its lateness
        assert 15 <= after - before <= 30
        assert max(state.lag[before:]) < 50_000
        assert not state.pending
    finally:
        state.uninstall()
        state.release()
        loop.close()


def test_a_beat_missed_for_many_periods_reports_the_whole_stall_and_keeps_its_schedule(
    run_loop: RunLoop,
) -> None:
    loop = run_loop.new_loop()
    state = LoopState(loop, 0.05)  # interval 6.25 ms

    async def main() -> tuple[float, float]:
        state.install()
        assert await wait_for(lambda: state.lag)  # the beat ticks
        began = time.perf_counter()
        time.sleep(0.2)  # about 32 periods pass unread
        stalled = time.perf_counter() - began
        await asyncio.sleep(0.1)
        return began, stalled

    try:
        began, stalled = loop.run_until_complete(main())
        assert len(state.pending) == 1
        start, duration, exact = state.pending[0][:3]
        assert not exact
        assert began - state.interval <= start <= began + 0.01
        assert stalled - 0.01 <= duration <= stalled + 0.03
        # after the stall the ticks are on time again: the schedule was not lost
        assert max(state.lag[-8:]) < 10_000
        assert state.due > time.perf_counter() - state.interval
    finally:
        state.uninstall()
        state.release()
        loop.close()


def test_a_loop_that_cannot_take_a_reader_gets_a_call_later_heartbeat() -> None:
    class NoReaders(asyncio.SelectorEventLoop):
        def add_reader(self, fd: Any, callback: Any, *args: Any) -> None:  # type: ignore[override]
            raise NotImplementedError

    loop = NoReaders()
    state = LoopState(loop, 0.1)

    async def main() -> bool:
        state.install()
        return await wait_for(lambda: len(state.lag) >= 4)

    try:
        assert loop.run_until_complete(main())  # it ticks
        assert state.beat is None
        assert state._handle is not None
    finally:
        state.uninstall()
        state.release()
        loop.close()


def _beat_of(state: LoopState) -> Alarm | None:
    return state.beat


def test_uninstalling_unregisters_the_beat_on_the_loop_thread_or_through_the_loop(
    run_loop: RunLoop,
) -> None:
    loop = run_loop.new_loop()
    state = LoopState(loop, 0.1)

    async def install() -> Alarm:
        state.install()
        assert state.beat is not None
        return state.beat

    try:
        beat = loop.run_until_complete(install())
        fd = beat.fd
        # from another thread: the loop unregisters and closes it when it next runs
        worker = threading.Thread(target=state.uninstall)
        worker.start()
        worker.join()
        assert state.beat is None
        assert beat.fd == fd  # not yet: the loop has not run
        assert loop.run_until_complete(wait_for(lambda: beat.fd == -1))
        if run_loop.kind == "asyncio":
            assert fd not in loop._selector.get_map()  # type: ignore[attr-defined]
        # on the loop's own thread it is immediate
        state.install()
        again = _beat_of(state)  # (a call: the earlier ``is None`` does not carry over)
        assert again is not None
        state.uninstall()
        assert again.fd == -1
    finally:
        state.release()
        loop.close()


def test_a_beat_left_registered_on_a_loop_that_closed_is_closed_with_it() -> None:
    loop = asyncio.new_event_loop()
    state = LoopState(loop, 0.1)
    loop.run_until_complete(asyncio.sleep(0))
    state.install()
    beat = state.beat
    assert beat is not None
    loop.close()  # closed without running again
    state.uninstall()
    assert beat.fd == -1
    state.release()


def test_after_a_fork_the_inherited_beat_is_left_to_the_parent() -> None:
    # the child's loop shares the parent's epoll instance: unregistering the beat there would
    # unregister the parent's; the child forgets it and ticks by call_later
    loop = asyncio.new_event_loop()
    state = LoopState(loop, 0.05, alarm=True)
    try:
        state.install()
        beat = state.beat
        assert beat is not None
        state.after_fork()
        assert state.beat is None
        assert beat.fd >= 0  # neither closed nor unregistered
        assert beat.fd in loop._selector.get_map()  # type: ignore[attr-defined]
        assert state._handle is not None
        assert loop.run_until_complete(
            wait_for(lambda: state.lag)
        )  # the call_later heartbeat ticks
    finally:
        state.uninstall()
        state.release()
        if beat is not None:
            loop.remove_reader(beat.fd)
            beat.close()
        loop.close()
