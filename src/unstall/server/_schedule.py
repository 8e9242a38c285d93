"""When the server checks: requests gathered, a burst of edits waited out, one check at a time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ("Debouncer",)

K = TypeVar("K")


class Debouncer(Generic[K]):
    """Calls ``work(keys)`` with every key requested since its last call, never two calls at once.

    :meth:`request` with a delay (an edit) waits until no other delayed request came for
    that long (a burst of keystrokes is checked once, at its end); a request without delay
    (a file opened or saved) is due at once, and a delayed request does not put it off.
    Requests made while ``work`` runs are gathered for the next call; an exception ``work``
    raises goes to ``on_error`` and the next call still comes. Must be used from the event
    loop that runs it.
    """

    def __init__(
        self,
        work: Callable[[set[K]], Awaitable[None]],
        on_error: Callable[[BaseException], None] = lambda exc: None,
    ) -> None:
        self._work = work
        self._on_error = on_error
        self._keys: set[K] = set()
        self._due: float | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def request(self, key: K, delay: float = 0.0) -> None:
        """Ask for ``key`` to be worked on ``delay`` seconds from now (at once when 0)."""
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._keys.add(key)
        if delay <= 0 or self._due is None or self._due > now:
            self._due = now + max(delay, 0.0)
        self._wake.set()
        if self._task is None:
            self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._due is not None:
                wait = self._due - loop.time()
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), wait)
                    self._wake.clear()
                    continue  # a new request may have moved the time due
                keys, self._keys, self._due = self._keys, set(), None
                try:
                    await self._work(keys)
                except Exception as exc:
                    self._on_error(exc)

    async def close(self) -> None:
        """Drop what is requested and stop; a call of ``work`` under way is cancelled."""
        self._closed = True
        self._keys.clear()
        self._due = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
