"""``@unstall.offload(...)``: a sync function that stays sync, with an awaitable ``.aio``."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar, overload

from unstall.offload._engine import ENGINE_NAMES, CancelMode
from unstall.offload._limits import Limiter
from unstall.offload._offloader import Offloader, get_default

__all__ = ("OffloadedFunction", "offload")

P = ParamSpec("P")
R = TypeVar("R")


class OffloadedFunction(Generic[P, R]):
    """A sync function plus an awaitable way to run it off the loop.

    Calling it runs the function right here, exactly as before decoration (so sync callers and
    worker processes are unaffected). ``await f.aio(*args, **kwargs)`` runs it on the chosen
    engine, under the function's own ``limit``, with its ``timeout`` and ``cancel`` policy.
    It pickles by reference, like the function it wraps, so it can itself be sent to a process.
    """

    __name__: str
    __qualname__: str

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        engine: str,
        limit: int | None,
        timeout: float | None,
        cancel: CancelMode,
        offloader: Offloader | None,
    ) -> None:
        if engine != "auto" and engine not in ENGINE_NAMES:
            raise ValueError(
                f"Unknown engine {engine!r} for @offload; choose 'auto' or one of {ENGINE_NAMES!r}."
            )
        if cancel not in ("wait", "kill"):
            raise ValueError(f"cancel must be 'wait' or 'kill', got {cancel!r}.")
        self.__wrapped__ = fn
        functools.update_wrapper(self, fn)
        self.engine = engine
        self.limit = limit
        self.timeout = timeout
        self.cancel: CancelMode = cancel
        self._offloader = offloader
        self._limiter = Limiter(limit) if limit is not None else None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.__wrapped__(*args, **kwargs)

    async def aio(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the function on its engine and await the result (see :meth:`Offloader.run`)."""
        offloader = self._offloader or get_default()
        return await offloader.run(
            self,
            args,
            kwargs,
            engine=self.engine,
            timeout=self.timeout,
            cancel=self.cancel,
            limiter=self._limiter,
        )

    def __reduce__(self) -> str | tuple[Any, ...]:
        # Pickle by reference to the module attribute when that is this wrapper (the usual
        # decorator case); otherwise send the wrapped function itself, which is what runs.
        target = self.__wrapped__
        name: str = target.__qualname__
        found: Any = sys.modules.get(target.__module__)
        for part in name.split("."):
            found = getattr(found, part, None)
        if found is self:
            return name
        return (_same, (target,))

    def __repr__(self) -> str:
        target = self.__wrapped__
        return f"<offloaded {target.__module__}.{target.__qualname__} engine={self.engine!r}>"


def _same(obj: Any) -> Any:
    return obj


@overload
def offload(fn: Callable[P, R], /) -> OffloadedFunction[P, R]: ...


@overload
def offload(
    fn: None = None,
    /,
    *,
    engine: str = "thread",
    limit: int | None = None,
    timeout: float | None = None,
    cancel: CancelMode = "wait",
    offloader: Offloader | None = None,
) -> Callable[[Callable[P, R]], OffloadedFunction[P, R]]: ...


def offload(
    fn: Callable[P, R] | None = None,
    /,
    *,
    engine: str = "thread",
    limit: int | None = None,
    timeout: float | None = None,
    cancel: CancelMode = "wait",
    offloader: Offloader | None = None,
) -> OffloadedFunction[P, R] | Callable[[Callable[P, R]], OffloadedFunction[P, R]]:
    """Decorate a sync function so ``await f.aio(...)`` runs it off the event loop.

    ``engine`` is ``"thread"`` (default), ``"process"``, ``"interpreter"``, ``"dask"`` or
    ``"auto"`` (measure the first calls, then route GIL-holding CPU work to processes);
    ``limit`` caps this function's concurrent calls (others wait); ``timeout`` (seconds) raises
    :class:`TimeoutError`; ``cancel="kill"`` terminates a process worker when the awaiting task
    is cancelled. ``offloader`` defaults to the process-wide one. ``f(...)`` still calls the
    function synchronously.
    """

    def decorate(target: Callable[P, R]) -> OffloadedFunction[P, R]:
        return OffloadedFunction(
            target,
            engine=engine,
            limit=limit,
            timeout=timeout,
            cancel=cancel,
            offloader=offloader,
        )

    if fn is not None:
        return decorate(fn)
    return decorate
