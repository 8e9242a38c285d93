"""Per-loop instrumentation: a heartbeat on every loop, iteration timing where the selector is reachable.

Heartbeat: a tick every ``interval`` seconds; its lateness is the loop's lag, and a tick later
than the threshold ends a stall (its start known within half an interval). On Linux the tick
is a periodic ``timerfd`` the loop reads like any socket (``add_reader``), so the loop has no
timer of ours pending: a pending timer gives every blocking wait of the selector a timeout,
and on a virtual machine the kernel timer that sets up and cancels per wait costs more than
the watch itself (5-6% of a loopback echo on stock asyncio, measured). Elsewhere, or when the
loop cannot take a reader, it is a ``call_later`` chain. It works on any loop (uvloop
included) and costs one callback per interval. Each tick
also pushes the loop's :class:`~unstall.watch._alarm.Alarm` forward (the watchdog sleeps until
a tick is half a threshold late), takes the loop thread's CPU mark every few ticks (the baseline
a stall's CPU share is measured from), and opens and closes the iteration-timing windows.

Iteration timing (stock asyncio): the loop's ``_selector.select`` is wrapped on the instance;
the time from its return to the next call is the iteration's busy part, exact. Nothing runs
per callback, but the wrapper and its two clock reads cost a few percent on loops that do
nothing but switch tasks, so by default it runs in windows (``window`` = 20 ms of every
``period`` = 1 s, the first one a period after the start): utilization and busy-time
percentiles come from the windows, and a stall that starts inside a window gets its exact
start. ``timing="always"`` keeps it on.

The loop thread writes; the watchdog thread reads racily, by design (floats and list appends
are atomic under the GIL).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from unstall.watch._alarm import Alarm, create_alarm
from unstall.watch._tasks import offload_waits

__all__ = ("LoopState", "Mark", "Pending", "others_ran", "run_times")


class Mark(NamedTuple):
    """The loop thread's clocks at one moment (see :func:`run_times`); ``-1.0`` when unknown."""

    time: float  # perf_counter seconds
    cpu: float  # CPU seconds the thread has used
    wait: float  # seconds it has waited for a CPU in the run queue
    process: float = -1.0  # CPU seconds every thread of the process has used


class Pending(NamedTuple):
    """A finished stall, queued by the loop thread for the watchdog to emit."""

    start: float  # perf_counter seconds
    duration: float  # seconds
    exact: bool  # measured by iteration timing (else from a late heartbeat: +- half an interval)
    before: Mark  # the loop thread's CPU mark from before the stall
    end: Mark  # its clocks when the stall ended
    # when other threads ran while this one waited: the await chains of the loop's tasks that
    # wait for work they handed to a thread, as (code, line, module) triples, innermost first
    handed: tuple[tuple[tuple[Any, int, str], ...], ...] = ()


_perf = time.perf_counter
_process_time = time.process_time


def thread_cpu_clock(thread_id: int) -> int | None:
    """The CPU-time clock id of thread ``thread_id`` (a ``threading.get_ident()``), or ``None``."""
    try:
        return time.pthread_getcpuclockid(thread_id)
    except (AttributeError, OSError):
        return None


def _open_schedstat() -> int | None:
    """A descriptor on this thread's ``schedstat`` (Linux): CPU time and run-queue wait time."""
    try:
        path = f"/proc/self/task/{threading.get_native_id()}/schedstat"
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (OSError, AttributeError):
        return None


def run_times(state: LoopState) -> Mark:
    """The loop thread's :class:`Mark` now: perf_counter, CPU and run-queue wait seconds.

    CPU time plus run-queue wait is the time the thread wanted the CPU: on a loaded machine a
    CPU-bound stall spends part of its wall time waiting for a core, not blocked.
    """
    now = _perf()
    process = _process_time()
    fd = state.sched_fd
    if fd is not None:
        try:
            parts = os.pread(fd, 128, 0).split()
            return Mark(now, int(parts[0]) / 1e9, int(parts[1]) / 1e9, process)
        except (OSError, ValueError, IndexError):
            pass
    return Mark(now, cpu_seconds(state.clock), -1.0, process)


def others_ran(before: Mark, end: Mark) -> bool:
    """Whether, between two marks, the other threads of the process used a twentieth of a CPU or
    more, and more than the loop thread, while it used less than a third of one: the loop
    waited while they worked.

    A twentieth, not more: on a loaded machine the thread that holds the GIL waits for a core
    too (measured: 10% of one for a worker holding the GIL, with two others busy per core).
    """
    wall = end.time - before.time
    if wall <= 0 or before.process < 0 or end.process < 0 or before.cpu < 0 or end.cpu < 0:
        return False
    own = end.cpu - before.cpu
    others = end.process - before.process - own
    return others >= max(wall / 20, own) and own < wall / 3


