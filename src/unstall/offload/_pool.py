"""The worker processes of one process engine: started off the loop, kept idle, retired, reaped.

The pool knows which processes exist and which are free; it knows nothing of the calls they
run (the engine routes those, and fails them when a worker dies or is killed).

The pool alone touches a worker's process object once it is started: it reads the exit
status for the engine (:meth:`WorkerPool.exit_code`), kills it, and closes it once it has
been reaped, which happens only after the worker was retired. A worker is retired once, by
whoever settles its calls; anything that comes later for it (its pipe's EOF, another look at
its exit status) finds it ``retired`` and does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any

from unstall.offload._handles import WorkerHandle, detach, start_worker

__all__ = ("WorkerPool",)


class WorkerPool:
    """The live workers of a process engine, the idle ones among them, and the dead to reap.

    ``closed`` is set by the engine when it shuts down: from then on a worker that starts or
    comes back idle is retired instead of kept.
    """

    __slots__ = (
        "_graveyard",
        "_lock",
        "_starting",
        "closed",
        "dying",
        "idle",
        "start_method",
        "workers",
    )

    def __init__(self, start_method: str) -> None:
        self.start_method = start_method
        #: Workers waiting for a call (a subset of ``workers``), the most recent last.
        self.idle: list[WorkerHandle] = []
        self.workers: set[WorkerHandle] = set()
        #: Workers whose pipes closed (see :meth:`forget`), until they are retired.
        self.dying: set[WorkerHandle] = set()
        self.closed = False
        self._graveyard: list[Any] = []  # retired processes not yet joined
        self._starting = 0
        self._lock = threading.Lock()

    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        return sorted(w.pid for w in self.workers)

    def busy(self) -> bool:
        """True while a worker is starting or running a call (or dying in one)."""
        return (
            bool(self._starting)
            or any(w.call is not None for w in self.workers)
            or any(w.call is not None for w in self.dying)
        )

    def empty(self) -> bool:
        """True when no worker is alive or dying and every retired one was reaped."""
        return not self.workers and not self.dying and not self._graveyard

    def owned(self) -> list[WorkerHandle]:
        """Every worker not retired yet: the live ones and the dying ones."""
        return [*self.workers, *self.dying]

    async def spawn(self) -> WorkerHandle:
        """Start a worker on a short-lived thread; it is the caller's (not idle) on return.

        If the caller stops waiting, the worker is kept idle for later (retired if closed).
        """
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[WorkerHandle] = loop.create_future()

        def deliver(ok: bool, value: Any) -> None:
            if not ok:
                if not fut.done():
                    fut.set_exception(value)
                return
            self.workers.add(value)
            if fut.done() or self.closed:  # the caller gave up: keep the worker for later
                if self.closed:
                    self.retire(value, kill=True)
                else:
                    self.idle.append(value)
            else:
                fut.set_result(value)

        def start() -> None:
            worker: WorkerHandle | BaseException
            try:
                worker, ok = start_worker(self.start_method), True
            except BaseException as exc:
                worker, ok = exc, False
            finally:
                with self._lock:
                    self._starting -= 1
            try:
                loop.call_soon_threadsafe(deliver, ok, worker)
            except RuntimeError:
                if isinstance(worker, WorkerHandle):
                    self.retire(worker, kill=True)

        with self._lock:
            self._starting += 1
        threading.Thread(target=start, name="unstall-process-start", daemon=True).start()
        return await fut

    def put_back(self, worker: WorkerHandle) -> None:
        """A worker finished its call: keep it idle, or let it exit if the pool is closed."""
        if self.closed:
            self.retire(worker, kill=False)
        else:
            self.idle.append(worker)

    def forget(self, worker: WorkerHandle) -> None:
        """A worker's pipe closed: stop watching it and handing it out; it is ``dying`` now.

        It stays the pool's until :meth:`retire` (once its exit status is known, or when the
        engine shuts down), so that nothing of it is left behind.
        """
        detach(worker)
        self.workers.discard(worker)
        if worker in self.idle:  # died while idle: no call may be sent to it any more
            self.idle.remove(worker)
        if not worker.retired:
            self.dying.add(worker)

    def exit_code(self, worker: WorkerHandle) -> int | None:
        """How a worker's process ended (an exit code, or minus a signal); None while unknown.

        Also None once the worker is retired (its process object may be closed by then);
        never raises.
        """
        if worker.retired:
            return None
        try:
            code: int | None = worker.proc.exitcode
        except (ValueError, OSError):  # closed by close_now on another thread just now
            return None
        return code

    def retire(self, worker: WorkerHandle, *, kill: bool) -> None:
        """Take a worker out of the pool for good: close its pipes, kill it if asked, reap it."""
        # Unregister before the fds close: a loop left watching a closed fd number would
        # mistake the next pipe to get that number for it.
        detach(worker)
        self.workers.discard(worker)
        self.dying.discard(worker)
        if worker in self.idle:  # died while idle
            self.idle.remove(worker)
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
        self.reap()

    def retire_idle(self) -> None:
        """Let every idle worker exit (at shutdown)."""
        for worker in list(self.idle):
            self.retire(worker, kill=False)
        self.idle.clear()

    def reap(self) -> None:
        """Join the retired processes that have exited, without waiting for the others.

        The one place a process object is closed.
        """
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

    async def bury(self, grace: float = 2.0) -> None:
        """Wait up to ``grace`` seconds for the retired processes to exit, then kill the rest."""
        deadline = time.monotonic() + grace
        while self._graveyard and time.monotonic() < deadline:
            self.reap()
            if self._graveyard:
                await asyncio.sleep(0.005)
        for proc in self._graveyard:
            proc.kill()
        self.reap()

    def close_now(self) -> None:
        """Kill every worker and reap them within about a second; never raises."""
        self.closed = True
        try:
            for worker in [*self.owned(), *self.idle]:
                self.retire(worker, kill=True)
            self.idle.clear()
            deadline = time.monotonic() + 1.0
            for proc in list(self._graveyard):
                proc.join(max(0.0, deadline - time.monotonic()))
            self.reap()
        except Exception:  # at interpreter exit, never raise
            pass
