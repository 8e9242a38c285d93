"""The Offloader: engines' configuration and lifetime, and the process-wide default."""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TypeVar

from unstall.errors import OffloaderClosed, OffloadError
from unstall.offload._auto import AutoDecision, AutoRouter
from unstall.offload._engine import ENGINE_NAMES, CancelMode, Engine, load_engine
from unstall.offload._limits import Limiter

__all__ = ("OffloadStats", "Offloader", "get_default")

T = TypeVar("T")
R = TypeVar("R")
_CANCEL_MODES = ("wait", "kill")


@dataclass(frozen=True, slots=True)
class OffloadStats:
    """A snapshot of an :class:`Offloader`: its started engines and the ``auto`` decisions."""

    engines: dict[str, dict[str, Any]]
    auto: tuple[AutoDecision, ...]
    closed: bool


class Offloader:
    """Owns the offload engines: their settings, their workers and their shutdown.

    Engines start lazily on first use. ``threads`` and ``processes`` bound each pool (and so
    the calls running at once; more callers wait); ``start_method`` picks how worker processes
    start (``"forkserver"`` by default on Linux, ``"spawn"``, or ``"fork"``); ``dask_address``
    is a scheduler to connect to (``None`` starts a local cluster on first use);
    ``engine_options`` passes extra keywords to an engine's constructor by engine name;
    ``engines`` supplies ready-made engine instances by name (tests use the in-process
    ``"inline"`` fake). ``auto_samples`` is how many calls ``auto`` measures before deciding.

    Use ``async with Offloader(...) as off:`` or ``await off.close()``. One Offloader serves
    every event loop of the process; the module-level helpers use a process-wide default one,
    closed at interpreter exit.
    """

    def __init__(
        self,
        *,
        threads: int | None = None,
        processes: int | None = None,
        start_method: str | None = None,
        thread_idle_timeout: float = 30.0,
        dask_address: str | None = None,
        engine_options: Mapping[str, Mapping[str, Any]] | None = None,
        engines: Mapping[str, Engine] | None = None,
        auto_samples: int = 3,
    ) -> None:
        options: dict[str, dict[str, Any]] = {
            "thread": {"max_workers": threads, "idle_timeout": thread_idle_timeout},
            "process": {"max_workers": processes, "start_method": start_method},
            "dask": {"address": dask_address},
        }
        for name, extra in (engine_options or {}).items():
            if name not in ENGINE_NAMES:
                raise OffloadError(
                    f"engine_options names an unknown engine {name!r}; choose from {ENGINE_NAMES!r}."
                )
            options.setdefault(name, {}).update(extra)
        self._options = options
        self._engines: dict[str, Engine] = dict(engines or {})
        self._lock = threading.Lock()
        self._closed = False
        self._auto = AutoRouter(self.engine, auto_samples)

    # -- engines ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` (or :meth:`close_now`) was called."""
        return self._closed

    def engine(self, name: str) -> Engine:
        """The engine called ``name``, started on first use.

        Raises :class:`~unstall.errors.OffloaderClosed` once the offloader is closed.
        """
        engine = self._engines.get(name)
        if engine is not None and not self._closed:
            return engine
        if self._closed:
            raise OffloaderClosed(f"The offloader is closed; cannot start the {name!r} engine.")
        with self._lock:
            engine = self._engines.get(name)
            if engine is None:
                engine = load_engine(name, self._options.get(name, {}))
                self._engines[name] = engine
        return engine

    # -- calling ---------------------------------------------------------------------------

    async def run(
        self,
        fn: Callable[..., T],
        args: tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        engine: str = "thread",
        timeout: float | None = None,
        cancel: CancelMode = "wait",
        limiter: Limiter | None = None,
    ) -> T:
        """Run ``fn(*args, **kwargs)`` on ``engine`` (a name, or ``"auto"``) and return its result.

        ``timeout`` (seconds) raises :class:`TimeoutError` (a process worker running the call is
        terminated and replaced; a thread finishes in the background). ``cancel="kill"`` also
        terminates a process worker if the awaiting task is cancelled mid-call. ``limiter``
        adds a further bound (e.g. per function) taken before the engine's own. Raises
        :class:`~unstall.errors.OffloaderClosed` after :meth:`close`.
        """
        if cancel not in _CANCEL_MODES:
            raise ValueError(f"cancel must be one of {_CANCEL_MODES!r}, got {cancel!r}.")
        if self._closed:
            raise OffloaderClosed("The offloader is closed; create a new Offloader.")
        kw = kwargs or {}
        if limiter is None:
            return await self._dispatch(engine, fn, args, kw, timeout, cancel)
        async with limiter:
            return await self._dispatch(engine, fn, args, kw, timeout, cancel)

    async def _dispatch(
        self,
        engine: str,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        timeout: float | None,
        cancel: CancelMode,
    ) -> T:
        if engine == "auto":
            return await self._auto.run(fn, args, kwargs, timeout, cancel)
        return await self.engine(engine).run(fn, args, kwargs, timeout=timeout, cancel=cancel)

    async def to_thread(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on a worker thread (contextvars are propagated)."""
        return await self.engine("thread").run(fn, args, kwargs)

    async def to_process(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` in a worker process (everything must pickle)."""
        return await self.engine("process").run(fn, args, kwargs)

    def map(
        self,
        fn: Callable[[T], R],
        iterable: Iterable[T],
        *,
        engine: str = "process",
        chunksize: int | Literal["auto"] = "auto",
        window: int | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[R]:
        """Apply ``fn`` to every item, yielding results in input order (see :func:`unstall.map`).

        Raises :class:`ValueError` for ``engine="auto"``, a bad ``chunksize`` or ``window``,
        and the errors of :meth:`engine`, when called.
        """
        from unstall.offload._map import check_map_options, map_items

        check_map_options(engine, chunksize, window)
        return map_items(
            self.engine(engine), fn, iterable, chunksize=chunksize, window=window, timeout=timeout
        )

    async def map_list(
        self,
        fn: Callable[[T], R],
        iterable: Iterable[T],
        *,
        engine: str = "process",
        chunksize: int | Literal["auto"] = "auto",
        window: int | None = None,
        timeout: float | None = None,
    ) -> list[R]:
        """Like :meth:`map`, collected into a list."""
        results = self.map(
            fn, iterable, engine=engine, chunksize=chunksize, window=window, timeout=timeout
        )
        return [item async for item in results]

    # -- auto ------------------------------------------------------------------------------

    def pin(self, fn: Callable[..., Any] | str, engine: str) -> None:
        """Make ``auto`` always send ``fn`` (or its ``module.qualname``) to ``engine``."""
        if engine not in ENGINE_NAMES:
            raise OffloadError(
                f"Cannot pin to unknown engine {engine!r}; choose from {ENGINE_NAMES!r}."
            )
        self._auto.pin(fn, engine)

    def unpin(self, fn: Callable[..., Any] | str) -> None:
        """Drop a pinned or measured ``auto`` decision; the function is measured again."""
        self._auto.unpin(fn)

    def stats(self) -> OffloadStats:
        """Started engines (workers, running and waiting calls) and every ``auto`` decision."""
        with self._lock:
            engines = dict(self._engines)
        return OffloadStats(
            engines={name: engine.describe() for name, engine in sorted(engines.items())},
            auto=self._auto.decisions(),
            closed=self._closed,
        )

    # -- lifetime --------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop every engine: idle workers at once, running calls get a bounded grace period."""
        self._closed = True
        with self._lock:
            engines = list(self._engines.values())
        for engine in engines:
            await engine.aclose()

    def close_now(self) -> None:
        """Stop every engine without waiting (for interpreter exit); never raises."""
        self._closed = True
        with self._lock:
            engines = list(self._engines.values())
        for engine in engines:
            with contextlib.suppress(Exception):  # shutdown must not raise into the host
                engine.close_now()

    async def __aenter__(self) -> Offloader:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


_default: Offloader | None = None
_default_lock = threading.Lock()


def get_default() -> Offloader:
    """The process-wide Offloader used by ``unstall.to_thread`` and friends (created lazily).

    If it was closed, a fresh one replaces it. It is closed at interpreter exit.
    """
    global _default
    current = _default
    if current is not None and not current._closed:
        return current
    with _default_lock:
        if _default is None or _default._closed:
            if _default is None:
                atexit.register(_close_default)
            _default = Offloader()
        return _default


def _close_default() -> None:
    if _default is not None:
        _default.close_now()