def cpu_seconds(clock: int | None) -> float:
    """CPU seconds of ``clock``, or ``-1.0`` when unknown."""
    if clock is None:
        return -1.0
    try:
        return time.clock_gettime(clock)
    except OSError:
        return -1.0


class LoopState:
    """What the watchdog thread knows about one loop; created on the loop's thread."""

    __slots__ = (
        "_handle",
        "_original",
        "_wrapper",
        "active",
        "alarm",
        "alarm_ok",
        "beat",
        "busy",
        "busy_us",
        "clock",
        "cpu_mark",
        "created",
        "due",
        "exact_end",
        "gc_spans",
        "handed",
        "interval",
        "lag",
        "loop",
        "loop_id",
        "mode",
        "native_id",
        "notify",
        "on_tick",
        "pending",
        "period",
        "sched_fd",
        "selector",
        "since",
        "thread_id",
        "thread_name",
        "threshold",
        "timed_wall",
        "timing",
        "timing_on",
        "window",
        "window_start",
    )

    # set by _bind_thread, again after a fork
    thread_id: int
    native_id: int
    clock: int | None
    sched_fd: int | None
    cpu_mark: Mark

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        threshold: float,
        *,
        timing: str = "sampled",
        window: float = 0.02,
        period: float = 1.0,
        alarm: bool = False,
        notify: Callable[[], object] | None = None,
    ) -> None:
        self.loop = loop
        self.loop_id = id(loop)
        self.thread_name = threading.current_thread().name
        self.threshold = threshold
        self.interval = min(0.05, max(0.002, threshold / 8))
        self.timing = timing
        self.window = window
        self.period = period
        self.due = 0.0  # perf_counter time the next heartbeat is due; 0.0 when stopped
        self.since = 0.0  # start of the current timed busy part; 0.0 in select or untimed
        self.timing_on = False
        self.exact_end = 0.0  # end of the last stall the iteration timer measured
        # what waited for work on a thread when its results came back late (see note_handoff)
        self.handed: tuple[tuple[tuple[Any, int, str], ...], ...] = ()
        # finished iterations longer than the threshold
        self.pending: collections.deque[Pending] = collections.deque(maxlen=256)
        self.notify = notify  # tells the watchdog a stall is pending (loop thread)
        # called with the time on every heartbeat (loop thread; it must not raise)
        self.on_tick: Callable[[float], object] | None = None
        self.lag: list[int] = []  # heartbeat lateness, microseconds
        self.busy: list[float] = []  # timed iteration busy parts, seconds
        self.busy_us = 0  # sum of drained busy parts
        self.timed_wall = 0.0  # seconds of closed timing windows
        self.window_start = 0.0
        self.created = _perf()
        # (start, end, where) of garbage collections on this thread; ``where`` is the stack that
        # triggered a full (generation 2) collection as (code, line, module) triples, else ()
        self.gc_spans: collections.deque[tuple[float, float, tuple[Any, ...]]] = collections.deque(
            maxlen=32
        )
        self.alarm = create_alarm() if alarm else None
        self.alarm_ok = self.alarm is not None  # False once arming failed: the watchdog polls
        self._bind_thread()
        self.active = False
        self.mode = "heartbeat"
        self.selector: Any = None
        self._original: Any = None
        self._wrapper: Callable[..., Any] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self.beat: Alarm | None = None  # the periodic heartbeat timer, when the loop reads one

    # ---- loop thread ---------------------------------------------------------------------
    def install(self) -> None:
        """Start the heartbeat and, on a reachable selector, prepare iteration timing (loop thread)."""
        sel: Any = getattr(self.loop, "_selector", None)
        original: Any = getattr(sel, "select", None)
        # the bound method must be the class's own (not already replaced on the instance); the
        # check must not touch ``sel.__dict__``: reading it turns the selector's inline attribute
        # values into a real dict, and every later ``select()`` call reads its attributes slower
        if (
            self.timing != "off"
            and sel is not None
            and callable(original)
            and getattr(original, "__self__", None) is sel
            and getattr(original, "__func__", None) is getattr(type(sel), "select", None)
        ):
            self.selector = sel
            self._original = original
            self._wrapper = self._make_wrapper(original)
            self.mode = "iterations" if self.timing == "always" else "sampled iterations"
            if self.timing == "always":
                self.set_timing(True, self.created)
            else:  # the first window opens one period in: short programs pay nothing for it
                self.window_start = self.created
        self.active = True
        self._arm()
        if not self._start_beat():
            self._start_timer()

    def _start_timer(self) -> None:
        """The heartbeat as a ``call_later`` chain (no beat here, or a forked child's loop)."""
        self.due = _perf() + self.interval
        self._handle = self.loop.call_later(self.interval, self._tick)

    def _start_beat(self) -> bool:
        """Register a periodic ``timerfd`` as the heartbeat; ``False`` where there is none."""
        beat = create_alarm()
        if beat is None:
            return False
        try:
            if not beat.arm(self.interval, self.interval):
                raise OSError("timerfd_settime failed")
            self.due = _perf() + self.interval
            self.loop.add_reader(beat.fd, self._on_beat, beat)
        except Exception:  # a loop without add_reader (or a refused descriptor): call_later
            beat.close()
            return False
        self.beat = beat
        return True

    def _on_beat(self, beat: Alarm) -> None:
        try:
            count = beat.expirations()
            if count and beat is self.beat:
                self._tick(count)
        except Exception:  # a reader callback that raised would be reported by the host's loop
            return

    def _arm(self) -> None:
        # just after a tick: fires when the next one is half a threshold late
        alarm = self.alarm
        if (
            alarm is not None
            and self.alarm_ok
            and not alarm.arm(self.interval + self.threshold / 2)
        ):
            self.alarm_ok = False
            self._notify()

    def _notify(self) -> None:
        notify = self.notify
        if notify is not None:
            with contextlib.suppress(Exception):
                notify()

    def record_stall(self, start: float, duration: float, exact: bool) -> None:
        """Queue a finished stall with its CPU marks and wake the watchdog (loop thread).

        When other threads ran while this one waited (for the GIL, most likely), the tasks
        that wait for work handed to a thread are noted now: the one whose worker held the
        GIL has not been woken yet.
        """
        before, end = self.cpu_mark, run_times(self)
        handed, self.handed = self.handed, ()
        if not handed and others_ran(before, end):
            try:
                handed = offload_waits(self.loop)
            except Exception:  # a nicety: the stall is recorded without it
                handed = ()
        self.pending.append(Pending(start, duration, exact, before, end, handed))
        self._notify()

    def note_handoff(self) -> None:
        """Results of work on other threads are about to wake their tasks (loop thread).

        When the heartbeat is a threshold late, the stall it is about to record may be the
        loop waiting for those threads: the tasks that wait for work handed to a thread are
        noted now, before they are woken and move on (see :mod:`unstall._handoff`).
        """
        due = self.due
        if not due or self.handed or _perf() - due < self.threshold:
            return
        if others_ran(self.cpu_mark, run_times(self)):
            try:
                self.handed = offload_waits(self.loop)
            except Exception:  # a nicety, as in record_stall
                self.handed = ()

    def _make_wrapper(self, original: Callable[..., Any]) -> Callable[..., Any]:
        state = self
        threshold = self.threshold
        record = self.busy.append
        perf = _perf

        def select(timeout: float | None = None) -> Any:
            start = state.since
            if start:
                now = perf()
                duration = now - start
                record(duration)
                if duration >= threshold:
                    state.record_stall(start, duration, True)
                    state.exact_end = now
                state.since = 0.0
            events = original(timeout)
            state.since = perf() if state.timing_on else 0.0
            return events

        return select

    def _tick(self, count: int = 0) -> None:
        """One heartbeat (loop thread); ``count`` is how many periods of the beat have passed."""
        if not self.active:
            return
        now = _perf()
        due = self.due
        late = now - due
        self.lag.append(int(late * 1e6) if late > 0 else 0)
        # a stall the iteration timer measures exactly is not reported twice: one it measured
        # already, or the one this very iteration is in (the timer reports it at its end)
        since = self.since
        timed = self.timing_on and since > 0.0 and now - since >= self.threshold
        if late >= self.threshold and self.exact_end < due and not timed:
            half = self.interval / 2
            self.record_stall(due - half, late + half, False)
        self.handed = ()  # noted for the stall just recorded, or for none
        # the beat keeps its own schedule: the next period ends ``count`` periods after ``due``
        self.due = due + count * self.interval if count else now + self.interval
        self._arm()
        if now - self.cpu_mark.time >= self.threshold / 2:  # a stall's baseline: at most this old
            self.cpu_mark = run_times(self)
        self.update_window(now)
        on_tick = self.on_tick
        if on_tick is not None:
            on_tick(now)
        if count:
            return
        try:
            self._handle = self.loop.call_later(self.interval, self._tick)
        except RuntimeError:  # the loop is closing
            self.active = False
            self.due = 0.0

    def set_timing(self, on: bool, now: float) -> None:
        """Switch iteration timing on or off (any thread; the loop picks it up next iteration)."""
        if self.selector is None or on == self.timing_on:
            return
        if on:
            self.since = 0.0
            self.window_start = now
            self.timing_on = True
            self.selector.select = self._wrapper
        else:
            since = self.since
            self.timing_on = False
            with contextlib.suppress(AttributeError):
                del self.selector.select
            self.timed_wall += now - self.window_start
            if since and now > since:  # an iteration still running counts for utilization
                self.busy_us += int((now - since) * 1e6)

    def update_window(self, now: float) -> None:
        """Open or close the timing window (from the heartbeat: never during a stall)."""
        if self.timing != "sampled" or self.selector is None or not self.active:
            return
        if self.timing_on:
            if now - self.window_start >= self.window:
                self.set_timing(False, now)
        elif now - self.window_start >= self.period:
            self.set_timing(True, now)

    # ---- watchdog thread -------------------------------------------------------------------
    def busy_since(self) -> float:
        """Since when the loop has been busy without returning (perf_counter), or 0.0."""
        if self.timing_on:
            since = self.since
            if since:
                return since
            if self.exact_end >= self.due:
                return 0.0  # in select right after a measured stall; the late tick is explained
        return self.due

    def restore_alarm(self) -> None:
        """Arm the alarm for the loop's own deadline again, after the watchdog read a firing.

        Watchdog thread, after a look that found no stall to sample. The deadline is half a
        threshold after the loop's current busy part began (its heartbeat's due time, or the
        iteration the timer is timing): the watchdog is woken when a stall that began before the
        loop's next heartbeat is due for sampling. Should the heartbeat re-arm the alarm
        meanwhile, either setting is that same deadline or an earlier one.
        """
        alarm, due = self.alarm, self.due
        if alarm is None or not self.alarm_ok or not due:
            return
        deadline = (self.busy_since() or due) + self.threshold / 2
        if not alarm.arm(max(0.001, deadline - _perf())):
            self.alarm_ok = False

    def timed(self) -> tuple[float, float]:
        """``(busy seconds, timed wall seconds)`` of the timing windows so far; zeros if none."""
        if self.selector is None:
            return 0.0, 0.0
        wall = self.timed_wall + (_perf() - self.window_start if self.timing_on else 0.0)
        return self.busy_us / 1e6, max(0.0, wall)

    def uninstall(self) -> None:
        """Stop measuring and restore the selector; safe from any thread, idempotent."""
        self.active = False
        self.due = 0.0
        if self.alarm is not None:
            self.alarm.disarm()
        if self.selector is not None:
            self.set_timing(False, _perf())
        beat, self.beat = self.beat, None
        if beat is not None:
            self._drop_beat(beat)
        handle, self._handle = self._handle, None
        if handle is not None and not self.loop.is_closed():
            # a closed loop never runs the timer; cancelling a closed uvloop's timer is unsafe
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(handle.cancel)

    def _drop_beat(self, beat: Alarm) -> None:
        """Unregister and close the beat: at once on the loop's thread, else through the loop."""
        loop = self.loop

        def drop() -> None:
            with contextlib.suppress(Exception):
                loop.remove_reader(beat.fd)
            beat.close()

        if loop.is_closed():  # its selector is gone: nothing to unregister
            beat.close()
        elif threading.get_ident() == self.thread_id:
            drop()
        else:
            try:
                loop.call_soon_threadsafe(drop)
            except RuntimeError:  # closed meanwhile
                beat.close()

    def release(self) -> None:
        """Close the statistics and alarm descriptors; only once nothing uses them (watchdog thread)."""
        fd, self.sched_fd = self.sched_fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        alarm, self.alarm = self.alarm, None
        self.alarm_ok = False
        if alarm is not None:
            alarm.close()

    def _bind_thread(self) -> None:
        """Take the calling thread as the loop's: its ids, CPU clock, statistics and CPU mark."""
        self.thread_id = threading.get_ident()
        self.native_id = threading.get_native_id()
        self.clock = thread_cpu_clock(self.thread_id)
        self.sched_fd = _open_schedstat()
        self.cpu_mark = run_times(self)

    def after_fork(self) -> None:
        """In a forked child, on the thread that forked: new ids, statistics and alarm.

        The inherited ``timerfd`` is the parent's timer itself: the child closes its copy and
        makes its own.
        """
        had_alarm = self.alarm is not None
        # the inherited beat is the parent's timer, registered in the inherited loop's selector,
        # whose epoll instance the parent shares: unregistering it here would unregister it in
        # the parent. It is forgotten (its callback ignores it) and the child ticks by call_later.
        if self.beat is not None:
            self.beat = None
            if self.active:
                with contextlib.suppress(RuntimeError):
                    self._start_timer()
        self.release()
        self.alarm = create_alarm() if had_alarm else None
        self.alarm_ok = self.alarm is not None
        if self.active:
            self._arm()
        self.pending.clear()
        del self.lag[:], self.busy[:]
        self.busy_us = 0
        self._bind_thread()
