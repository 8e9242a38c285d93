from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest
from offload_work import Runner

import unstall.offload._offloader as offloader_module


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    """Run a coroutine to completion on a fresh asyncio or uvloop loop."""
    if request.param == "uvloop":
        uvloop = pytest.importorskip("uvloop")

        def run_uv(coro: Coroutine[Any, Any, Any]) -> Any:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(coro)

        return run_uv
    return asyncio.run


@pytest.fixture(scope="session", autouse=True)
def _close_default_offloader() -> Iterator[None]:
    yield
    if offloader_module._default is not None:
        offloader_module._default.close_now()
