from __future__ import annotations

from collections.abc import Iterator

import pytest

import unstall.watch._process as process_module


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
