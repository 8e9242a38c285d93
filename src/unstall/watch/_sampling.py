"""Sampling a stall while it runs: one session per stalled loop, matched to the stall once it ends.

The loop thread knows when a stall began and ended (it records a :class:`~unstall.watch._loops.Pending`
as it comes back); only the watchdog thread can see where it was meanwhile. It samples the loop
thread's stack into a :class:`Session` from the moment the loop is half a threshold late until
it comes back, and keeps the last few sessions that ended until the loop thread's record of
their stall arrives.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import sys
from types import FrameType

from unstall.watch._frames import sample_stack
from unstall.watch._loops import LoopState
from unstall.watch._model import Frame, TaskInfo
from unstall.watch._request import Request, request_of
from unstall.watch._tasks import ContextProvider, read_context, task_context, task_snapshot

__all__ = ("MAX_STACKS", "Sampler", "Session")

MAX_STACKS = 8  # distinct stacks an event keeps, the most sampled first (a session keeps 4x)
# the modules of the code a loop runs for the heartbeat (ticks, alarms, CPU marks)
_HEARTBEAT_MODULES = frozenset({"unstall.watch._loops", "unstall.watch._alarm"})


class Session:
    """One stall being sampled: the watchdog's view while the loop has not come back."""

    __slots__ = ("context", "first", "requests", "samples", "since", "stacks", "task")

    def __init__(self, since: float, first: float) -> None:
        self.since = since
        self.first = first
        self.stacks: collections.Counter[tuple[Frame, ...]] = collections.Counter()
        self.samples = 0
        self.task: TaskInfo | None = None
        self.context: tuple[tuple[str, str], ...] = ()
        # the HTTP request each sampled stack's task served (a stall may span several tasks)
        self.requests: dict[tuple[Frame, ...], Request | None] = {}

    def request_for(self, stack: tuple[Frame, ...] | None) -> Request | None:
        """The request the task of ``stack`` served; for a stack not sampled, the first one seen."""
        if stack is not None and stack in self.requests:
            return self.requests[stack]
        return next((r for r in self.requests.values() if r is not None), None)

    def copy(self) -> Session:
        """An independent copy (of a session the watchdog thread may still be adding to)."""
        other = Session(self.since, self.first)
        other.stacks.update(dict(self.stacks))
        other.requests.update(dict(self.requests))
        other.samples = self.samples
        other.task = self.task
        other.context = self.context
        return other


def _current_frames() -> dict[int, FrameType]:
    """``sys._current_frames()`` with the garbage collector held off.

    It builds its dict while holding the interpreter's thread-list lock; an allocation there can
    start a collection whose callbacks and finalizers need that lock again, and the watchdog
    then waits forever holding the GIL, which stops every thread of the host (seen on 3.11,
    which lacks CPython's own fix). A collection put off for one call runs at the next
    allocation of any thread.
    """
    if not gc.isenabled():
        return sys._current_frames()
    gc.disable()
    try:
        return sys._current_frames()
    finally:
        gc.enable()


class Sampler:
    """The sessions of stalls running now (``current``, by loop id) and of a few that ended.

    Watchdog thread only. ``context`` lists the providers that name the request a stalled
    task served; the sampling methods return how many of them raised.
    """

    __slots__ = ("_context", "current", "recent")

    def __init__(self, context: list[ContextProvider]) -> None:
        self._context = context
        self.current: dict[int, Session] = {}
        # (loop id, session) of stalls that ended and were not matched yet
        self.recent: collections.deque[tuple[int, Session]] = collections.deque(maxlen=8)

    def add_context(self, provider: ContextProvider) -> None:
        """Ask ``provider`` too (any thread) from the next stall on."""
        self._context.append(provider)

    def follow(self, loop_id: int, since: float) -> None:
        """Loop ``loop_id`` is busy since ``since`` (``0.0``: it is not): an earlier stall's session ends."""
        current = self.current.get(loop_id)
        if current is not None and current.since != since:
            del self.current[loop_id]
            self.recent.append((loop_id, current))

    def sample(self, state: LoopState, since: float, now: float) -> int:
        """Sample ``state``'s loop thread, stalled since ``since``; its session starts with the first."""
        current = self.current.get(state.loop_id)
        if current is None:
            current = self.current[state.loop_id] = Session(since, now)
        return self.take(state, current)

    def take(self, state: LoopState, session: Session) -> int:
        """Add the loop thread's stack to ``session``; with the first, its task and context."""
        frame: FrameType | None = _current_frames().get(state.thread_id)
        if frame is None:
            return 0
        try:
            if frame.f_globals.get("__name__") in _HEARTBEAT_MODULES:
                # the loop is in the heartbeat's own code, so the stall is over: this is the
                # first moment the watchdog got the GIL back (a tick's system call released
                # it) after C code held it for the whole stall, and not where the time went
                return 0
            stack = sample_stack(frame)
            session.stacks[stack] += 1
            session.samples += 1
            if stack not in session.requests and len(session.requests) < 4 * MAX_STACKS:
                session.requests[stack] = request_of(state.loop, task_context(state.loop, frame))
            if len(session.stacks) > 4 * MAX_STACKS:
                rare = min(session.stacks, key=lambda k: session.stacks[k])
                del session.stacks[rare]
            if session.samples == 1:
                snap = task_snapshot(state.loop, frame)
                if snap is not None:
                    session.task = snap[0]
                    session.context, errors = read_context(self._context, snap[1])
                    return errors
            return 0
        finally:
            del frame

    def snapshot(self, state: LoopState, since: float, now: float) -> tuple[Session, int]:
        """A copy of the session of ``state``'s stall running since ``since``, for a report.

        Any thread. A stall the watchdog has not sampled yet gets one sample now; the copy is
        the caller's, and the watchdog's own session is left as it was. Returns the copy and
        how many context providers raised.
        """
        current = self.current.get(state.loop_id)
        if current is not None and current.since == since:
            copy = current.copy()
        else:
            copy = Session(since, now)
        errors = self.take(state, copy) if not copy.samples else 0
        return copy, errors

    def match(self, loop_id: int, start: float, duration: float) -> Session | None:
        """The session that sampled loop ``loop_id``'s stall of ``duration`` from ``start``, if any.

        A session that ended is matched once: it is forgotten.
        """
        session = self._find(loop_id, start, duration)
        if session is not None:
            with contextlib.suppress(ValueError):
                self.recent.remove((loop_id, session))
        return session

    def _find(self, loop_id: int, start: float, duration: float) -> Session | None:
        candidates = [s for lid, s in self.recent if lid == loop_id]
        current = self.current.get(loop_id)
        if current is not None:
            candidates.append(current)
        for session in candidates:
            if session.since == start:
                return session
        end = start + duration
        for session in candidates:
            if start - 0.005 <= session.first <= end + 0.05:
                return session
        return None

    def clear(self) -> None:
        """Forget every session (a forked child)."""
        self.current.clear()
        self.recent.clear()
