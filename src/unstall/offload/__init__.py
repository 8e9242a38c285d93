"""Move blocking and CPU-bound work off the event loop: threads, processes, sub-interpreters, Dask.

The one-liners use a process-wide :class:`Offloader` created on first use::

    data = await unstall.to_thread(requests.get, url)       # blocking I/O: a worker thread
    digest = await unstall.to_process(crunch, payload)      # GIL-holding CPU work: a process
    async for row in unstall.map(parse, lines):             # many items, in order, chunked
        ...

    @unstall.offload(engine="auto", limit=4, timeout=30)    # the module itself is callable
    def render(page): ...

    render(page)               # still a plain sync call
    await render.aio(page)     # off the loop, on the engine auto picked

Engines are loaded by name (``"thread"``, ``"process"``, ``"interpreter"``, ``"dask"``, and the
in-process fake ``"inline"`` for tests); ``stats()`` shows what ``auto`` decided per function
and ``pin()`` overrides it. Errors are in :mod:`unstall.errors`; timeouts raise the builtin
:class:`TimeoutError`.
"""

from __future__ import annotations

import sys
import types
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Literal, TypeVar

from unstall._exports import publish as _publish
from unstall.offload._auto import AutoDecision
from unstall.offload._decorator import OffloadedFunction, offload
from unstall.offload._engine import CancelMode, Engine
from unstall.offload._limits import Limiter
from unstall.offload._offloader import Offloader, OffloadStats, get_default

__all__ = (
    "AutoDecision",
    "CancelMode",
    "Engine",
    "Limiter",
    "OffloadStats",
    "OffloadedFunction",
    "Offloader",
    "get_default",
    "map",
    "map_list",
    "offload",
    "pin",
    "stats",
    "to_process",
    "to_thread",
    "unpin",
)

T = TypeVar("T")
R = TypeVar("R")


async def to_thread(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` on a worker thread of the default offloader and await it.

    Like :func:`asyncio.to_thread` (contextvars are propagated) but cheaper per call. If the
    awaiting task is cancelled before a thread picks the call up, it never runs; once running,
    it finishes in the background and its result is dropped.
    """
    return await get_default().engine("thread").run(fn, args, kwargs)


async def to_process(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` in a worker process of the default offloader and await it.

    ``fn`` and the arguments are pickled first: :class:`~unstall.errors.NotPicklable` names the
    one that cannot be. A worker that dies raises :class:`~unstall.errors.WorkerCrashed` for
    this call only. For a timeout that kills the worker, use ``@offload(engine="process",
    timeout=...)`` or :meth:`Offloader.run`.
    """
    return await get_default().engine("process").run(fn, args, kwargs)


def map(
    fn: Callable[[T], R],
    iterable: Iterable[T],
    *,
    engine: str = "process",
    chunksize: int | Literal["auto"] = "auto",
    window: int | None = None,
    timeout: float | None = None,
) -> AsyncIterator[R]:
    """Yield ``fn(item)`` for every item, in input order, computed on ``engine``.

    The iterable is consumed lazily: at most ``window`` chunks (default: twice the engine's
    capacity) are in flight, so an endless generator is fine. ``chunksize="auto"`` sizes chunks
    to about 10 ms of measured work each. ``timeout`` applies to each chunk.
    """
    return get_default().map(
        fn, iterable, engine=engine, chunksize=chunksize, window=window, timeout=timeout
    )


async def map_list(
    fn: Callable[[T], R],
    iterable: Iterable[T],
    *,
    engine: str = "process",
    chunksize: int | Literal["auto"] = "auto",
    window: int | None = None,
    timeout: float | None = None,
) -> list[R]:
    """Like :func:`map`, collected into a list."""
    return await get_default().map_list(
        fn, iterable, engine=engine, chunksize=chunksize, window=window, timeout=timeout
    )


def stats() -> OffloadStats:
    """Engines and ``auto`` decisions of the default offloader (see :meth:`Offloader.stats`)."""
    return get_default().stats()


def pin(fn: Callable[..., Any] | str, engine: str) -> None:
    """Make ``auto`` on the default offloader always use ``engine`` for ``fn``."""
    get_default().pin(fn, engine)


def unpin(fn: Callable[..., Any] | str) -> None:
    """Let ``auto`` on the default offloader measure ``fn`` again."""
    get_default().unpin(fn)


class _CallableModule(types.ModuleType):
    """Lets ``@unstall.offload(...)`` decorate while ``unstall.offload`` stays the subpackage."""

    def __call__(self, fn: Any = None, /, **options: Any) -> Any:
        return offload(fn, **options)


sys.modules[__name__].__class__ = _CallableModule

#: What ``unstall`` itself exports from here is named by that shortest path: ``unstall.map``.
_TOP_LEVEL = ("Offloader", "map", "map_list", "to_process", "to_thread")
_publish(__name__, globals(), (name for name in __all__ if name not in _TOP_LEVEL))
_publish("unstall", globals(), _TOP_LEVEL)
