"""Process engine: a pipe per worker process, replies read on the caller's loop with add_reader.

No helper thread reads results: a worker's reply pipe is registered with the event loop that
sends it calls (and stays registered between calls from that loop), and the reply, or EOF if
the worker died, is handled right there. A dead or killed worker fails only its own call and
is replaced on demand; a worker found dead before it read a call never fails that call, which
goes to another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from unstall.errors import OffloaderClosed, WorkerCrashed
from unstall.offload._engine import CancelMode, Engine, TimingSink, engine_closed
from unstall.offload._handles import (
    JOIN_LIMIT,
    START_METHODS,
    Call,
    WorkerHandle,
    default_start_method,
    read_messages,
    start_worker,
    unread_bytes,
    write_some,
)
from unstall.offload._limits import Limiter
from unstall.offload._names import qualname
from unstall.offload._pickling import dumps_call
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
        self._start_method = start_method
        self._max_workers = max_workers or os.cpu_count() or 1
        self._limiter = Limiter(self._max_workers)
        self._idle: list[WorkerHandle] = []
        self._workers: set[WorkerHandle] = set()
        self._graveyard: list[Any] = []
        self._starting = 0
        self._lock = threading.Lock()
        self._closed = False
        self._crashes = 0

    @property
    def capacity(self) -> int:
        return self._max_workers

    @property
    def start_method(self) -> str:
        """The multiprocessing start method used for workers."""
        return self._start_method

    def pids(self) -> list[int]:
        """Process ids of the live workers (for diagnostics and tests)."""
        return sorted(w.pid for w in self._workers)

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
        if self._closed:
            raise engine_closed(self.name)
        payload = dumps_call(fn, args, kwargs)
        loop = asyncio.get_running_loop()
        have_slot = self._limiter.try_acquire()
        if not have_slot and pipeline and timeout is None:
            target = self._pipeline_target(loop)
            if target is not None:
                return await self._run_queued(loop, target, fn, payload, cancel)
        deadline = None if timeout is None else loop.time() + timeout
        name = qualname(fn)
        for _ in range(3):
            if have_slot and self._idle:
                worker = self._idle.pop()  # the common case: no waiting at all
            elif deadline is None:
                worker = await self._claim_worker(have_slot)
            else:
                try:
                    async with asyncio.timeout_at(deadline):
                        worker = await self._claim_worker(have_slot)
                except TimeoutError:
                    raise TimeoutError(
                        f"The call to {name}() did not start within {timeout!r} s."
                    ) from None
            have_slot = True
            fut = Waiter(loop)
            call = Call(fut, name, pipelined=pipeline and timeout is None)
            if not self._send(loop, worker, call, payload):
                # The worker died while idle (its pipe is broken): the call never reached
                # it, so it goes to another worker.
                worker.call = None
                self._discard(worker)
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
        for worker in self._workers:
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
        self._write(loop, worker, payload)
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

    async def _claim_worker(self, have_slot: bool) -> WorkerHandle:
        limiter = self._limiter
        if not have_slot:
            self._reclaim_orphans()
            await limiter.acquire()
        try:
            if self._idle:
                return self._idle.pop()
            return await self._spawn()
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
            self._detach(worker)
            worker.loop = loop
            loop.add_reader(worker.reply_fd, self._on_readable, worker)
            worker.reading = True
        return self._write(loop, worker, segments)

    def _write(
        self,
        loop: asyncio.AbstractEventLoop,
        worker: WorkerHandle,
        segments: list[bytes | memoryview],
    ) -> bool:
        if worker.unsent is not None:  # an earlier request is still going out: keep order
            worker.unsent.extend(memoryview(s).cast("B") for s in segments if len(s))
            return True
        if len(segments) == 1:  # the common case: one system call writes it all
            data = segments[0]
            try:
                written = os.write(worker.request_fd, data)
            except BlockingIOError:
                written = 0
            except OSError:
                return False
            if written == len(data):
                return True
            segments = [memoryview(data).cast("B")[written:]]
        if sum(len(segment) for segment in segments) <= JOIN_LIMIT:
            views = [memoryview(b"".join(segments))]
        else:  # big: write each buffer from its own memory
            views = [memoryview(s).cast("B") for s in segments if len(s)]
        try:
            views = write_some(worker.request_fd, views)
        except OSError:
            return False
        if views:
            # The rest goes out as the worker drains the pipe, never blocking the loop.
            worker.unsent = views
            loop.add_writer(worker.request_fd, self._on_writable, worker)
        return True

    def _on_writable(self, worker: WorkerHandle) -> None:
        if worker.unsent is None:
            return
        try:
            worker.unsent = write_some(worker.request_fd, worker.unsent)
        except OSError:
            worker.unsent = []  # the worker is gone; its EOF will fail the call
        if not worker.unsent:
            worker.unsent = None
            if worker.loop is not None:
                worker.loop.remove_writer(worker.request_fd)

    # -- replies -------------------------------------------------------------------------

    def _on_readable(self, worker: WorkerHandle) -> None:
        if worker.loop is not asyncio._get_running_loop():
            return  # the worker moved to another loop, which reads it from now on
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
            if self._closed:
                self._detach(worker)
                self._retire(worker, kill=False)
            else:
                self._idle.append(worker)
            self._limiter.release()
        if call is None or call.fut.done():
            return
        if message[0] == ERROR:
            replies.append((call.fut, False, rebuild_error(message, worker.pid, call.name)))
        else:
            replies.append((call.fut, True, message[1]))

    def _on_eof(self, worker: WorkerHandle, tries: int = 0, untouched: bool = False) -> None:
        if tries == 0:
            # A request still (even partly) in the pipe was never read: that call never ran,
            # and can safely go to another worker. (A worker can die just as it is handed a
            # call: its pipes close a moment after it is gone.)
            untouched = worker.unsent is not None or unread_bytes(worker.request_fd) > 0
            self._detach(worker)
            self._workers.discard(worker)
        code = worker.proc.exitcode
        loop = worker.loop
        if code is None and tries < 40 and loop is not None and not loop.is_closed():
            # The pipe closes as the process exits; its status follows a moment later.
            loop.call_later(0.005, self._on_eof, worker, tries + 1, untouched)
            return
        call = worker.call
        worker.call = None
        self._crashes += 1
        self._retire(worker, kill=True)
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
                f"{self._start_method!r} start method each worker imports the main module again: "
                "guard the program's entry point with `if __name__ == '__main__':`."
            )
        call.fut.set_exception(WorkerCrashed(message, exitcode=code, function=call.name))

    def _reclaim_orphans(self) -> None:
        # A call whose event loop was closed mid-call can never be completed: its reply would
        # be read by that loop. Terminate such workers so their slots come back.
        for worker in list(self._workers):
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

    # -- worker lifetime -------------------------------------------------------------------

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
        call = worker.call
        worker.call = None
        self._detach(worker)
        self._retire(worker, kill=True)
        self._fail_queued(worker, "was terminated", -signal.SIGKILL)
        if call is None:
            return
        self._limiter.release()
        if not call.fut.done() and not call.fut.get_loop().is_closed():
            if exc is None:
                call.fut.cancel()
            else:
                call.fut.set_exception(exc)

    def _detach(self, worker: WorkerHandle) -> None:
        """Unregister the worker's pipes from the loop watching them."""
        loop = worker.loop
        reading, writing = worker.reading, worker.unsent is not None
        worker.reading = False
        worker.unsent = None
        if loop is None or loop.is_closed() or not (reading or writing):
            return

        def unregister() -> None:
            # The loop may be shutting down; the fds are closed next anyway.
            with contextlib.suppress(Exception):
                if reading:
                    loop.remove_reader(worker.reply_fd)
                if writing:
                    loop.remove_writer(worker.request_fd)

        if loop.is_running() and loop is not asyncio._get_running_loop():
            # That loop runs in another thread: it must unregister the pipes itself.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(unregister)
        else:
            unregister()

    def _discard(self, worker: WorkerHandle) -> None:
        self._detach(worker)
        self._retire(worker, kill=True)

    def _retire(self, worker: WorkerHandle, *, kill: bool) -> None:
        # Unregister before the fds close: a loop left watching a closed fd number would
        # mistake the next pipe to get that number for it.
        self._detach(worker)
        self._workers.discard(worker)
        if worker in self._idle:  # died while idle
            self._idle.remove(worker)
        if worker.retired:
            return
        worker.retired = True
        for conn in worker.conns:
            with contextlib.suppress(OSError):
                conn.close()
        if kill:
            with contextlib.suppress(Exception):  # already gone
                worker.proc.kill()
        self._graveyard.append(worker.proc)
        self._reap()

    def _reap(self) -> None:
        alive = []
        for proc in self._graveyard:
            try:
                proc.join(0)
            except Exception:
                continue
            if proc.exitcode is None:
                alive.append(proc)
            else:
                proc.close()
        self._graveyard = alive

    async def _spawn(self) -> WorkerHandle:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[WorkerHandle] = loop.create_future()

        def deliver(ok: bool, value: Any) -> None:
            if not ok:
                if not fut.done():
                    fut.set_exception(value)
                return
            self._workers.add(value)
            if fut.done() or self._closed:  # the caller gave up: keep the worker for later
                if self._closed:
                    self._retire(value, kill=True)
                else:
                    self._idle.append(value)
            else:
                fut.set_result(value)

        def start() -> None:
            worker: WorkerHandle | BaseException
            try:
                worker, ok = start_worker(self._start_method), True
            except BaseException as exc:
                worker, ok = exc, False
            finally:
                with self._lock:
                    self._starting -= 1
            try:
                loop.call_soon_threadsafe(deliver, ok, worker)
            except RuntimeError:
                if isinstance(worker, WorkerHandle):
                    self._retire(worker, kill=True)

        with self._lock:
            self._starting += 1
        threading.Thread(target=start, name="unstall-process-start", daemon=True).start()
        return await fut

    # -- shutdown --------------------------------------------------------------------------

    async def aclose(self, grace: float = 5.0) -> None:
        """Stop idle workers now, let running calls finish for up to ``grace`` s, then kill."""
        if self._closed and not self._workers and not self._graveyard:
            return
        self._closed = True
        self._reclaim_orphans()
        for worker in list(self._idle):
            self._retire(worker, kill=False)
        self._idle.clear()
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not self._starting and all(w.call is None for w in self._workers):
                break
            await asyncio.sleep(0.01)
        for worker in list(self._workers):
            self._kill(
                worker,
                OffloaderClosed(
                    f"The offloader was closed while {worker.call.name if worker.call else 'a call'}"
                    "() was running; its worker process was terminated."
                ),
            )
        deadline = time.monotonic() + 2.0
        while self._graveyard and time.monotonic() < deadline:
            self._reap()
            if self._graveyard:
                await asyncio.sleep(0.005)
        for proc in self._graveyard:
            proc.kill()
        self._reap()

    def close_now(self) -> None:
        self._closed = True
        try:
            for worker in list(self._workers) + list(self._idle):
                self._detach(worker)
                self._retire(worker, kill=True)
            self._idle.clear()
            deadline = time.monotonic() + 1.0
            for proc in list(self._graveyard):
                proc.join(max(0.0, deadline - time.monotonic()))
            self._reap()
        except Exception:  # at interpreter exit, never raise
            pass

    def describe(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "capacity": self._max_workers,
            "start_method": self._start_method,
            "workers": len(self._workers),
            "running": self._limiter.in_use,
            "waiting": self._limiter.waiting,
            "crashes": self._crashes,
        }
