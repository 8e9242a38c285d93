"""The watchdog thread on its own: when it looks, how long it sleeps, and that it ends cleanly."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import unstall.watch._watchdog as watchdog_module
from unstall.watch._loops import LoopState
from unstall.watch._watchdog import Watchdog


class _Looks:
    """A ``look`` that counts its calls, can be told to raise, and says whether it is sampling."""

    def __init__(self) -> None:
        self.count = 0
        self.sampling = False
        self.raises = False
        self.called = threading.Event()

    def __call__(self) -> bool:
        self.count += 1
        self.called.set()
        if self.raises:
            raise RuntimeError("a look that failed")
        return self.sampling


def _wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    made = asyncio.new_event_loop()
    yield made
    made.close()


def test_it_looks_when_woken_and_a_look_that_raises_does_not_end_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(watchdog_module, "_HOUSEKEEPING", 60.0)  # only a wake-up can end a wait
    looks = _Looks()
    dog = Watchdog(0.1, looks, lambda: ())
    dog.start(steady=False)
    try:
        assert dog.sleeps
        assert looks.called.wait(10.0)  # the first look, one idle poll in
        looks.raises = True
        looks.called.clear()
        dog.wake()
        assert looks.called.wait(10.0)
        looks.raises = False
        looks.sampling = True  # from the next look on it looks every busy_poll, unwoken
        looks.called.clear()
        dog.wake()
        assert looks.called.wait(10.0)  # still running after the look that raised
        seen = looks.count
        assert _wait_until(lambda: looks.count >= seen + 5)
    finally:
        thread = dog.stop()
        assert thread is not None
        assert dog.join(thread, 10.0)
    assert not thread.is_alive()
    assert not dog.sleeps  # the pipe is closed once the thread has ended


def test_the_next_wait(loop: asyncio.AbstractEventLoop) -> None:
    dog = Watchdog(0.1, lambda: False, lambda: ())
    assert (dog.idle_poll, dog.busy_poll) == (0.05, 0.005)
    assert dog.next_wait(False, ()) == dog.idle_poll  # no pipe yet: nothing could wake it
    with_alarm = LoopState(loop, 0.1, alarm=True)
    without = LoopState(loop, 0.1)
    dog.start(steady=False)
    try:
        if with_alarm.alarm_ok:  # a timerfd (Linux)
            assert dog.next_wait(False, (with_alarm,)) == watchdog_module._HOUSEKEEPING
        assert dog.next_wait(False, (with_alarm, without)) == dog.idle_poll
        assert dog.next_wait(True, (with_alarm,)) == dog.busy_poll
    finally:
        dog.join(dog.stop(), 10.0)
    dog.start(steady=True)
    try:
        assert dog.next_wait(False, (with_alarm,)) == dog.idle_poll
    finally:
        dog.join(dog.stop(), 10.0)
        with_alarm.release()
        without.release()


def test_a_loop_alarm_that_fires_wakes_it(
    monkeypatch: pytest.MonkeyPatch, loop: asyncio.AbstractEventLoop
) -> None:
    monkeypatch.setattr(watchdog_module, "_HOUSEKEEPING", 60.0)
    state = LoopState(loop, 0.1, alarm=True)
    if state.alarm is None:
        pytest.skip("no timerfd here: the watchdog polls")
    looks = _Looks()
    dog = Watchdog(0.1, looks, lambda: (state,))
    dog.start(steady=False)
    try:
        assert looks.called.wait(10.0)
        looks.called.clear()
        assert state.alarm.arm(0.01)
        assert looks.called.wait(10.0)
        assert state.alarm.expirations() == 0  # cleared by the watchdog
    finally:
        dog.join(dog.stop(), 10.0)
        state.release()
