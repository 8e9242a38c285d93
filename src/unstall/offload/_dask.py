"""Dask engine: the asynchronous ``distributed.Client``, for work that outgrows one machine.

``distributed`` (the ``unstall[dask]`` extra) is imported on first use, in a thread, so
neither ``import unstall.offload`` nor the first call stalls the event loop on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from unstall.errors import EngineUnavailable
from unstall.offload._engine import (
    CancelMode,
    Engine,
    TimingSink,
    engine_closed,
    in_new_thread,
    within,
)
from unstall.offload._limits import Limiter

__all__ = ("DaskEngine",)

T = TypeVar("T")


def apply(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run on a Dask worker: keeps the caller's keywords apart from ``Client.submit``'s own."""
    return fn(*args, **kwargs)


class DaskEngine(Engine):
    """Runs calls on a Dask cluster through ``distributed.Client(asynchronous=True)``.

    ``address`` is a scheduler (``"tcp://host:8786"``); without one, a
    ``distributed.LocalCluster`` with worker processes (``n_workers``, one thread each) is
    started on first use and closed with the engine. ``capacity`` bounds the calls submitted
    at once (default: 4 per local worker, or 256 for a remote scheduler). The client belongs to
    the event loop that made the first call; a call from another loop makes a new client.
    Raises :class:`~unstall.errors.EngineUnavailable` if ``distributed`` is not installed.
    """

    name = "dask"
    remote = True

    def __init__(
        self,
        address: str | None = None,
        n_workers: int | None = None,
        capacity: int | None = None,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._address = address
        self._n_workers = n_workers or 2
        if capacity is None:
            capacity = 256 if address else 4 * self._n_workers
        self._capacity = capacity
        self._limiter = Limiter(capacity)
        self._client_options = dict(client_options or {})
        self._client: Any = None
        self._cluster: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Lock | None = None
        self._closed = False

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` once connected, else None."""
        return self._client

    async def _connect(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is not None and self._loop is loop:
            return self._client
        if self._starting is None or self._loop is not loop:
            self._starting = asyncio.Lock()
            self._loop = loop
            self._client = None
        async with self._starting:
            if self._client is not None:
                return self._client
            try:
                distributed = await in_new_thread(lambda: importlib.import_module("distributed"))
            except ImportError as exc:
                raise EngineUnavailable(
                    f"The 'dask' engine needs the distributed package, which cannot be imported "
                    f"here ({exc}). Install it with: pip install 'unstall[dask]'.",
                    engine="dask",
                ) from exc
            target: Any = self._address
            if target is None:
                self._cluster = await distributed.LocalCluster(
                    n_workers=self._n_workers,
                    threads_per_worker=1,
                    processes=True,
                    asynchronous=True,
                    # No fixed port: None would mean the default 8787, which another cluster
                    # may hold (a warning, and its HTTP server on all interfaces otherwise).
                    dashboard_address="127.0.0.1:0",
                )
                target = self._cluster
            self._client = await distributed.Client(
                target, asynchronous=True, **self._client_options
            )
            return self._client

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
        if self._closed:
            raise engine_closed(self.name)
        async with self._limiter:
            client = await self._connect()
            future = client.submit(apply, fn, tuple(args), dict(kwargs), pure=False)
            try:
                try:
                    result: T = await within(future, timeout)
                except TimeoutError:
                    if timeout is None:  # the call's own TimeoutError
                        raise
                    raise TimeoutError(
                        f"The Dask task running {getattr(fn, '__qualname__', fn)!r} did not "
                        f"finish within {timeout!r} s; it was cancelled on the cluster."
                    ) from None
            except BaseException:
                # Cancelled, timed out or failed: make sure the cluster forgets it.
                with contextlib.suppress(Exception):
                    await asyncio.shield(future.cancel())
                raise
            return result

    async def aclose(self) -> None:
        self._closed = True
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            return  # both belong to another loop, which has to close them (or is gone)
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                await cluster.close()

    def close_now(self) -> None:
        # At interpreter exit the asynchronous client cannot be awaited any more; an on-demand
        # local cluster's processes are daemonic children and are stopped with this process.
        self._closed = True
        self._client = self._cluster = None

    def describe(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "capacity": self._capacity,
            "address": self._address or ("local" if self._cluster is not None else None),
            "running": self._limiter.in_use,
            "waiting": self._limiter.waiting,
        }
