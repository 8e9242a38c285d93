"""An in-process fake engine for tests: runs each call on the loop thread and records it."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from unstall.offload._engine import CallTiming, CancelMode, Engine, TimingSink, engine_closed
from unstall.offload._limits import Limiter

__all__ = ("InlineCall", "InlineEngine", "call_through")

T = TypeVar("T")


class InlineCall(NamedTuple):
    """One call the inline engine received: the function and its arguments."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def call_through(call: InlineCall) -> Any:
    """The default handler: run the call."""
    return call.fn(*call.args, **call.kwargs)


class InlineEngine(Engine):
    """Runs each call right on the event loop's thread (it blocks the loop!), after one loop turn.

    Only for tests of code built on an :class:`~unstall.offload.Offloader` or an
    :class:`~unstall.offload.Engine` (limits, routing, ``map``, ``auto``): calls are
    deterministic, recorded in :attr:`calls`, and ``handler`` decides what each one returns or
    raises (by default it runs the function), in the caller's context. At most ``capacity``
    calls are in flight; ``measure`` gets the loop thread's CPU and wall time of the handler;
    ``timeout``, ``cancel`` and ``pipeline`` change nothing (nothing here can be interrupted).
    """

    name = "inline"

    def __init__(
        self, capacity: int = 4, handler: Callable[[InlineCall], Any] = call_through
    ) -> None:
        self._limiter = Limiter(capacity)
        self._capacity = capacity
        self._handler = handler
        self.calls: list[InlineCall] = []
        self.closed = False

    @property
    def capacity(self) -> int:
        return self._capacity

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
        if self.closed:
            raise engine_closed(self.name)
        async with self._limiter:
            await asyncio.sleep(0)  # a cancellation here means the call never starts
            call = InlineCall(fn, tuple(args), dict(kwargs))
            self.calls.append(call)
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                result: T = contextvars.copy_context().run(self._handler, call)
            finally:
                if measure is not None:
                    measure(CallTiming(time.thread_time() - cpu, time.perf_counter() - wall))
            return result

    async def aclose(self) -> None:
        self.closed = True

    def close_now(self) -> None:
        self.closed = True
