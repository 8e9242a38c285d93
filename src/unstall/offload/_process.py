"""Process engine: a pipe per worker process, replies read on the caller's loop with add_reader.

No helper thread reads results: a worker's reply pipe is registered with the event loop that
sends it calls (and stays registered between calls from that loop), and the reply, or EOF if
the worker died, is handled right there. A dead or killed worker fails only its own call and
is replaced on demand; a worker found dead before it read a call never fails that call, which
goes to another worker. This module routes calls; :mod:`._pool` owns the workers' lifetime.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from unstall.errors import OffloaderClosed, WorkerCrashed
from unstall.offload._engine import CancelMode, Engine, TimingSink, engine_closed
from unstall.offload._handles import (
    START_METHODS,
    Call,
    WorkerHandle,
    default_start_method,
    detach,
    read_messages,
    unread_bytes,
    write_request,
)
from unstall.offload._limits import Limiter
from unstall.offload._names import qualname
from unstall.offload._pickling import dumps_call
from unstall.offload._pool import WorkerPool
from unstall.offload._replies import emit_log, exit_text, rebuild_error
from unstall.offload._waiter import Waiter, resolve_all
from unstall.offload._worker import ERROR, LOG, READY

__all__ = ("ProcessEngine",)

T = TypeVar("T")


class _NeverStarted(Exception):
    """A call's worker died before reading it: the call is handed to another worker."""


