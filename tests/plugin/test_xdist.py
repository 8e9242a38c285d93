"""The plugin under pytest-xdist: each worker watches its own tests and fails the blocking ones."""

from __future__ import annotations

import pytest

BLOCKS = """
import os
import time
import pytest

@pytest.mark.asyncio
async def test_blocks():
    time.sleep(0.01)

@pytest.mark.asyncio
async def test_awaits():
    import asyncio
    await asyncio.sleep(0.01)

def test_worker_is_named():
    assert os.environ["PYTEST_XDIST_WORKER"] in ("gw0", "gw1")
"""


@pytest.mark.slow
def test_every_worker_fails_a_blocking_test_with_the_plugin_message(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(test_xdist_blocks=BLOCKS)
    # every test runs on both workers: each must watch its own loop and report on its own
    result = tester.runpytest_subprocess(
        "--unstall", "-n", "2", "--dist", "each", "-v", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=4, failed=2)
    result.stdout.fnmatch_lines_random(
        [
            "*[[]gw0[]]*FAILED test_xdist_blocks.py::test_blocks*",
            "*[[]gw1[]]*FAILED test_xdist_blocks.py::test_blocks*",
        ]
    )
    failures = result.stdout.str().split("= FAILURES =", 1)[1]
    messages = [line for line in failures.splitlines() if "[UNS101, sleep]" in line]
    assert len(messages) >= 2, failures  # the plugin's message, once from each worker
    assert all("time.sleep" in line for line in messages)
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


@pytest.mark.slow
def test_load_distribution_fails_only_the_blocking_tests(tester: pytest.Pytester) -> None:
    for n in range(3):
        tester.makepyfile(**{f"test_part{n}": BLOCKS})
    result = tester.runpytest_subprocess("--unstall", "-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6, failed=3)
    result.stdout.fnmatch_lines_random(
        [
            f"FAILED test_part{n}.py::test_blocks - Failed: unstall: this test blocked its*"
            for n in range(3)
        ]
    )
