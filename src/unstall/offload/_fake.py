"""An in-process fake engine for tests: runs each call on the loop thread and records it."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Mapping
from typing import Any

from unstall.errors import OffloaderClosed
from unstall.offload._engine import CancelMode, Engine
from unstall.offload._limits import Limiter

__all__ = ("InlineEngine",)


class InlineEngine(Engine):
    """Runs ``fn`` right on the event loop's thread (it blocks the loop!), after one loop turn.

    Only for tests of code built on an :class:`~unstall.offload.Offloader` (limits, routing,
    ``map``): it makes calls deterministic and lets a test inspect :attr:`calls`.
    """

    name = "inline"

    def __init__(self, capacity: int = 4) -> None:
        self._limiter = Limiter(capacity)
        self._capacity = capacity
        self.calls: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        self.closed = False

    @property
    def capacity(self) -> int:
        return self._capacity

    async def run(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        *,
        timeout: float | None = None,
        cancel: CancelMode = "wait",
    ) -> Any:
        if self.closed:
            raise OffloaderClosed("The inline engine is closed; create a new Offloader.")
        if not self._limiter.try_acquire():
            await self._limiter.acquire()
        try:
            await asyncio.sleep(0)  # a cancellation here means the call never starts
            self.calls.append((fn, tuple(args), dict(kwargs)))
            return contextvars.copy_context().run(fn, *args, **kwargs)
        finally:
            self._limiter.release()

    async def aclose(self) -> None:
        self.closed = True

    def close_now(self) -> None:
        self.closed = True