class ProcessEngine(Engine):
    """Runs calls in a pool of worker processes, each reached through its own pipes.

    ``max_workers`` (default: the CPU count) bounds the processes and the concurrent calls;
    ``start_method`` is ``"forkserver"`` (default where available: safe with threads),
    ``"spawn"`` or ``"fork"`` (fastest to start, but unsafe in a process with threads, and a
    forked worker inherits its siblings' pipes, so it may outlive a parent killed mid-call).
    With forkserver and spawn each worker imports the program's main module again: guard its
    entry point with ``if __name__ == "__main__":``. Functions and arguments are pickled in the caller, so
    :class:`~unstall.errors.NotPicklable` names a bad argument before anything is sent. A worker
    that dies fails only its own call with :class:`~unstall.errors.WorkerCrashed`; ``timeout``
    and ``cancel="kill"`` terminate the worker running the call, and it is replaced. Workers
    exit when the parent process dies, even mid-call. Log records emitted in workers are passed
    to the parent's handlers. ``pipeline=True`` may queue a call behind another pipelined call
    on a busy worker (see :meth:`Engine.run`).
    """

    name = "process"
    remote = True

    def __init__(self, max_workers: int | None = None, start_method: str | None = None) -> None:
        if start_method is None:
            start_method = default_start_method()
        if start_method not in START_METHODS:
            raise ValueError(
                f"Unknown start_method {start_method!r}; choose one of {START_METHODS!r}."
            )
        self._max_workers = max_workers or os.cpu_count() or 1
        # A slot per call in flight: taken before a worker is claimed, given back when the
        # worker replies, dies or is killed.
        self._limiter = Limiter(self._max_workers)
        self._pool = WorkerPool(start_method)
        self._crashes = 0

    @property
    def capacity(self) -> int:
        return self._max_workers

    @property
    def start_method(self) -> str:
        """The multiprocessing start method used for workers."""
        return self._pool.start_method

    def pids(self) -> list[int]:
        """Process ids of the live workers (for diagnostics and tests)."""
        return self._pool.pids()

    # -- calling -------------------------------------------------------------------------

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
        """Run ``fn(*args, **kwargs)`` in a worker process (see :meth:`Engine.run`).

        A pipelined call queued behind another on a busy worker fails with
        :class:`~unstall.errors.WorkerCrashed` too if that worker dies or is killed.
        ``measure`` is not supported (nothing is timed across the process boundary).
        """
        pool = self._pool
        if pool.closed:
            raise engine_closed(self.name)
        payload = dumps_call(fn, args, kwargs)
        loop = asyncio.get_running_loop()
        have_slot = self._limiter.try_acquire()
        pipelined = pipeline and timeout is None
        if not have_slot and pipelined:
            target = self._pipeline_target(loop)
            if target is not None:
                return await self._run_queued(loop, target, fn, payload, cancel)
        deadline = None if timeout is None else loop.time() + timeout
        name = qualname(fn)
        for _ in range(3):
            if have_slot and pool.idle:
                worker = pool.idle.pop()  # the common case: no waiting at all
            else:
                worker = await self._wait_for_worker(have_slot, deadline, name, timeout)
            have_slot = True
            fut = Waiter(loop)
            call = Call(fut, name, pipelined=pipelined)
            if not self._send(loop, worker, call, payload):
                # The worker died while idle (its pipe is broken): the call never reached
                # it, so it goes to another worker.
                worker.call = None
                self._crashes += 1
                pool.retire(worker, kill=True)
                continue
            handle = (
                None
                if deadline is None
                else loop.call_at(deadline, self._on_timeout, worker, call, timeout)
            )
            try:
                result: T = await fut
                return result
            except _NeverStarted:
                have_slot = False  # the dead worker's slot was given back
            except asyncio.CancelledError:
                if cancel == "kill" and worker.call is call:
                    self._kill(worker, None)
                raise
            finally:
                if handle is not None:
                    handle.cancel()
        if have_slot:
            self._limiter.release()
        raise WorkerCrashed(
            f"Could not hand {name}() to a worker process: three workers in a row died before "
            "it could start. Check the workers' stderr.",
            function=name,
        )

    def _pipeline_target(self, loop: asyncio.AbstractEventLoop) -> WorkerHandle | None:
        for worker in self._pool.workers:
            call = worker.call
            if (
                call is not None
                and call.pipelined
                and not worker.queued
                and worker.loop is loop
                and not worker.retired
            ):
                return worker
        return None

    async def _run_queued(
        self,
        loop: asyncio.AbstractEventLoop,
        worker: WorkerHandle,
        fn: Callable[..., T],
        payload: list[bytes | memoryview],
        cancel: CancelMode,
    ) -> T:
        fut = Waiter(loop)
        call = Call(fut, qualname(fn), pipelined=True)
        worker.queued.append(call)
        write_request(loop, worker, payload)
        try:
            result: T = await fut
            return result
        except asyncio.CancelledError:
            if (
                cancel == "kill"
                and not worker.retired
                and (worker.call is call or call in worker.queued)
            ):
                self._kill(worker, None)
            raise

    async def _wait_for_worker(
        self, have_slot: bool, deadline: float | None, name: str, timeout: float | None
    ) -> WorkerHandle:
        """A worker for the next call, waiting for a slot (unless held) and a start if need be."""
        if deadline is None:
            return await self._claim_worker(have_slot)
        try:
            async with asyncio.timeout_at(deadline):
                return await self._claim_worker(have_slot)
        except TimeoutError:
            raise TimeoutError(
                f"The call to {name}() did not start within {timeout!r} s."
            ) from None

    async def _claim_worker(self, have_slot: bool) -> WorkerHandle:
        limiter = self._limiter
        if not have_slot:
            self._reclaim_orphans()
            await limiter.acquire()
        try:
            if self._pool.idle:
                return self._pool.idle.pop()
            return await self._pool.spawn()
        except BaseException:
            limiter.release()
            raise

    def _send(
        self,
        loop: asyncio.AbstractEventLoop,
        worker: WorkerHandle,
        call: Call,
        segments: list[bytes | memoryview],
    ) -> bool:
        """Start ``call`` on ``worker``; False if the worker turned out to be dead."""
        worker.call = call
        if worker.loop is not loop or not worker.reading:
            # The reply pipe stays registered between calls from the same loop: no
            # registration system calls on the common path.
            detach(worker)
            worker.loop = loop
            loop.add_reader(worker.reply_fd, self._on_readable, worker)
            worker.reading = True
        return write_request(loop, worker, segments)

    # -- replies -------------------------------------------------------------------------

    def _on_readable(self, worker: WorkerHandle) -> None:
        if worker.loop is not asyncio._get_running_loop() or worker.retired:
            # The worker moved to another loop, which reads it from now on, or it was
            # retired from another thread, whose request to unregister its pipe is on its way.
            return
        messages, eof = read_messages(worker)
        replies: list[tuple[Waiter, bool, Any]] = []
        for message in messages:
            kind = message[0]
            if kind == LOG:
                emit_log(message[1])
            elif kind == READY:
                worker.ready = True
            else:
                self._on_reply(worker, message, replies)
        if eof:
            self._on_eof(worker)
        # Last, once the pool's state is up to date: each resolve runs the awaiting task's
        # step right here (one loop iteration sooner than a Future would), and that step may
        # well send its next call.
        resolve_all(replies)

    def _on_reply(
        self,
        worker: WorkerHandle,
        message: tuple[Any, ...],
        replies: list[tuple[Waiter, bool, Any]],
    ) -> None:
        call = worker.call
        if worker.queued:
            # The worker is already on its next (pipelined) call, which takes over the slot.
            worker.call = worker.queued.popleft()
        else:
            worker.call = None
            self._pool.put_back(worker)
            self._limiter.release()
        if call is None or call.fut.done():
            return
        if message[0] == ERROR:
            replies.append((call.fut, False, rebuild_error(message, worker.pid, call.name)))
        else:
            replies.append((call.fut, True, message[1]))

    def _on_eof(self, worker: WorkerHandle, tries: int = 0, untouched: bool = False) -> None:
        if worker.retired:
            # Retired meanwhile (a call found its pipe broken, a timeout or a kill, shutdown):
            # whoever retired it settled its calls.
            return
        pool = self._pool
        if tries == 0:
            # A request still (even partly) in the pipe was never read: that call never ran,
            # and can safely go to another worker. (A worker can die just as it is handed a
            # call: its pipes close a moment after it is gone.)
            untouched = worker.unsent is not None or unread_bytes(worker.request_fd) > 0
            pool.forget(worker)
        code = pool.exit_code(worker)
        loop = worker.loop
        if code is None and tries < 40 and loop is not None and not loop.is_closed():
            # The pipe closes as the process exits; its status follows a moment later.
            loop.call_later(0.005, self._on_eof, worker, tries + 1, untouched)
            return
        call = worker.call
        worker.call = None
        self._crashes += 1
        pool.retire(worker, kill=True)
        self._fail_queued(worker, f"died with {exit_text(code)}", code)
        if call is None:
            return
        self._limiter.release()
        if call.fut.done():
            return
        if untouched and worker.ready:
            call.fut.set_exception(_NeverStarted())
            return
        if worker.ready:
            message = (
                f"The worker process (pid {worker.pid}) running {call.name}() died with "
                f"{exit_text(code)}. Only this call failed; the pool replaces the worker. "
                "Look for os._exit, a signal or the out-of-memory killer."
            )
        else:
            message = (
                f"The worker process (pid {worker.pid}) exited with {exit_text(code)} before it "
                f"could run {call.name}(): it failed to start (its stderr says why). With the "
                f"{self.start_method!r} start method each worker imports the main module again: "
                "guard the program's entry point with `if __name__ == '__main__':`."
            )
        call.fut.set_exception(WorkerCrashed(message, exitcode=code, function=call.name))

    def _reclaim_orphans(self) -> None:
        # A call whose event loop was closed mid-call can never be completed: its reply would
        # be read by that loop, and so would the exit status of a worker that died in it.
        # Terminate such workers so their slots come back.
        for worker in self._pool.owned():
            loop = worker.loop
            if worker.call is not None and loop is not None and loop.is_closed():
                self._kill(worker, None)

    def _on_timeout(self, worker: WorkerHandle, call: Call, timeout: float | None) -> None:
        if worker.call is call:
            self._kill(
                worker,
                TimeoutError(
                    f"The call to {call.name}() did not finish within {timeout!r} s; its worker "
                    f"process (pid {worker.pid}) was terminated and will be replaced."
                ),
            )

    # -- failing calls with their worker ---------------------------------------------------

    def _fail_queued(self, worker: WorkerHandle, what: str, code: int | None) -> None:
        while worker.queued:
            call = worker.queued.popleft()
            if not call.fut.done() and not call.fut.get_loop().is_closed():
                call.fut.set_exception(
                    WorkerCrashed(
                        f"The worker process (pid {worker.pid}) {what} before it started "
                        f"{call.name}(), which was queued behind the call it was running.",
                        exitcode=code,
                        function=call.name,
                    )
                )

    def _kill(self, worker: WorkerHandle, exc: BaseException | None) -> None:
        """Terminate ``worker``; its call fails with ``exc`` (or is cancelled), queued ones crash."""
        call = worker.call
        worker.call = None
        self._pool.retire(worker, kill=True)
        self._fail_queued(worker, "was terminated", -signal.SIGKILL)
        if call is None:
            return
        self._limiter.release()
        if not call.fut.done() and not call.fut.get_loop().is_closed():
            if exc is None:
                call.fut.cancel()
            else:
                call.fut.set_exception(exc)

    # -- shutdown --------------------------------------------------------------------------

    async def aclose(self, grace: float = 5.0) -> None:
        """Stop idle workers now, let running calls finish for up to ``grace`` s, then kill."""
        pool = self._pool
        if pool.closed and pool.empty():
            return
        pool.closed = True
        self._reclaim_orphans()
        pool.retire_idle()
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not pool.busy():
                break
            await asyncio.sleep(0.01)
        for worker in pool.owned():
            self._kill(
                worker,
                OffloaderClosed(
                    f"The offloader was closed while {worker.call.name if worker.call else 'a call'}"
                    "() was running; its worker process was terminated."
                ),
            )
        await pool.bury()

    def close_now(self) -> None:
        self._pool.close_now()

    def describe(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "capacity": self._max_workers,
            "start_method": self.start_method,
            "workers": len(self._pool.workers),
            "running": self._limiter.in_use,
            "waiting": self._limiter.waiting,
            "crashes": self._crashes,
        }
