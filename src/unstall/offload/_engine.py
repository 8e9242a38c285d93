"""The one interface every offload engine implements, and loading engines by name."""

from __future__ import annotations

import abc
import importlib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

from unstall.errors import OffloadError

__all__ = ("ENGINE_NAMES", "CancelMode", "Engine", "load_engine")

CancelMode = Literal["wait", "kill"]

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
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        *,
        timeout: float | None = None,
        cancel: CancelMode = "wait",
    ) -> Any:
        """Run ``fn(*args, **kwargs)`` and return its result or raise its exception.

        ``timeout`` (seconds) raises the builtin :class:`TimeoutError`; ``cancel="kill"``
        asks the engine to stop the worker if the awaiting task is cancelled mid-call
        (engines that cannot kill, such as threads, let the call finish in the background).
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
    cls = getattr(importlib.import_module(module_name), class_name)
    engine: Engine = cls(**options)
    return engine
