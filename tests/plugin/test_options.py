"""How the plugin is switched on and configured: off by default, --unstall, ini options, bad values."""

from __future__ import annotations

from collections.abc import Callable

import pytest

RunPytest = Callable[..., pytest.RunResult]

BLOCKS = """
import time
import pytest

@pytest.mark.asyncio
async def test_blocks():
    time.sleep(0.01)
"""

STALLS_250_MS = """
import time
import pytest

@pytest.mark.asyncio
async def test_stalls():
    end = time.perf_counter() + 0.25
    while time.perf_counter() < end:
        pass
"""


def test_off_by_default_no_effect_and_no_watchdog_thread(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyfile(
        test_blocks=BLOCKS
        + """
def test_nothing_runs():
    import sys, threading
    assert not [t for t in threading.enumerate() if t.name == "unstall-watchdog"]
    hook = sys.modules.get("unstall.watch._tripwire_hook")
    assert hook is None or not hook._tripwires
"""
    )
    result = run_pytest()
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*blocked its event loop*")


def test_on_with_the_command_line_flag(tester: pytest.Pytester, run_pytest: RunPytest) -> None:
    tester.makepyfile(test_blocks=BLOCKS)
    run_pytest("--unstall").assert_outcomes(failed=1)


def test_on_with_the_ini_option(tester: pytest.Pytester, run_pytest: RunPytest) -> None:
    tester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nunstall = true\n")
    tester.makepyfile(test_blocks=BLOCKS)
    result = run_pytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*[[]UNS101, sleep[]]*"])


def test_tripwire_off_in_ini_leaves_only_stalls(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nunstall = yes\n"
        "unstall_tripwire = false\n"
    )
    tester.makepyfile(
        test_blocks=BLOCKS.replace("blocks", "short_sleep"), test_stalls=STALLS_250_MS
    )
    result = run_pytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_stalls.py::test_stalls - *"])


def test_tripwire_off_on_the_command_line(tester: pytest.Pytester, run_pytest: RunPytest) -> None:
    tester.makepyfile(test_blocks=BLOCKS)
    run_pytest("--unstall", "--unstall-tripwire=no").assert_outcomes(passed=1)


def test_threshold_from_ini_and_command_line(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nunstall = true\n"
        "unstall_threshold_ms = 2000\n"
    )
    tester.makepyfile(test_stalls=STALLS_250_MS)
    run_pytest().assert_outcomes(passed=1)  # 250 ms is under the 2 s threshold
    result = run_pytest("--unstall-threshold-ms", "100")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["event loop stalled for * ms (*); threshold 100 ms"])


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        (
            "unstall = maybe",
            "ERROR: unstall: unstall = 'maybe' is not a valid setting; use true or false "
            "(e.g. unstall = true).",
        ),
        (
            "unstall_threshold_ms = fast",
            "ERROR: unstall: unstall_threshold_ms = 'fast' is not a valid setting; use a number "
            "of milliseconds from 1 to 60000 (e.g. unstall_threshold_ms = 100).",
        ),
        (
            "unstall_threshold_ms = -5",
            "ERROR: unstall: unstall_threshold_ms = '-5' is not a valid setting*",
        ),
        (
            "unstall_threshold_ms = inf",
            "ERROR: unstall: unstall_threshold_ms = 'inf' is not a valid setting*",
        ),
        (
            "unstall_threshold_ms = 0.001",
            "ERROR: unstall: unstall_threshold_ms = '0.001' is not a valid setting*",
        ),
        (
            "unstall_tripwire = sometimes",
            "ERROR: unstall: unstall_tripwire = 'sometimes' is not a valid setting; use true or "
            "false (e.g. unstall_tripwire = true).",
        ),
    ],
)
def test_bad_ini_values_are_usage_errors(
    tester: pytest.Pytester, run_pytest: RunPytest, ini: str, message: str
) -> None:
    tester.makeini(f"[pytest]\nasyncio_default_fixture_loop_scope = function\n{ini}\n")
    tester.makepyfile(test_blocks=BLOCKS)
    result = run_pytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_bad_command_line_threshold_is_a_usage_error(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyfile(test_blocks=BLOCKS)
    result = run_pytest("--unstall", "--unstall-threshold-ms=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: unstall: --unstall-threshold-ms = '0' is not a valid setting*"]
    )


def test_markers_are_registered_for_strict_markers(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    result = run_pytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.unstall(*", "@pytest.mark.allow_blocking*"])


PROJECT = """
[tool.unstall.watch]
allow = ["test_project.warm_cache", "myapp.stale"]

[[tool.unstall.blocking]]
name = "mimetypes.read_mime_types"
kind = "file"
why = "It reads a file."
alternative = "await asyncio.to_thread(mimetypes.read_mime_types, path)"
"""


def test_project_settings_extend_the_catalog_and_the_allow_list(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyprojecttoml(PROJECT)
    (tester.path / "mime.types").write_text("text/x-unstall uns\n")
    tester.makepyfile(
        test_project="""
        import mimetypes, time
        import pytest

        def warm_cache():
            time.sleep(0.01)

        @pytest.mark.asyncio
        async def test_allowed_by_the_project():
            warm_cache()

        @pytest.mark.asyncio
        async def test_user_catalog_entry():
            mimetypes.read_mime_types("mime.types")
        """
    )
    result = run_pytest("--unstall")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "blocking call mimetypes.read_mime_types(*) [[]UNS102, file[]]*",
            "*unstall: allow-list entries that never allowed a call*",
            "'myapp.stale' (from [[]tool.unstall.watch[]] allow)",
        ]
    )


def test_broken_project_settings_are_a_usage_error(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyprojecttoml("[tool.unstall.watch]\nallow = 5\n")
    tester.makepyfile(test_blocks=BLOCKS)
    result = run_pytest("--unstall")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: unstall: tool.unstall.watch.allow*"])


def test_a_sqlite_statement_on_the_loop_fails_the_test_with_its_line(
    tester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    tester.makepyfile(
        test_db="""
import asyncio
import sqlite3

def test_query(tmp_path):
    conn = sqlite3.connect(tmp_path / "app.db")  # made outside the loop

    async def handler():
        return conn.execute("select 1").fetchone()  # QUERY

    try:
        assert asyncio.run(handler()) == (1,)
    finally:
        conn.close()
"""
    )
    result = run_pytest("--unstall")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*sqlite3.Connection.execute*UNS107*",
            "*test_db.py:*in test_query.<locals>.handler*conn.execute*# QUERY*",
        ]
    )
