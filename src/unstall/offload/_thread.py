"""Thread engine: own worker threads fed by a SimpleQueue, results handed back in batches.

A finished call goes into its loop's inbox; only the result that finds the inbox empty pays
for ``call_soon_threadsafe`` (a wake-up of the loop), the others ride along with it. So there
is at most one cross-thread wake-up per result, and far fewer when many calls finish at once.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from unstall import _handoff
from unstall.offload._engine import CallTiming, CancelMode, Engine, TimingSink, engine_closed
from unstall.offload._waiter import Waiter

__all__ = ("ThreadEngine",)

T = TypeVar("T")


class _Job:
    """One call travelling to a worker thread; ``claim`` decides who owns it (worker or canceller)."""

    __slots__ = ("args", "claim", "ctx", "fn", "fut", "inbox", "kwargs", "measure")

    def __init__(
        self,
        inbox: _Inbox,
        fut: Waiter,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        measure: TimingSink | None,
    ) -> None:
        self.inbox = inbox
        self.fut = fut
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.ctx = contextvars.copy_context()
        # Whoever takes this lock first owns the job: the worker (it runs) or a canceller
        # (it never runs). A lock makes that race atomic without any check-then-act window.
        self.claim = threading.Lock()
        self.measure = measure


class _Inbox:
    """Finished calls waiting to be completed on their event loop."""

    __slots__ = ("items", "loop_ref", "scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Weak: the engine keeps an inbox per loop it has served, and must not keep those
        # loops alive (jobs in flight hold their loop through their futures).
        self.loop_ref = weakref.ref(loop)
        self.items: collections.deque[tuple[_Job, bool, Any]] = collections.deque()
        self.scheduled = False

    def push(self, job: _Job, ok: bool, value: Any) -> None:
        """Called on a worker thread."""
        self.items.append((job, ok, value))
        if not self.scheduled:
            self.scheduled = True
            loop = job.fut.get_loop()
            try:
                loop.call_soon_threadsafe(self.drain)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                self.items.clear()

    def drain(self) -> None:
        """Called on the loop.

        Clearing the flag first means a result pushed meanwhile is either popped below or
        schedules a drain of its own: none is left behind.
        """
        self.scheduled = False
        items = self.items
        if _handoff.listeners:  # a watcher notes what waits for these results first
            loop = self.loop_ref()
            if loop is not None:
                for listener in _handoff.listeners:
                    listener(loop)
        pop = items.popleft
        try:
            while items:
                job, ok, value = pop()
                # Wakes the awaiting task right here, not one loop iteration later; a result
                # whose caller was cancelled or timed out meanwhile is dropped.
                job.fut.resolve(ok, value)
        finally:
            loop = self.loop_ref()
            if items and not self.scheduled and loop is not None:
                # A task's step raised out of here (SystemExit, KeyboardInterrupt): the
                # results behind it are still delivered, on the next iteration.
                self.scheduled = True
                loop.call_soon(self.drain)


def _expire(fut: Waiter, timeout: float) -> None:
    fut.fail_later(TimeoutError(f"The offloaded call did not finish within {timeout!r} s."))


class ThreadEngine(Engine):
    """Runs calls on worker threads of its own (started on demand, retired when idle).

    ``max_workers`` bounds the threads and so the calls running at once (default
    ``min(32, cpus + 4)``, like :func:`asyncio.to_thread`); further calls wait in the queue, in
    order, each held by its awaiting caller (so the backlog is bounded by the callers, and a
    call cancelled while it waits never starts). ``idle_timeout`` (seconds) retires a thread
    that had no work for that long. contextvars of the caller are visible in the call. A thread cannot be
    killed: on timeout or cancellation a running call finishes in the background and its result
    is dropped (its thread stays busy until then, so the bound holds).
    """

    name = "thread"

    def __init__(self, max_workers: int | None = None, idle_timeout: float = 30.0) -> None:
        if max_workers is None:
            max_workers = min(32, (os.cpu_count() or 1) + 4)
        self._max_workers = max_workers
        self._idle_timeout = idle_timeout
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._idle = 0  # threads waiting for work and not yet promised a job; under _lock
        self._inboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Inbox] = (
            weakref.WeakKeyDictionary()
        )
        self._last_inbox: _Inbox | None = None
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._counter = 0

    @property
    def capacity(self) -> int:
        return self._max_workers

    def threads(self) -> list[threading.Thread]:
        """The live worker threads (for diagnostics and tests)."""
        with self._lock:
            return list(self._threads)

    async def run(
        self,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        *,
        timeout: float | None = None,
        cancel: CancelMode = "wait",
        pipeline: bool = False,
        measure: TimingSink | None = None,
    ) -> T:
        """Run ``fn(*args, **kwargs)`` on a worker thread (see :meth:`Engine.run`).

        ``measure`` gets the CPU time of the worker thread and the wall time of the call;
        ``cancel`` and ``pipeline`` change nothing here (a thread cannot be killed, and a call
        starts as soon as a thread is free).
        """
        if self._closed:
            raise engine_closed(self.name)
        loop = asyncio.get_running_loop()
        fut = Waiter(loop)
        inbox = self._last_inbox
        if inbox is None or inbox.loop_ref() is not loop:
            inbox = self._inbox(loop)
        job = _Job(inbox, fut, fn, args, kwargs, measure)
        self._submit(job)
        handle = None if timeout is None else loop.call_later(timeout, _expire, fut, timeout)
        try:
            result: T = await fut
            return result
        except BaseException:
            # Cancelled or timed out before a worker picked it up: claiming it here means it
            # never starts. (If a worker claimed it first, it is running; it ends on its own.)
            job.claim.acquire(blocking=False)
            raise
        finally:
            if handle is not None:
                handle.cancel()

    def _inbox(self, loop: asyncio.AbstractEventLoop) -> _Inbox:
        with self._lock:
            inbox = self._inboxes.get(loop)
            if inbox is None:
                inbox = self._inboxes[loop] = _Inbox(loop)
            self._last_inbox = inbox
        return inbox

    def _submit(self, job: _Job) -> None:
        if self._closed:
            raise engine_closed(self.name)
        self._queue.put(job)
        with self._lock:
            if self._idle:
                self._idle -= 1  # that idle worker will take it
            elif len(self._threads) < self._max_workers:
                self._counter += 1
                thread = threading.Thread(
                    target=self._work, name=f"unstall-thread-{self._counter}", daemon=True
                )
                self._threads.add(thread)
                thread.start()

    def _work(self) -> None:
        get = self._queue.get
        idle_timeout = self._idle_timeout
        me = threading.current_thread()
        while True:
            try:
                job = get(timeout=idle_timeout)
            except queue.Empty:
                # Retire only if an idle token is left; if a submitter already took it, a job
                # is on its way and someone must serve it.
                with self._lock:
                    if self._idle:
                        self._idle -= 1
                        self._threads.discard(me)
                        return
                continue
            if job is None:
                with self._lock:
                    self._threads.discard(me)
                return
            done = self._execute(job) if job.claim.acquire(blocking=False) else None
            # Idle again *before* the result goes back: the caller's next call, made as soon
            # as it has this result, then finds a thread free instead of starting another one
            # (sequential callers are served by one thread, not a rotation).
            with self._lock:
                self._idle += 1
            if done is not None:
                job.inbox.push(job, *done)
            del done, job

    @staticmethod
    def _execute(job: _Job) -> tuple[bool, Any]:
        measure = job.measure
        if measure is not None:
            cpu0, wall0 = time.thread_time(), time.perf_counter()
        try:
            value = job.ctx.run(job.fn, *job.args, **job.kwargs)
            ok = True
        except BaseException as exc:
            value, ok = exc, False
        if measure is not None:
            timing = CallTiming(time.thread_time() - cpu0, time.perf_counter() - wall0)
            with contextlib.suppress(Exception):  # a failing sink must not lose the result
                measure(timing)
        return ok, value

    async def aclose(self) -> None:
        self.close_now()
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            with self._lock:
                alive = [t for t in self._threads if t.is_alive()]
            if not alive:
                return
            await asyncio.sleep(0.005)

    def close_now(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            count = len(self._threads)
        for _ in range(count):
            self._queue.put(None)

    def describe(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "capacity": self._max_workers,
            "threads": len(self._threads),
            "running": max(0, len(self._threads) - self._idle),
            "waiting": self._queue.qsize(),
        }
