"""--unstall catches blocking calls and stalls on every real loop a test can run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

RunPytest = Callable[..., pytest.RunResult]

SLEEPY = """
import asyncio, time
import pytest

@pytest.mark.asyncio
async def test_sleepy():
    await asyncio.sleep(0)
    time.sleep(0.02)

@pytest.mark.asyncio
async def test_clean():
    await asyncio.sleep(0.01)
    await asyncio.to_thread(time.sleep, 0.01)
"""


def test_pytest_asyncio_test_calling_time_sleep_fails_with_line_rule_and_duration(
    tester: pytest.Pytester,
    run_pytest: RunPytest,
) -> None:
    tester.makepyfile(test_sleepy=SLEEPY)
    result = run_pytest("--unstall")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*unstall: this test blocked its event loop*",
            "blocking call time.sleep(float) [[]UNS101, sleep[]] ran for * ms on the event loop's thread",
            "  at test_sleepy.py:7 in test_sleepy: time.sleep(0.02)",
            "  fix: await asyncio.sleep*",
            "  stack (most recent call last):",
            "    test_sleepy.py:7 in test_sleepy: time.sleep(0.02)",
            "FAILED test_sleepy.py::test_sleepy - Failed: unstall: *",
        ]
    )


def test_anyio_plugin_test_is_checked(tester: pytest.Pytester, run_pytest: RunPytest) -> None:
    tester.makepyfile(
        test_any="""
        import time
        import anyio
        import pytest

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.mark.anyio
        async def test_blocks():
            time.sleep(0.01)

        @pytest.mark.anyio
        async def test_clean():
            await anyio.sleep(0.01)
        """
    )
    result = run_pytest("--unstall")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["  at test_any.py:11 in test_blocks: time.sleep(0.01)"])


def test_asyncio_run_inside_a_sync_test_is_checked(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyfile(
        test_sync="""
        import asyncio, sqlite3

        async def handler():
            sqlite3.connect(":memory:").close()

        def test_runs_a_loop():
            asyncio.run(handler())

        def test_no_loop_at_all():
            sqlite3.connect(":memory:").close()
        """
    )
    result = run_pytest("--unstall")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "blocking call sqlite3.connect(str[[]8[]]) [[]UNS107, database[]]*",
            "  at test_sync.py:4 in handler: *",
            "    test_sync.py:7 in test_runs_a_loop: asyncio.run(handler())",
            "    test_sync.py:4 in handler: *",
        ]
    )


def test_uvloop_loop_is_checked(tester: pytest.Pytester, run_pytest: RunPytest) -> None:
    pytest.importorskip("uvloop")
    tester.makepyfile(
        test_uv="""
        import asyncio, time
        import uvloop

        async def handler():
            time.sleep(0.01)

        def test_uvloop():
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(handler())
        """
    )
    result = run_pytest("--unstall")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  at test_uv.py:5 in handler: time.sleep(0.01)"])


def test_cpu_stall_without_a_blocking_call_fails_through_the_watchdog(
    tester: pytest.Pytester,
    run_pytest: RunPytest,
) -> None:
    tester.makepyfile(
        test_cpu="""
        import time
        import pytest

        def crunch(seconds):
            end = time.perf_counter() + seconds
            total = 0
            while time.perf_counter() < end:
                total += sum(range(200))
            return total

        @pytest.mark.asyncio
        async def test_crunches():
            crunch(0.4)
        """
    )
    result = run_pytest("--unstall")
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("blocking call*")
    result.stdout.fnmatch_lines(
        [
            "event loop stalled for * ms (*); threshold 100 ms",
            # the loop's two lines both burn the CPU: a sample lands on either
            "  at test_cpu.py:[78] in crunch: *",
            "*stack (most recent call last):",
            "    test_cpu.py:13 in test_crunches: crunch(0.4)",
            "    test_cpu.py:[78] in crunch: *",
        ]
    )


def test_a_test_that_fails_anyway_gets_an_unstall_section(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyfile(
        test_both="""
        import time
        import pytest

        @pytest.mark.asyncio
        async def test_fails():
            time.sleep(0.01)
            assert 1 == 2
        """
    )
    result = run_pytest("--unstall")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*assert 1 == 2*", "*- Captured unstall call -*", "blocking call time.sleep(float)*"]
    )


def test_async_fixtures_are_checked_in_setup_and_teardown(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyfile(
        test_fixtures="""
        import time
        import pytest
        import pytest_asyncio

        @pytest_asyncio.fixture
        async def slow_setup():
            time.sleep(0.01)
            yield

        @pytest_asyncio.fixture
        async def slow_teardown():
            yield
            time.sleep(0.01)

        @pytest_asyncio.fixture
        async def clean():
            yield

        @pytest.mark.asyncio
        async def test_setup(slow_setup):
            pass

        @pytest.mark.asyncio
        async def test_teardown(slow_teardown):
            pass

        @pytest.mark.asyncio
        async def test_clean(clean):
            pass
        """
    )
    result = run_pytest("--unstall")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*unstall: this test blocked its event loop while setting up*",
            "  at test_fixtures.py:7 in slow_setup: time.sleep(0.01)",
            "*unstall: this test blocked its event loop while tearing down*",
            "  at test_fixtures.py:13 in slow_teardown: time.sleep(0.01)",
            "ERROR test_fixtures.py::test_setup - Failed: unstall: *",
            "ERROR test_fixtures.py::test_teardown - Failed: unstall: *",
        ]
    )


def test_the_failure_shows_the_stack_that_holds_the_blamed_line() -> None:
    from unstall.pytest_plugin import _stall_stack
    from unstall.watch import Cause, Frame, StallEvent

    outer = (
        Frame("/p/test_outer.py", 10, "test_runs", "test_outer"),
        Frame("/usr/lib/asyncio/base_events.py", 640, "run_until_complete", "asyncio"),
        Frame("<C>", 0, "run_forever", ""),
    )
    crunch = Frame("/p/test_cpu.py", 8, "crunch", "test_cpu")
    inner = (Frame("/p/test_cpu.py", 13, "test_crunches", "test_cpu"), crunch)
    # A sample taken as the stall ended (the loop back in its own code) is the longer one.
    stall = StallEvent(0.0, 0.4, 0.1, Cause.CPU, crunch, stacks=(inner, outer))
    assert _stall_stack(stall) == inner
    assert _stall_stack(StallEvent(0.0, 0.4, 0.1, Cause.CPU, None, stacks=(inner, outer))) == outer
    assert _stall_stack(StallEvent(0.0, 0.4, 0.1, Cause.CPU, crunch)) == ()
