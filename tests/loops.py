"""The event loops every async test runs on: stock asyncio and uvloop (the ``run_loop`` fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

#: The kinds of loop the ``run_loop`` fixture runs each test on, in order.
LOOP_KINDS = ("asyncio", "uvloop")


def loop_factory(kind: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """What makes a new loop of ``kind``; skips the test when uvloop is not installed."""
    if kind == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        return uvloop.new_event_loop  # type: ignore[no-any-return]
    if kind == "asyncio":
        return asyncio.new_event_loop
    raise ValueError(f"loop kind {kind!r} is not one of {LOOP_KINDS!r}")


@dataclass(frozen=True)
class RunLoop:
    """Runs a coroutine to completion on a fresh loop of one kind, as ``asyncio.run`` does.

    The ``run_loop`` fixture hands one out per kind; ``new_loop()`` is for a test that drives
    a loop of that kind itself.
    """

    kind: str

    def __call__(self, coro: Coroutine[Any, Any, T]) -> T:
        # asyncio's own default (no factory) is exactly asyncio.run: the loop is also set as the
        # thread's current loop while it runs
        factory = None if self.kind == "asyncio" else loop_factory(self.kind)
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(coro)

    def new_loop(self) -> asyncio.AbstractEventLoop:
        """A new loop of this kind, not running and not set as current; the caller closes it."""
        return loop_factory(self.kind)()
