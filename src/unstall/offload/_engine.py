"""The one interface every offload engine implements, and loading engines by name."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import importlib
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Literal, NamedTuple, TypeVar

from unstall.errors import EngineUnavailable, OffloaderClosed, OffloadError

__all__ = (
    "ENGINE_NAMES",
    "CallTiming",
    "CancelMode",
    "Engine",
    "EngineLookup",
    "TimingSink",
    "engine_closed",
    "in_new_thread",
    "load_engine",
    "within",
)

T = TypeVar("T")

CancelMode = Literal["wait", "kill"]


class CallTiming(NamedTuple):
    """How long one call took as the worker that ran it saw it, in seconds."""

    #: CPU time of the thread that ran the call.
    cpu: float
    #: Wall-clock time from the call's start to its end on that thread.
    wall: float


#: Receives a measured call's :class:`CallTiming` once, on whichever thread ran the call.
TimingSink = Callable[[CallTiming], object]

#: Engine name -> "module:Class". Modules are imported only when the engine is first used,
#: so ``import unstall.offload`` never pays for multiprocessing or distributed.
_REGISTRY: dict[str, str] = {
    "thread": "unstall.offload._thread:ThreadEngine",
    "process": "unstall.offload._process:ProcessEngine",
    "interpreter": "unstall.offload._interpreter:InterpreterEngine",
    "dask": "unstall.offload._dask:DaskEngine",
    "inline": "unstall.offload._fake:InlineEngine",
}
ENGINE_NAMES = tuple(sorted(_REGISTRY))


class Engine(abc.ABC):
    """Runs sync callables somewhere other than the event loop's thread.

    An engine is not bound to one event loop: each call completes on the loop it was awaited
    from. ``capacity`` is the number of calls it runs at once; more callers wait (backpressure).
    Everything a caller may ask of an engine is a parameter of :meth:`run`: an engine that
    cannot honour a hint (``pipeline``, ``measure``, ``cancel="kill"``) ignores it.
    """

    name: ClassVar[str]
    #: True when work crosses a process boundary (arguments must pickle).
    remote: ClassVar[bool] = False

    @property
    @abc.abstractmethod
    def capacity(self) -> int:
        """How many calls run at the same time; further calls wait for a free slot."""

    @abc.abstractmethod
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
        """Run ``fn(*args, **kwargs)`` and return its result or raise its exception.

        ``timeout`` (seconds) raises the builtin :class:`TimeoutError`; ``cancel="kill"``
        asks the engine to stop the worker if the awaiting task is cancelled mid-call
        (engines that cannot kill, such as threads, let the call finish in the background).
        ``pipeline=True`` says more calls like this one follow (``unstall.map`` sends its
        chunks so): an engine may queue the call behind a running one on a busy worker, which
        then goes straight on to it, at the price that the worker's death fails both calls.
        It is ignored together with a ``timeout``. ``measure``, when given, receives the
        call's :class:`CallTiming` once the call ends, whether it returned or raised (the
        ``auto`` engine measures on the thread engine); an engine that cannot time its calls
        never calls it. Raises :class:`~unstall.errors.OffloaderClosed` once closed.
        """

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Stop the workers, waiting a bounded time for running calls."""

    @abc.abstractmethod
    def close_now(self) -> None:
        """Stop the workers without waiting (used at interpreter exit); never raises."""

    def describe(self) -> dict[str, Any]:
        """A small JSON-able summary for :meth:`Offloader.stats`."""
        return {"engine": self.name, "capacity": self.capacity}


#: Finds an engine by name (starting it on first use), as :meth:`Offloader.engine` does.
EngineLookup = Callable[[str], Engine]


def engine_closed(name: str) -> OffloaderClosed:
    """The error an engine raises for a call made after it was closed."""
    return OffloaderClosed(f"The {name} engine is closed; create a new Offloader.")


async def within(awaitable: Awaitable[T], timeout: float | None) -> T:
    """Await ``awaitable``, raising :class:`TimeoutError` after ``timeout`` seconds (None: never)."""
    if timeout is None:
        return await awaitable
    async with asyncio.timeout(timeout):
        return await awaitable


def load_engine(name: str, options: Mapping[str, Any]) -> Engine:
    """Create the engine registered as ``name`` with ``options`` (its constructor's keywords)."""
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise OffloadError(
            f"Unknown offload engine {name!r}; choose one of {', '.join(map(repr, ENGINE_NAMES))}"
            " or 'auto'."
        ) from None
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # e.g. the process engine needs POSIX pipes and fcntl
        raise EngineUnavailable(
            f"The {name!r} engine cannot run on this platform ({exc}); use engine='thread'.",
            engine=name,
        ) from exc
    cls = getattr(module, class_name)
    engine: Engine = cls(**options)
    return engine


async def in_new_thread(fn: Callable[[], T], name: str = "unstall-helper") -> T:
    """Run a rare, slow setup or teardown step (an import, a shutdown) on a short-lived thread.

    The thread ends with the step, so nothing lingers after an engine closes.
    """
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[T] = loop.create_future()

    def deliver(ok: bool, value: Any) -> None:
        if fut.done():
            return
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)

    def target() -> None:
        value: Any
        try:
            value, ok = fn(), True
        except BaseException as exc:
            value, ok = exc, False
        with contextlib.suppress(RuntimeError):  # the loop is gone
            loop.call_soon_threadsafe(deliver, ok, value)

    threading.Thread(target=target, name=name, daemon=True).start()
    return await fut
