from __future__ import annotations

from collections.abc import Iterator

import pytest

from unstall.watch import Tripwire


@pytest.fixture
def tripwire() -> Iterator[Tripwire]:
    """A started tripwire with the default policy, stopped after the test."""
    tw = Tripwire().start()
    yield tw
    tw.stop()
