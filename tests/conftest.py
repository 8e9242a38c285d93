"""Fixtures for the whole suite."""

from __future__ import annotations

import pytest
from tests.loops import LOOP_KINDS, RunLoop, loop_factory


@pytest.fixture(params=LOOP_KINDS)
def run_loop(request: pytest.FixtureRequest) -> RunLoop:
    """Run a coroutine to completion on a fresh loop: every test using it runs on asyncio and on uvloop.

    ``run_loop(main())`` returns what ``main`` returns; ``run_loop.kind`` names the loop and
    ``run_loop.new_loop()`` makes one of that kind for a test that drives it itself.
    """
    loop_factory(request.param)  # skips the test here when uvloop is not installed
    return RunLoop(request.param)
