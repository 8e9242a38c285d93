from __future__ import annotations

from collections.abc import Callable

import pytest

# imported once here, so in-process pytester runs reuse these modules (and the one audit hook)
# instead of importing fresh copies for every run
import unstall.pytest_plugin
import unstall.watch

__all__ = ("unstall",)

# pytest-asyncio wants its loop scope set; the runs below are otherwise bare
BASE_INI = """\
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
"""
# plugins the inner runs do not need; loading them makes every run about ten times slower
_LEAN = ("-p", "no:hypothesispytest", "-p", "no:xdist", "-p", "no:cacheprovider")

RunPytest = Callable[..., pytest.RunResult]


@pytest.fixture
def tester(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester with a minimal ini file; tests add options with ``pytester.makeini``."""
    pytester.makeini(BASE_INI)
    return pytester


@pytest.fixture
def run_pytest(tester: pytest.Pytester) -> RunPytest:
    """Run pytest in-process on the tester's files with the given arguments."""

    def run(*args: str) -> pytest.RunResult:
        return tester.runpytest(*_LEAN, *args)

    return run
