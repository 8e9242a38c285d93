"""The watchdog thread: asleep until a loop's alarm, the wake-up pipe or its next wait says to look.

Every wake-up takes the GIL from the loops, so it sleeps as long as it can: on a ``poll`` of
the wake-up pipe and every loop's alarm (a ``timerfd`` the heartbeat keeps pushing forward,
which fires only when a heartbeat is half a threshold late), waking once a second for
housekeeping while all is well, and every ``busy_poll`` while a stall is being sampled. Where
there is no ``poll`` or no pipe, or a loop has no working alarm, it polls every half threshold.

The alarm is one-shot: a firing the watchdog reads leaves the loop without a deadline until its
next heartbeat. When the look that follows samples nothing, the loop may still stall before
that heartbeat (the firing came early, or from the dead man's switch armed just after the
heartbeat re-armed the alarm), so the watchdog puts the loop's deadline back on the alarm.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from collections.abc import Callable
from typing import Any

from unstall.watch._loops import LoopState

__all__ = ("Watchdog",)

logger = logging.getLogger("unstall")

# with every loop on an alarm the watchdog sleeps until one fires; it still wakes this often to
# drain histograms, notice loops that stopped and patch a uvloop imported since
_HOUSEKEEPING = 1.0
_GONE = (
    getattr(select, "POLLHUP", 0) | getattr(select, "POLLERR", 0) | getattr(select, "POLLNVAL", 0)
)


class Watchdog:
    """One daemon thread that calls ``look()`` whenever it wakes up.

    ``look()`` returns whether a stall is being sampled (the thread then wakes again in
    ``busy_poll`` seconds); ``loops()`` returns the watched loops, whose alarms it listens to.
    What ``look`` raises is logged at debug level and the thread goes on. :meth:`wake` may be
    called from any thread, a loop's included (a loop's stall is pending, a loop was attached).
    """

    __slots__ = (
        "_extra",
        "_fds",
        "_look",
        "_loops",
        "_steady",
        "_stop",
        "_thread",
        "busy_poll",
        "idle_poll",
    )

    def __init__(
        self,
        threshold: float,
        look: Callable[[], bool],
        loops: Callable[[], tuple[LoopState, ...]],
    ) -> None:
        # every wake-up of the watchdog takes the GIL from the loop: none while all is well where
        # loops have alarms (Linux), else a poll every half threshold
        self.idle_poll = min(0.05, max(0.002, threshold / 2))
        self.busy_poll = min(0.01, max(0.001, threshold / 20))
        self._look = look
        self._loops = loops
        self._steady = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fds: tuple[int, int] | None = None  # the wake-up pipe
        self._extra: tuple[int, ...] = ()

    @property
    def sleeps(self) -> bool:
        """Whether the thread sleeps until woken (a loop's alarm, :meth:`wake`), not polling."""
        return self._fds is not None

    def start(self, *, steady: bool, extra: tuple[int, ...] = ()) -> None:
        """Start a new thread, with a new wake-up pipe.

        ``steady``: wake every half threshold even while all is well (iteration timing on every
        iteration, to drain often). ``extra``: more descriptors that wake it when readable
        (the sentinel's socket).
        """
        self._steady = steady
        self._extra = tuple(fd for fd in extra if fd >= 0)
        self._stop = threading.Event()
        self._fds = None
        if hasattr(select, "poll"):
            with contextlib.suppress(OSError):
                r, w = os.pipe()
                os.set_blocking(r, False)
                os.set_blocking(w, False)
                self._fds = (r, w)
        self._thread = threading.Thread(target=self._run, name="unstall-watchdog", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Wake the thread now (any thread; a full pipe already means it will wake)."""
        fds = self._fds
        if fds is not None:
            with contextlib.suppress(OSError):
                os.write(fds[1], b"\0")

    def stop(self) -> threading.Thread | None:
        """Tell the thread to end; returns it, for :meth:`join` (outside the caller's lock)."""
        self._stop.set()
        self.wake()
        thread, self._thread = self._thread, None
        return thread

    def join(self, thread: threading.Thread | None, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for ``thread`` to end; whether it has.

        Once it has, the wake-up pipe is closed (a thread still running may yet read it).
        """
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        joined = thread is None or not thread.is_alive()
        if joined:
            self.close()
        return joined

    def close(self) -> None:
        """Close the wake-up pipe (in a forked child: its copies of the parent's)."""
        fds, self._fds = self._fds, None
        for fd in fds or ():
            with contextlib.suppress(OSError):
                os.close(fd)

    def next_wait(self, sampling: bool, loops: tuple[LoopState, ...]) -> float:
        """Seconds until the thread must look again even if nothing wakes it."""
        if sampling:
            return self.busy_poll
        if (
            self._fds is None  # nothing can wake it: it polls
            or self._steady
            or any(not s.alarm_ok for s in loops)
        ):
            return self.idle_poll
        return _HOUSEKEEPING

    def _run(self) -> None:
        stop = self._stop
        wait = self.idle_poll
        fds = self._fds
        look, loops = self._look, self._loops
        poller: Any = None
        alarms: dict[int, LoopState] = {}
        listened: tuple[LoopState, ...] | None = None
        read: set[LoopState] = set()  # loops whose alarm firing this thread read
        while not stop.is_set():
            if fds is None:
                if stop.wait(wait):
                    break
            else:
                states = loops()
                if states is not listened:
                    poller, alarms = self._listen(fds[0], states, self._extra)
                    listened = states
                try:
                    ready = poller.poll(wait * 1000)
                except OSError:  # a descriptor closed under us: listen afresh
                    listened, ready = None, []
                for fd, flags in ready:
                    if fd in self._extra and flags & _GONE:
                        # its other end closed (a helper that died): stop listening to it
                        self._extra = tuple(f for f in self._extra if f != fd)
                        listened = None
                    elif fd == fds[0]:
                        with contextlib.suppress(OSError):
                            os.read(fd, 4096)
                    elif fd in alarms:
                        state = alarms[fd]
                        alarm = state.alarm
                        if alarm is not None and alarm.clear():
                            read.add(state)
                if stop.is_set():
                    break
            try:
                sampling = look()
                if read and not sampling:
                    for state in read:
                        state.restore_alarm()
                    read.clear()
                wait = self.next_wait(sampling, loops())
            except Exception:  # never let the watchdog die; the next look starts afresh
                logger.debug("unstall: watchdog poll failed", exc_info=True)

    @staticmethod
    def _listen(
        wake: int, states: tuple[LoopState, ...], extra: tuple[int, ...] = ()
    ) -> tuple[Any, dict[int, LoopState]]:
        """A poll object on the wake-up pipe, the extra descriptors and every loop's alarm."""
        poller = select.poll()
        poller.register(wake, select.POLLIN)
        for fd in extra:
            poller.register(fd, select.POLLIN)
        alarms: dict[int, LoopState] = {}
        for state in states:
            alarm = state.alarm
            if alarm is not None and alarm.fd >= 0:
                poller.register(alarm.fd, select.POLLIN)
                alarms[alarm.fd] = state
        return poller, alarms
