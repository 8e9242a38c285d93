from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

import unstall.watch._watcher as watcher_module
from unstall.watch import Tripwire


@pytest.fixture(params=["asyncio", "uvloop"])
def run_loop(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Run a coroutine to completion on a fresh asyncio or uvloop loop."""
    if request.param == "uvloop":
        uvloop = pytest.importorskip("uvloop")

        def run_uv(coro: Coroutine[Any, Any, Any]) -> Any:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(coro)

        return run_uv
    return asyncio.run


@pytest.fixture(autouse=True)
def _no_leftover_watcher() -> Iterator[None]:
    yield
    current = watcher_module._current
    if current is not None:
        current.stop()
    watcher_module._current = None


@pytest.fixture
def tripwire() -> Iterator[Tripwire]:
    """A started tripwire with the default policy, stopped after the test."""
    tw = Tripwire().start()
    yield tw
    tw.stop()
