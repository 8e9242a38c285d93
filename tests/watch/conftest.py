from __future__ import annotations

from collections.abc import Iterator

import pytest

import unstall.watch._process as process_module
from unstall.watch import Tripwire


@pytest.fixture(autouse=True)
def _no_leftover_watcher() -> Iterator[None]:
    yield
    current = process_module._current
    if current is not None:
        current.stop()
    process_module._current = None
    if process_module._server is not None:
        process_module._server.close()
        process_module._server = None


@pytest.fixture
def tripwire() -> Iterator[Tripwire]:
    """A started tripwire with the default policy, stopped after the test."""
    tw = Tripwire().start()
    yield tw
    tw.stop()
