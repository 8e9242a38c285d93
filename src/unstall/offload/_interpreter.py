"""Sub-interpreter engine: ``concurrent.futures.InterpreterPoolExecutor`` (Python 3.14+).

Each sub-interpreter has its own GIL, so CPU-bound pure Python runs in parallel without a
process per worker; but there is no crash isolation and many C extensions cannot be loaded in
a sub-interpreter, which is why ``auto`` never picks this engine.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import sys
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

__all__ = ("InterpreterEngine",)

T = TypeVar("T")


class InterpreterEngine(Engine):
    """Runs calls in a pool of sub-interpreters (``max_workers``, default: the CPU count).

    Raises :class:`~unstall.errors.EngineUnavailable` on Python older than 3.14, naming the
    running version. Timeouts and cancellation cannot stop a running sub-interpreter call: it
    finishes in the background, like a thread.
    """

    name = "interpreter"

    def __init__(self, max_workers: int | None = None) -> None:
        executor_class = getattr(concurrent.futures, "InterpreterPoolExecutor", None)
        if executor_class is None:
            version = ".".join(map(str, sys.version_info[:3]))
            raise EngineUnavailable(
                f"The 'interpreter' engine needs concurrent.futures.InterpreterPoolExecutor, "
                f"which Python {version} does not have (it arrived in Python 3.14). Run on "
                "Python 3.14+, or use engine='process' for CPU-bound work.",
                engine="interpreter",
            )
        self._max_workers = max_workers or os.cpu_count() or 1
        self._limiter = Limiter(self._max_workers)
        self._executor: concurrent.futures.Executor = executor_class(max_workers=self._max_workers)
        self._closed = False

    @property
    def capacity(self) -> int:
        return self._max_workers

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
            future = asyncio.wrap_future(self._executor.submit(fn, *args, **kwargs))
            return await within(future, timeout)

    async def aclose(self) -> None:
        self._closed = True
        await in_new_thread(self._executor.shutdown, "unstall-interpreter-shutdown")

    def close_now(self) -> None:
        self._closed = True
        with contextlib.suppress(Exception):
            self._executor.shutdown(wait=False, cancel_futures=True)
