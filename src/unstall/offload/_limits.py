"""Concurrency limiter shared by every engine: a slot counter with a synchronous fast path."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from types import TracebackType

__all__ = ("Limiter",)


class Limiter:
    """At most ``total`` holders at a time; callers beyond that wait in FIFO order.

    Unlike :class:`asyncio.Semaphore` it is not bound to one event loop (a process-wide
    offloader serves every loop of the process) and :meth:`try_acquire` takes a free slot
    without creating a future or awaiting anything, which is the common case.

    ``async with limiter:`` holds a slot for the block (taken at once when one is free,
    else in line; given back however the block ends).
    """

    __slots__ = ("_free", "_lock", "_total", "_waiters")

    def __init__(self, total: int) -> None:
        if total < 1:
            raise ValueError(f"A limit must be at least 1, got {total!r}; pass None for no limit.")
        self._total = total
        self._free = total
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        """The number of slots."""
        return self._total

    @property
    def in_use(self) -> int:
        """Slots currently held."""
        return self._total - self._free

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot."""
        return len(self._waiters)

    def try_acquire(self) -> bool:
        """Take a slot now if one is free and nobody is queued; never blocks."""
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return True
            return False

    async def acquire(self) -> None:
        """Take a slot, waiting in line if none is free. Cancellation gives the slot back."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            with self._lock:
                granted = fut.done() and not fut.cancelled()
                if not granted:
                    # ValueError: release() popped it and a grant is on its way through
                    # call_soon_threadsafe; _grant will see it cancelled and pass it on.
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(fut)
            if granted:
                self.release()
            raise

    async def __aenter__(self) -> None:
        if not self.try_acquire():
            await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def release(self) -> None:
        """Give a slot back, handing it straight to the first live waiter if there is one."""
        with self._lock:
            while self._waiters:
                fut = self._waiters.popleft()
                if fut.done():
                    continue
                break
            else:
                self._free += 1
                return
        loop = fut.get_loop()
        if asyncio._get_running_loop() is loop:
            self._grant(fut)
        else:
            try:
                loop.call_soon_threadsafe(self._grant, fut)
            except RuntimeError:  # that loop is closed: pass the slot on
                self.release()

    def _grant(self, fut: asyncio.Future[None]) -> None:
        if fut.done():
            self.release()
        else:
            fut.set_result(None)
