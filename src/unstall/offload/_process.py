"""Process engine: a pipe per worker process, replies read on the caller's loop with add_reader.

No helper thread reads results: when a call is sent, the worker's reply pipe is registered
with the awaiting loop, and the reply (or EOF, if the worker died) is handled right there.
A dead or killed worker fails only its own call and is replaced on the next call.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from unstall.errors import NotPicklable, OffloaderClosed, OffloadError, WorkerCrashed
from unstall.offload._engine import CancelMode, Engine
from unstall.offload._limits import Limiter
from unstall.offload._pickling import dumps_call, qualname
from unstall.offload._wire import HEADER, decode, segment_count
from unstall.offload._worker import ERROR, LOG, READY, worker_main

__all__ = ("ProcessEngine",)

_READ_SIZE = 1 << 18
_JOIN_LIMIT = 1 << 18  # smaller requests are joined and written with a single system call


def _write_some(fd: int, views: list[memoryview]) -> list[memoryview]:
    """Write what a non-blocking ``fd`` takes now; return what is left."""
    try:
        written = os.writev(fd, views) if len(views) > 1 else os.write(fd, views[0])
    except BlockingIOError:
        return views
    while views and written >= views[0].nbytes:
        written -= views[0].nbytes
        views = views[1:]
    if views and written:
        views = [views[0][written:], *views[1:]]
    return views


_START_METHODS = ("forkserver", "spawn", "fork")


class _Call:
    __slots__ = ("fut", "name", "pipelined")

    def __init__(self, fut: asyncio.Future[Any], name: str, pipelined: bool = False) -> None:
        self.fut = fut
        self.name = name
        self.pipelined = pipelined


class _Worker:
    __slots__ = (
        "buf",
        "call",
        "conns",
        "loop",
        "pid",
        "proc",
        "queued",
        "ready",
        "reply_fd",
        "request_fd",
        "retired",
        "unsent",
    )

    def __init__(self, proc: Any, request: Any, reply: Any, lifeline: Any) -> None:
        self.proc = proc
        self.pid: int = proc.pid
        self.conns = (request, reply, lifeline)
        self.request_fd: int = request.fileno()
        self.reply_fd: int = reply.fileno()
        self.buf = bytearray()
        self.call: _Call | None = None  # the call the worker is running
        self.queued: collections.deque[_Call] = collections.deque()  # sent, not started
        self.loop: asyncio.AbstractEventLoop | None = None
        self.retired = False
        self.ready = False
        self.unsent: list[memoryview] | None = None


def _default_start_method() -> str:
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _emit_log(state: dict[str, Any]) -> None:
    record = logging.makeLogRecord(state)
    logger = logging.getLogger(record.name)
    if logger.isEnabledFor(record.levelno):
        logger.handle(record)


def _exit_text(code: int | None) -> str:
    if code is None:
        return "an unknown exit status"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def _rebuild_error(message: tuple[Any, ...], pid: int, name: str) -> BaseException:
    _, exc, text, *rest = message
    if exc is None:
        typename, reason = rest[0], rest[1]
        if typename == "NotPicklable":
            exc = NotPicklable(
                f"The result of {name}() (a {rest[2]} object) cannot be pickled to come back from "
                f"the worker process ({reason}). Return picklable data, or use engine='thread'.",
                what="result",
                reason=reason,
            )
        elif typename == "Unpickling":
            exc = OffloadError(
                f"The worker process could not unpickle the call to {name}() ({reason}). Make "
                "sure the function's module is importable in a fresh interpreter."
            )
        else:
            exc = OffloadError(
                f"{name}() raised {typename}: {reason} in the worker process; the exception "
                "itself could not be pickled, so it is re-raised as OffloadError."
            )
    if text:
        exc.add_note(f"Traceback in worker process {pid}:\n{text.rstrip()}")
    return exc  # type: ignore[no-any-return]


class ProcessEngine(Engine):
    """Runs calls in a pool of worker processes, each reached through its own pipes.

    ``max_workers`` (default: the CPU count) bounds the processes and the concurrent calls;
    ``start_method`` is ``"forkserver"`` (default where available: safe with threads),
    ``"spawn"`` or ``"fork"``. Functions and arguments are pickled in the caller, so
    :class:`~unstall.errors.NotPicklable` names a bad argument before anything is sent. A worker
    that dies fails only its own call with :class:`~unstall.errors.WorkerCrashed`; ``timeout``
    and ``cancel="kill"`` terminate the worker running the call, and it is replaced. Workers
    exit when the parent process dies, even mid-call. Log records emitted in workers are passed
    to the parent's handlers.
    """

    name = "process"
    remote = True
    #: Accepts ``pipeline=True`` in :meth:`run` (``unstall.map`` uses it for its chunks).
    pipelines = True

    def __init__(self, max_workers: int | None = None, start_method: str | None = None) -> None:
        if start_method is None:
            start_method = _default_start_method()
        if start_method not in _START_METHODS:
            raise ValueError(
                f"Unknown start_method {start_method!r}; choose one of {_START_METHODS!r}."
            )
        self._start_method = start_method
        self._max_workers = max_workers or os.cpu_count() or 1
        self._limiter = Limiter(self._max_workers)
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
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
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        *,
        timeout: float | None = None,
        cancel: CancelMode = "wait",
        pipeline: bool = False,
    ) -> Any:
        """Run ``fn(*args, **kwargs)`` in a worker process (see :meth:`Engine.run`).

        ``pipeline=True`` (used by ``unstall.map`` for its chunks, never with a timeout) may
        queue the call behind another pipelined call on a busy worker, so the worker goes
        straight on to it without waiting for the loop: if that worker dies or is killed,
        the queued call fails with :class:`~unstall.errors.WorkerCrashed` too.
        """
        if self._closed:
            raise OffloaderClosed("The process engine is closed; create a new Offloader.")
        payload = dumps_call(fn, args, kwargs)
        loop = asyncio.get_running_loop()
        have_slot = self._limiter.try_acquire()
        if not have_slot and pipeline and timeout is None:
            target = self._pipeline_target(loop)
            if target is not None:
                return await self._run_queued(loop, target, fn, payload, cancel)
        deadline = None if timeout is None else loop.time() + timeout
        if deadline is None:
            worker = await self._claim_worker(have_slot)
        else:
            try:
                async with asyncio.timeout_at(deadline):
                    worker = await self._claim_worker(have_slot)
            except TimeoutError:
                raise TimeoutError(
                    f"The call to {qualname(fn)}() did not start within {timeout!r} s."
                ) from None
        fut: asyncio.Future[Any] = loop.create_future()
        call = _Call(fut, qualname(fn), pipelined=pipeline and timeout is None)
        self._send(loop, worker, call, payload)
        handle = (
            None
            if deadline is None
            else loop.call_at(deadline, self._on_timeout, worker, call, timeout)
        )
        try:
            return await fut
        except asyncio.CancelledError:
            if cancel == "kill" and worker.call is call:
                self._kill(worker, None)
            raise
        finally:
            if handle is not None:
                handle.cancel()

    def _pipeline_target(self, loop: asyncio.AbstractEventLoop) -> _Worker | None:
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
        worker: _Worker,
        fn: Callable[..., Any],
        payload: list[bytes | memoryview],
        cancel: CancelMode,
    ) -> Any:
        call = _Call(loop.create_future(), qualname(fn), pipelined=True)
        worker.queued.append(call)
        self._write(loop, worker, payload)
        try:
            return await call.fut
        except asyncio.CancelledError:
            if (
                cancel == "kill"
                and not worker.retired
                and (worker.call is call or call in worker.queued)
            ):
                self._kill(worker, None)
            raise

    async def _claim_worker(self, have_slot: bool) -> _Worker:
        limiter = self._limiter
        if not have_slot:
            self._reclaim_orphans()
            await limiter.acquire()
        try:
            while self._idle:
                worker = self._idle.pop()
                if worker.proc.is_alive():
                    return worker
                self._discard(worker)
            return await self._spawn()
        except BaseException:
            limiter.release()
            raise

    def _send(
        self,
        loop: asyncio.AbstractEventLoop,
        worker: _Worker,
        call: _Call,
        segments: list[bytes | memoryview],
    ) -> None:
        worker.call = call
        worker.loop = loop
        loop.add_reader(worker.reply_fd, self._on_readable, worker)
        self._write(loop, worker, segments)

    def _write(
        self, loop: asyncio.AbstractEventLoop, worker: _Worker, segments: list[bytes | memoryview]
    ) -> None:
        if worker.unsent is not None:  # an earlier request is still going out: keep order
            worker.unsent.extend(memoryview(s).cast("B") for s in segments if len(s))
            return
        if sum(len(segment) for segment in segments) <= _JOIN_LIMIT:
            views = [memoryview(b"".join(segments))]
        else:  # big: write each buffer from its own memory
            views = [memoryview(s).cast("B") for s in segments if len(s)]
        try:
            views = _write_some(worker.request_fd, views)
        except OSError:
            # The worker died while idle; its EOF arrives through the reader and fails this
            # call with WorkerCrashed, which is what happened.
            return
        if views:
            # The rest goes out as the worker drains the pipe, never blocking the loop.
            worker.unsent = views
            loop.add_writer(worker.request_fd, self._on_writable, worker)

    def _on_writable(self, worker: _Worker) -> None:
        if worker.unsent is None:
            return
        try:
            worker.unsent = _write_some(worker.request_fd, worker.unsent)
        except OSError:
            worker.unsent = []  # the worker is gone; its EOF will fail the call
        if not worker.unsent:
            worker.unsent = None
            if worker.loop is not None:
                worker.loop.remove_writer(worker.request_fd)

    # -- replies -------------------------------------------------------------------------

    def _on_readable(self, worker: _Worker) -> None:
        buf = worker.buf
        while True:
            try:
                chunk = os.read(worker.reply_fd, _READ_SIZE)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:
                self._on_eof(worker)
                return
            buf += chunk
            if len(chunk) < _READ_SIZE:
                break
        while len(buf) >= HEADER.size:
            (size,) = HEADER.unpack_from(buf)
            end = HEADER.size + size
            if len(buf) < end:
                return
            try:
                with memoryview(buf) as view:
                    body = view[HEADER.size : end]
                    if segment_count(body) > 1:
                        # Out-of-band buffers may stay referenced (numpy arrays are views):
                        # give them memory of their own, not a slice of the read buffer.
                        body.release()
                        body = memoryview(bytearray(view[HEADER.size : end]))
                    message = decode(body)
                    body.release()
            except Exception as exc:
                message = (
                    ERROR,
                    OffloadError(f"A reply from the worker could not be read: {exc}"),
                    "",
                )
            del buf[:end]
            if message[0] == LOG:
                _emit_log(message[1])
            elif message[0] == READY:
                worker.ready = True
            else:
                self._on_reply(worker, message)

    def _on_reply(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        call = worker.call
        if worker.queued:
            # The worker is already on its next (pipelined) call, which takes over the slot.
            worker.call = worker.queued.popleft()
        else:
            worker.call = None
            self._detach(worker)
            if self._closed:
                self._retire(worker, kill=False)
            else:
                self._idle.append(worker)
            self._limiter.release()
        if call is None or call.fut.done():
            return
        if message[0] == ERROR:
            call.fut.set_exception(_rebuild_error(message, worker.pid, call.name))
        else:
            call.fut.set_result(message[1])

    def _on_eof(self, worker: _Worker, tries: int = 0) -> None:
        if tries == 0:
            self._detach(worker)
            self._workers.discard(worker)
        code = worker.proc.exitcode
        loop = worker.loop
        if code is None and tries < 40 and loop is not None and not loop.is_closed():
            # The pipe closes as the process exits; its status follows a moment later.
            loop.call_later(0.005, self._on_eof, worker, tries + 1)
            return
        call = worker.call
        worker.call = None
        self._crashes += 1
        self._retire(worker, kill=True)
        self._fail_queued(worker, f"died with {_exit_text(code)}", code)
        if call is None:
            return
        self._limiter.release()
        if call.fut.done():
            return
        if worker.ready:
            message = (
                f"The worker process (pid {worker.pid}) running {call.name}() died with "
                f"{_exit_text(code)}. Only this call failed; the pool replaces the worker. "
                "Look for os._exit, a signal or the out-of-memory killer."
            )
        else:
            message = (
                f"The worker process (pid {worker.pid}) exited with {_exit_text(code)} before it "
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

    def _on_timeout(self, worker: _Worker, call: _Call, timeout: float | None) -> None:
        if worker.call is call:
            self._kill(
                worker,
                TimeoutError(
                    f"The call to {call.name}() did not finish within {timeout!r} s; its worker "
                    f"process (pid {worker.pid}) was terminated and will be replaced."
                ),
            )

    # -- worker lifetime -------------------------------------------------------------------

    def _fail_queued(self, worker: _Worker, what: str, code: int | None) -> None:
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

    def _kill(self, worker: _Worker, exc: BaseException | None) -> None:
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

    def _detach(self, worker: _Worker) -> None:
        loop = worker.loop
        if loop is not None and not loop.is_closed():
            # The loop may be shutting down; the fd is closed next anyway.
            with contextlib.suppress(Exception):
                loop.remove_reader(worker.reply_fd)
            if worker.unsent is not None:
                worker.unsent = None
                with contextlib.suppress(Exception):
                    loop.remove_writer(worker.request_fd)

    def _discard(self, worker: _Worker) -> None:
        self._detach(worker)
        self._retire(worker, kill=True)

    def _retire(self, worker: _Worker, *, kill: bool) -> None:
        self._workers.discard(worker)
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

    async def _spawn(self) -> _Worker:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[_Worker] = loop.create_future()

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
            worker: _Worker | BaseException
            try:
                worker, ok = self._start_worker(), True
            except BaseException as exc:
                worker, ok = exc, False
            finally:
                with self._lock:
                    self._starting -= 1
            try:
                loop.call_soon_threadsafe(deliver, ok, worker)
            except RuntimeError:
                if isinstance(worker, _Worker):
                    self._retire(worker, kill=True)

        with self._lock:
            self._starting += 1
        threading.Thread(target=start, name="unstall-process-start", daemon=True).start()
        return await fut

    def _start_worker(self) -> _Worker:
        ctx = multiprocessing.get_context(self._start_method)
        request_r, request_w = ctx.Pipe(duplex=False)
        reply_r, reply_w = ctx.Pipe(duplex=False)
        lifeline_r, lifeline_w = ctx.Pipe(duplex=False)
        proc = ctx.Process(  # type: ignore[attr-defined]
            target=worker_main,
            args=(request_r, reply_w, lifeline_r, logging.getLogger().getEffectiveLevel()),
            name="unstall-process-worker",
            daemon=True,
        )
        try:
            proc.start()
        except BaseException:
            for conn in (request_r, request_w, reply_r, reply_w, lifeline_r, lifeline_w):
                conn.close()
            raise
        for conn in (request_r, reply_w, lifeline_r):
            conn.close()
        os.set_blocking(reply_r.fileno(), False)
        os.set_blocking(request_w.fileno(), False)
        return _Worker(proc, request_w, reply_r, lifeline_w)

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
