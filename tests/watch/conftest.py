from __future__ import annotations

from collections.abc import Iterator

import pytest

import unstall.watch._watcher as watcher_module
from unstall.watch import Tripwire


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
