"""Waiting on a condition instead of a fixed sleep: from a coroutine (the loop keeps running) or a thread."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_for(
    predicate: Callable[[], object], timeout: float = 5.0, interval: float = 0.01
) -> bool:
    """Whether ``predicate()`` came true within ``timeout`` seconds, checked every ``interval`` s.

    The loop runs other work between checks, so callbacks, tasks and the watchdog thread
    can make progress. ``interval=0`` checks on every turn of the loop, for a state that lasts
    only a few loop iterations. Returns ``False`` on timeout: assert on it where the test
    needs it.
    """
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() >= deadline:
            return False
        await asyncio.sleep(interval)
    return True


def wait_until(predicate: Callable[[], object], timeout: float = 5.0) -> bool:
    """Whether ``predicate()`` came true within ``timeout`` seconds, checked every 10 ms, blocking."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() >= deadline:
            return False
        time.sleep(0.01)
    return True
