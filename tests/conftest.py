"""Fixtures for the whole suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings
from tests.loops import LOOP_KINDS, RunLoop, loop_factory

import unstall.watch._process as process_module

# Property tests check behaviour, not speed (benchmarks measure that): no per-example deadline,
# which a loaded machine misses at random. Under CI the examples are the same every run, so a
# run's result does not depend on the draw; anywhere else each run explores new ones.
settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(params=LOOP_KINDS)
def run_loop(request: pytest.FixtureRequest) -> RunLoop:
    """Run a coroutine to completion on a fresh loop: every test using it runs on asyncio and on uvloop.

    ``run_loop(main())`` returns what ``main`` returns; ``run_loop.kind`` names the loop and
    ``run_loop.new_loop()`` makes one of that kind for a test that drives it itself.
    """
    loop_factory(request.param)  # skips the test here when uvloop is not installed
    return RunLoop(request.param)


@pytest.fixture(autouse=True)
def _no_leftover_watcher() -> Iterator[None]:
    """Every test starts without the process-wide watcher, and leaves none (nor its metrics server)."""
    yield
    current = process_module._current
    if current is not None:
        current.stop()
    process_module._current = None
    if process_module._server is not None:
        process_module._server.close()
        process_module._server = None
