"""The benchmark service's view of ``unstall.offload``: one place that names the calls it measures."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ("auto", "to_process", "to_thread")

# TEMPORARY stand-ins until unstall.offload lands
_pool: concurrent.futures.ProcessPoolExecutor | None = None


def _real(name: str) -> Any:
    import unstall.offload

    return getattr(unstall.offload, name, None)


async def to_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """``await unstall.to_thread(fn, *args)``."""
    impl = _real("to_thread")
    if impl is None:
        return await asyncio.to_thread(fn, *args)
    return await impl(fn, *args)


async def to_process(fn: Callable[..., Any], *args: Any) -> Any:
    """``await unstall.to_process(fn, *args)``."""
    global _pool
    impl = _real("to_process")
    if impl is None:
        if _pool is None:
            import multiprocessing

            _pool = concurrent.futures.ProcessPoolExecutor(
                2, mp_context=multiprocessing.get_context("forkserver")
            )
        return await asyncio.get_running_loop().run_in_executor(_pool, functools.partial(fn, *args))
    return await impl(fn, *args)


def auto(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """``unstall.offload(engine="auto")(fn)``: an awaitable version of ``fn`` that picks its engine."""
    import unstall

    if _real("to_thread") is None:

        async def fallback(*args: Any) -> Any:
            return await to_thread(fn, *args)

        return fallback
    offload: Any = unstall.offload  # a callable module
    decorated: Callable[..., Awaitable[Any]] = offload(engine="auto")(fn)
    return decorated
