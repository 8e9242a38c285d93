"""The benchmark service's view of ``unstall.offload``: one place that names the calls it measures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import unstall.offload

__all__ = ("auto", "thread_pool", "to_process", "to_thread")


async def to_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """``await unstall.to_thread(fn, *args)``."""
    return await unstall.offload.to_thread(fn, *args)


async def to_process(fn: Callable[..., Any], *args: Any) -> Any:
    """``await unstall.to_process(fn, *args)``."""
    return await unstall.offload.to_process(fn, *args)


def thread_pool(threads: int) -> unstall.offload.Offloader:
    """An ``unstall.Offloader`` with ``threads`` worker threads (close it with ``await .close()``)."""
    return unstall.offload.Offloader(threads=threads)


def auto(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """``unstall.offload(engine="auto")(fn).aio``: an awaitable ``fn`` on the engine auto picks."""
    return unstall.offload.offload(engine="auto")(fn).aio
