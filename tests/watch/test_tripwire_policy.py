"""The tripwire's judgement: allow-lists, policies (raise, warn, record), sinks, and the Watcher's use of it."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from tests.loops import RunLoop
from tests.watch.tripwire_support import line_of

from unstall.errors import BlockingCallError, BlockingCallWarning
from unstall.watch import Action, Policy, Tripwire, TripwireEvent, Watcher
from unstall.watch import _tripwire_hook as hook

HERE = str(Path(__file__))


# ---- allow-lists -------------------------------------------------------------------------------------


def _load_cache() -> None:
    time.sleep(0.001)


def _log_it() -> None:
    def inner() -> None:
        time.sleep(0.001)

    inner()


def test_allow_list_by_function_module_and_entry_and_unused_items(
    run_loop: RunLoop, tmp_path: Path
) -> None:
    allow = [
        f"{__name__}._load_cache",  # a function
        f"{__name__}._log_it",  # a function, covering what is nested in it
        "sqlite3",  # a module: nothing calls into sqlite3 from Python, so it never fires
        "builtins.open",  # a catalog entry
        "myapp.never.called",
    ]
    with Tripwire(allow=allow) as tw:

        async def main() -> None:
            _load_cache()
            _log_it()
            (tmp_path / "f.txt").write_text("x")
            time.sleep(0.001)  # NOT ALLOWED

        run_loop(main())
    assert [e.blamed.lineno for e in tw.events if e.blamed] == [line_of(HERE, "NOT ALLOWED")]
    assert tw.allowed == 3
    assert tw.unused_allow() == ("myapp.never.called", "sqlite3")


def _slow_hook(obj: dict[str, Any]) -> dict[str, Any]:
    time.sleep(0.001)  # SLOW HOOK
    return obj


def test_allow_list_by_module_covers_callbacks_from_inside_it(run_loop: RunLoop) -> None:
    with Tripwire(allow=["json"]) as tw:

        async def main() -> None:
            # json.decoder calls back into our hook, which sleeps: allowed by the module "json"
            assert json.loads('{"a": 1}', object_hook=_slow_hook) == {"a": 1}
            _slow_hook({})  # NOT UNDER JSON

        run_loop(main())
    (event,) = tw.events
    assert event.blamed is not None
    assert event.blamed.lineno == line_of(HERE, "SLOW HOOK")
    assert event.stack[-2].lineno == line_of(HERE, "NOT UNDER JSON")
    assert tw.unused_allow() == ()


def test_bad_allow_item_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"allow-list item '' is not valid; use a module"):
        Tripwire(allow=[""])


# ---- policies ----------------------------------------------------------------------------------------


def test_raise_policy_fails_the_call_before_it_runs(run_loop: RunLoop, tmp_path: Path) -> None:
    target = tmp_path / "never.txt"
    with Tripwire("raise") as tw:

        async def main() -> BlockingCallError:
            with pytest.raises(BlockingCallError) as info:
                open(target, "w")  # noqa: SIM115  # RAISE
            return info.value

        error = run_loop(main())
    assert not target.exists()
    assert (error.code, error.name) == ("UNS102", "builtins.open")
    assert isinstance(error.event, TripwireEvent)
    assert error.event.action == "raise"
    assert f"test_tripwire_policy.py:{line_of(HERE, 'RAISE')}" in str(error)
    assert "UNS102" in str(error)
    assert list(tw.events) == [error.event]


def test_warn_policy_warns_and_lets_the_call_run(run_loop: RunLoop, tmp_path: Path) -> None:
    target = tmp_path / "written.txt"
    with Tripwire("warn") as tw:

        async def main() -> None:
            with pytest.warns(
                BlockingCallWarning, match=r"pathlib\.Path\.write_text.*UNS102"
            ) as record:
                target.write_text("x")  # WARN
            warned.append((record[0].filename, record[0].lineno))

        warned: list[tuple[str, int]] = []
        run_loop(main())
    assert warned == [(HERE, line_of(HERE, "WARN"))]
    assert target.read_text() == "x"
    assert [e.action for e in tw.events] == ["warn"]


def test_policy_per_rule_code(run_loop: RunLoop, tmp_path: Path) -> None:
    policy = Policy("record", {"UNS101": "raise", "UNS102": Action.IGNORE})
    with Tripwire(policy) as tw:

        async def main() -> None:
            (tmp_path / "f.txt").write_text("x")  # ignored
            sqlite3.connect(":memory:").close()  # recorded
            with pytest.raises(BlockingCallError):
                time.sleep(0.001)

        run_loop(main())
    assert [(e.name, e.action) for e in tw.events] == [
        ("sqlite3.connect", "record"),
        ("time.sleep", "raise"),
    ]


def test_policy_rejects_unknown_actions_and_codes() -> None:
    with pytest.raises(ValueError, match=r"action 'explode' is not valid; use one of 'raise'"):
        Policy("explode")
    with pytest.raises(ValueError, match=r"rule code 'sleep'; rule codes look like 'UNS101'"):
        Policy("record", {"sleep": "raise"})
    assert Policy.of("warn").action_for("UNS101") is Action.WARN
    assert Policy.of(None).action_for("UNS999") is Action.RECORD


def test_sink_errors_are_counted_not_raised(run_loop: RunLoop) -> None:
    def bad_sink(event: TripwireEvent) -> None:
        raise RuntimeError("sink broke")

    with Tripwire(sinks=[bad_sink]) as tw:

        async def main() -> None:
            time.sleep(0.001)

        run_loop(main())
    assert tw.sink_errors == 1
    assert len(tw.events) == 1


# ---- the watcher's contract --------------------------------------------------------------------------


def test_watcher_with_tripwire_collects_blocking_calls(run_loop: RunLoop) -> None:
    seen: list[object] = []
    watcher = Watcher(1000, tripwire=True, sinks=[seen.append], log=False).start()
    try:

        async def main() -> None:
            time.sleep(0.002)  # WATCHED

        run_loop(main())
    finally:
        watcher.stop()
    calls = [e for e in watcher.blocking_calls if e.name == "time.sleep"]
    assert [e.blamed.lineno for e in calls if e.blamed] == [line_of(HERE, "WATCHED")]
    assert calls[0] in seen
    assert hook.wrapped_names() == ()  # stopping the watcher stopped its tripwire


def test_watcher_accepts_a_configured_tripwire_instance(run_loop: RunLoop) -> None:
    tw = Tripwire("record", allow=["builtins.open"])
    watcher = Watcher(1000, tripwire=tw, log=False).start()
    try:

        async def main() -> None:
            time.sleep(0.002)

        run_loop(main())
    finally:
        watcher.stop()
    assert [e.name for e in watcher.blocking_calls] == ["time.sleep"]
    assert tw.unused_allow() == ("builtins.open",)
    assert not tw.running


def test_raise_policy_on_a_sqlite_statement_records_it_and_lets_it_run(
    run_loop: RunLoop, tmp_path: Path
) -> None:
    # SQLite swallows an exception raised in its trace callback: the statement is recorded
    # with the policy's action and runs
    with Tripwire("raise") as tw:
        conn = sqlite3.connect(tmp_path / "app.db")
        conn.execute("create table t (x)")

        async def main() -> None:
            conn.execute("insert into t values (1)")  # SQL RAISE

        try:
            run_loop(main())
            rows = conn.execute("select x from t").fetchall()
        finally:
            conn.close()
    assert rows == [(1,)]
    assert [(e.name, e.action) for e in tw.events] == [("sqlite3.Connection.execute", "raise")]
    blamed = tw.events[0].blamed
    assert blamed is not None
    assert blamed.lineno == line_of(HERE, "SQL RAISE")


def test_a_watcher_uses_the_tripwire_it_is_given_even_from_a_module_imported_again(
    monkeypatch: pytest.MonkeyPatch, run_loop: RunLoop
) -> None:
    # an in-process test run that restores sys.modules makes the next import of the tripwire
    # module a fresh one, with another Tripwire class: the given tripwire (its policy and
    # allow-list) must still be the one used
    import importlib
    import sys

    monkeypatch.delitem(sys.modules, "unstall.watch._tripwire")
    fresh = importlib.import_module("unstall.watch._tripwire")
    assert fresh.Tripwire is not Tripwire
    given = Tripwire(allow=[f"{__name__}"])

    async def main() -> None:
        time.sleep(0.001)

    with Watcher(threshold_ms=100, tripwire=given, log=False) as w:
        assert w._tripwire is given
        run_loop(main())
    assert given.allowed == 1
    assert not w.blocking_calls
