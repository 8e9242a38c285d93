"""Per-test settings: @pytest.mark.unstall(...) and @pytest.mark.allow_blocking."""

from __future__ import annotations

from collections.abc import Callable

import pytest

RunPytest = Callable[..., pytest.RunResult]


def test_allow_blocking_marker_skips_every_check(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyfile(
        test_allowed="""
        import time
        import pytest

        @pytest.mark.allow_blocking
        @pytest.mark.asyncio
        async def test_may_block():
            time.sleep(0.25)

        @pytest.mark.asyncio
        async def test_may_not():
            time.sleep(0.01)
        """
    )
    result = run_pytest("--unstall")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_allowed.py::test_may_not - *"])


def test_unstall_marker_threshold_and_tripwire(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyfile(
        test_threshold="""
        import time
        import pytest

        def crunch(seconds):
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                pass

        @pytest.mark.unstall(threshold_ms=2000, tripwire=False)
        @pytest.mark.asyncio
        async def test_generous():
            crunch(0.25)
            time.sleep(0.01)

        @pytest.mark.unstall(threshold_ms=50)
        @pytest.mark.asyncio
        async def test_strict():
            crunch(0.25)
        """
    )
    # the ini threshold is generous; the marker tightens it for one test
    result = run_pytest("--unstall", "--unstall-threshold-ms=5000")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["event loop stalled for * ms (*); threshold 50 ms", "FAILED *::test_strict - *"]
    )


def test_unstall_marker_enables_one_test_without_the_flag(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyfile(
        test_opt_in="""
        import time
        import pytest

        @pytest.mark.unstall
        @pytest.mark.asyncio
        async def test_checked():
            time.sleep(0.01)

        @pytest.mark.asyncio
        async def test_unchecked():
            time.sleep(0.01)
        """
    )
    result = run_pytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_opt_in.py::test_checked - *"])


def test_unstall_marker_allow_list_and_module_level_marker(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyfile(
        test_allow_list="""
        import sqlite3, time
        import pytest

        pytestmark = pytest.mark.unstall(
            allow=["test_allow_list.warm_cache", "sqlite3.connect", "myapp.gone"]
        )

        def warm_cache():
            time.sleep(0.01)

        @pytest.mark.asyncio
        async def test_allowed_calls():
            warm_cache()
            sqlite3.connect(":memory:").close()

        @pytest.mark.asyncio
        async def test_other_sleep():
            time.sleep(0.01)
        """
    )
    result = run_pytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*unstall: allow-list entries that never allowed a call*",
            "'myapp.gone' (from test_allow_list.py::test_allowed_calls)",
            "FAILED test_allow_list.py::test_other_sleep - *",
        ]
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            "unstall(threshold='soon')",
            "*@pytest.mark.unstall got unknown argument(s) 'threshold' on *; valid ones are "
            "threshold_ms, tripwire, hygiene, allow.",
        ),
        ("unstall(50)", "*@pytest.mark.unstall takes keyword arguments only*"),
        (
            "unstall(threshold_ms=0)",
            "*@pytest.mark.unstall threshold_ms = 0 is not a valid setting; use a number of*",
        ),
        ("unstall(allow='logging')", "*must be a list of module, function or catalog entry*"),
        ("unstall(allow=[''])", "*allow-list item '' is not valid; use a module*"),
    ],
)
def test_bad_marker_arguments_are_a_setup_error_with_a_clear_message(
    tester: pytest.Pytester, run_pytest: RunPytest, marker: str, message: str
) -> None:
    tester.makepyfile(
        test_bad=f"""
        import pytest

        @pytest.mark.{marker}
        def test_marked():
            pass
        """
    )
    result = run_pytest()
    result.assert_outcomes(errors=1)  # reported at setup, before the test runs
    result.stdout.fnmatch_lines([message])
