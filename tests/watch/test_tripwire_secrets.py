"""No value from the program reaches a report: every covered blocking call, made with a secret."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from tests.loops import RunLoop
from tests.watch.secret_calls import (
    SECRET,
    SECRET_SECONDS,
    blocking_calls,
    prepare,
    run_all,
    servers,
)

from unstall.catalog import default_catalog
from unstall.errors import BlockingCallError
from unstall.watch import Tripwire, TripwireEvent, Watcher
from unstall.watch._tripwire import describe
from unstall.watch._tripwire_targets import TARGETS

ROOT = Path(__file__).resolve().parents[2]
# what must never show: the secret, and the number (source lines, which do show, name them only)
FORBIDDEN = (SECRET, str(SECRET_SECONDS))
_UNSTALL_RUN = (sys.executable, "-m", "unstall", "run")


def _leaks(text: str) -> list[str]:
    return [word for word in FORBIDDEN if word in text]


def _covered() -> set[str]:
    """Every name the tripwire catches a call by: the catalog's audit events, the wrapped callables."""
    events = {e.audit_event for e in default_catalog().entries if e.audit_event}
    return events | set(TARGETS) | {"sqlite3.Connection.execute"}


def test_the_secret_calls_cover_every_audit_event_and_wrapper(tmp_path: Path) -> None:
    with servers() as srv:
        names = set(blocking_calls(tmp_path, srv))
    assert _covered() <= names, sorted(_covered() - names)


def test_no_report_holds_an_argument_value(
    run_loop: RunLoop, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    prepare(tmp_path)
    sys.path.insert(0, str(tmp_path))
    tripwire = Tripwire(policy="warn")
    sunk: list[object] = []
    watcher = Watcher(100, tripwire=tripwire, sinks=[sunk.append])
    try:
        with servers() as srv, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            calls = blocking_calls(tmp_path, srv)

            async def main() -> list[str]:
                return run_all(calls, lambda: len(tripwire.events))

            with caplog.at_level(logging.DEBUG, logger="unstall"), watcher:
                missed = run_loop(main())
            report = watcher.report()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(f"{SECRET}_module", None)
    seen = [e for e in sunk if isinstance(e, TripwireEvent)]
    outputs = {
        "events": "\n".join(repr(e) for e in sunk),
        "messages": "\n".join(describe(e) for e in seen),
        "warnings": "\n".join(str(w.message) for w in caught),
        "text report": report.render_text(),
        "json report": report.to_json(),
        "log": caplog.text,
    }
    assert {name: _leaks(text) for name, text in outputs.items()} == {key: [] for key in outputs}
    # the secret really went through the calls: each one was caught
    assert missed == []
    assert any(e.name == "sqlite3.Connection.execute" for e in seen)
    assert json.loads(report.to_json())["blocking_calls"]


def test_a_raised_blocking_call_error_holds_no_argument_value(run_loop: RunLoop) -> None:
    async def main() -> None:
        with Tripwire(policy="raise"), pytest.raises(BlockingCallError) as error:
            time.sleep(SECRET_SECONDS)
        assert not _leaks(str(error.value))
        assert "time.sleep(float)" in str(error.value)

    run_loop(main())


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_unstall_run_reports_hold_no_argument_value(tmp_path: Path, fmt: str) -> None:
    script = tmp_path / "app.py"
    script.write_text(
        "import asyncio, sys\n"
        f"sys.path[:0] = [{str(ROOT)!r}, sys.argv[1]]\n"
        "from pathlib import Path\n"
        "from tests.watch.secret_calls import blocking_calls, prepare, run_all, servers\n"
        "folder = Path(sys.argv[1])\n"
        "prepare(folder)\n"
        "with servers() as srv:\n"
        "    calls = blocking_calls(folder, srv)\n"
        "    async def main():\n"
        "        run_all(calls, lambda: 0)\n"
        "    asyncio.run(main())\n"
    )
    work = tmp_path / "work"
    work.mkdir()
    out = tmp_path / f"report.{fmt}"
    done = subprocess.run(
        [
            *_UNSTALL_RUN,
            "--tripwire",
            "--format",
            fmt,
            "--output",
            str(out),
            str(script),
            str(work),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = out.read_text()
    assert "blocking calls" in report or "blocking_calls" in report
    assert _leaks(report) == []
    assert _leaks(done.stderr) == []
