"""The hygiene check of the plugin: off unless asked; when on, a test that loses a task or
leaves a coroutine never awaited fails with the line that made it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

RunPytest = Callable[..., pytest.RunResult]

MISTAKES = """
import asyncio
import pytest

async def work():
    await asyncio.sleep(0)

async def fails():
    raise ValueError("lost")

@pytest.mark.asyncio
async def test_forgets_await():
    work()

@pytest.mark.asyncio
async def test_loses_a_task_exception():
    task = asyncio.create_task(fails())
    await asyncio.sleep(0.01)
    del task

@pytest.mark.asyncio
async def test_clean():
    await work()
"""


def test_off_unless_asked(tester: pytest.Pytester, run_pytest: RunPytest) -> None:
    tester.makepyfile(test_mistakes=MISTAKES)
    run_pytest("--unstall", "-W", "ignore").assert_outcomes(passed=3)


def test_on_fails_each_mistake_with_its_line(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyfile(test_mistakes=MISTAKES)
    result = run_pytest("--unstall", "--unstall-hygiene=yes", "-W", "ignore")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*coroutine never awaited [[]UNS303[]]: work()*",
            "*at test_mistakes.py:12 in test_forgets_await: work()*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*task exception never retrieved [[]UNS302[]]: * raised ValueError: lost*",
            "*at test_mistakes.py:16 in test_loses_a_task_exception*",
        ]
    )


def test_the_marker_turns_it_on_for_one_test(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyfile(
        test_marked="""
import asyncio
import pytest

async def work():
    await asyncio.sleep(0)

@pytest.mark.unstall(hygiene=True)
@pytest.mark.asyncio
async def test_marked():
    work()

@pytest.mark.asyncio
async def test_unmarked():
    work()
"""
    )
    result = run_pytest("-W", "ignore")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*FAILED test_marked.py::test_marked*"])


def test_the_ini_option(tester: pytest.Pytester, run_pytest: RunPytest) -> None:
    tester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "unstall = true\nunstall_hygiene = true\n"
    )
    tester.makepyfile(test_mistakes=MISTAKES)
    run_pytest("-W", "ignore").assert_outcomes(passed=1, failed=2)


def test_a_bad_value_is_a_usage_error(tester: pytest.Pytester, run_pytest: RunPytest) -> None:
    tester.makepyfile(test_mistakes=MISTAKES)
    result = run_pytest("--unstall", "--unstall-hygiene=maybe")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--unstall-hygiene = 'maybe' is not a valid setting*"])
