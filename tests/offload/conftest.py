from __future__ import annotations

from collections.abc import Iterator

import pytest

import unstall.offload._offloader as offloader_module


@pytest.fixture(scope="session", autouse=True)
def _close_default_offloader() -> Iterator[None]:
    yield
    if offloader_module._default is not None:
        offloader_module._default.close_now()
