"""``unstall rules``: the table, one rule, one callable, --kind, the three formats, user entries and errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from unstall._cli import main
from unstall.catalog import Kind, default_catalog
from unstall.catalog._docs import render_rules_markdown

CATALOG = default_catalog()
EXTRA_CODES = {code: rule.title for code, rule in CATALOG.rules.items()}
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """Run ``unstall rules ARGS`` in process, in an empty folder; return (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["rules", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _pyproject(folder: Path, body: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_table_lists_every_rule_and_callable(rules: Run) -> None:
    code, out, err = rules()
    assert (code, err) == (0, "")
    for info in CATALOG.kinds.values():
        assert f"\n{info.code} {info.title} (kind {info.kind.value}, " in "\n" + out
    for extra, title in EXTRA_CODES.items():
        assert f"\n{extra} {title}\n" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("  UNS")]
    assert [(row[0], row[1], row[2]) for row in rows] == [
        (entry.code, entry.kind.value, entry.name)
        for info in sorted(CATALOG.kinds.values(), key=lambda info: info.code)
        for entry in CATALOG.by_kind(info.kind)
    ]
    assert out.rstrip().endswith(
        f"{len(CATALOG)} blocking callables in {len(CATALOG.kinds)} rules."
    )


def test_one_rule_in_full(rules: Run) -> None:
    code, out, _ = rules("uns103")
    assert code == 0
    info = CATALOG.kind_info(Kind.NETWORK)
    assert out.startswith(f"UNS103 {info.title} (blocking-network)\n")
    assert f"  why:      {info.why}\n" in out
    names = {line.split()[2] for line in out.splitlines() if line.startswith("    UNS")}
    assert names == {entry.name for entry in CATALOG.by_kind(Kind.NETWORK)}


def test_one_extra_rule(rules: Run) -> None:
    code, out, _ = rules("UNS201")
    assert code == 0
    assert out.startswith(f"UNS201 {EXTRA_CODES['UNS201']}\n")
    assert "await requests.get(url)" in out


def test_one_callable_in_full_by_alias(rules: Run) -> None:
    code, out, _ = rules("requests.api.get")
    assert code == 0
    entry = CATALOG.lookup("requests.get")
    assert entry is not None
    assert out.startswith("requests.get  (UNS103 blocking network call, kind network)\n")
    assert "  also known as:    requests.api.get\n" in out
    assert f"  why:              {entry.why}\n" in out
    assert f"  use instead:      {entry.alternative}\n" in out
    assert "    async def handler():\n" in out
    assert out.rstrip().endswith('requests.get("http://127.0.0.1:8000/")')


def test_kind_filter(rules: Run) -> None:
    code, out, _ = rules("--kind", "database")
    assert code == 0
    assert out.startswith("UNS107 ")
    assert "UNS201" not in out
    rows = [line for line in out.splitlines() if line.startswith("  UNS")]
    assert len(rows) == len(CATALOG.by_kind(Kind.DATABASE))
    assert all(row.startswith("  UNS107  database  ") for row in rows)


def test_kind_filter_excludes_other_kinds_entries(rules: Run) -> None:
    code, _, err = rules("--kind", "file", "requests.get")
    assert code == 2
    assert (
        err
        == "unstall rules: error: 'requests.get' is not of kind 'file'; drop --kind to show it.\n"
    )
    code, _, err = rules("--kind", "file", "UNS103")
    assert code == 2
    assert "'UNS103' is not of kind 'file'" in err


def test_json_format(rules: Run) -> None:
    code, out, _ = rules("--format", "json")
    assert code == 0
    document = json.loads(out)
    codes = [rule["code"] for rule in document["rules"]]
    assert codes == [*CATALOG.codes(), *EXTRA_CODES]
    entries = [entry for rule in document["rules"] for entry in rule["entries"]]
    assert len(entries) == len(CATALOG)
    first = document["rules"][0]
    assert first["name"] == "blocking-sleep"
    assert first["entries"][0]["name"] == "time.sleep"
    assert first["entries"][0]["fix"] == "await asyncio.sleep({args})"


def test_json_one_callable_and_one_rule(rules: Run) -> None:
    code, out, _ = rules("--format", "json", "sqlite3.connect")
    assert code == 0
    entry = json.loads(out)
    assert entry["name"] == "sqlite3.connect"
    assert entry["returns"] == "sqlite3.Connection"
    assert entry["audit_event"] == "sqlite3.connect"
    assert entry["code"] == "UNS107"
    code, out, _ = rules("--format", "json", "UNS109")
    rule = json.loads(out)
    assert (rule["code"], rule["offload"]) == ("UNS109", "process")
    assert len(rule["entries"]) == len(CATALOG.by_kind(Kind.CPU))


def test_markdown_format_is_the_rule_reference(rules: Run) -> None:
    code, out, _ = rules("--format", "markdown")
    assert code == 0
    assert out == render_rules_markdown(CATALOG)
    code, out, _ = rules("--format", "markdown", "UNS101")
    assert code == 0
    assert out.startswith("## UNS101\n")
    assert "### Use instead" in out
    assert "## UNS102" not in out
    code, out, _ = rules("--format", "markdown", "time.sleep")
    assert out.startswith("## `time.sleep`\n")
    code, _, err = rules("--format", "markdown", "--kind", "file")
    assert code == 2
    assert "drop --kind" in err


@pytest.mark.parametrize(
    ("query", "close"),
    [
        ("request.get", "requests.get"),
        ("UNS13", "UNS103"),
        ("read_text", "pathlib.Path.read_text"),
    ],
)
def test_unknown_query_is_exit_2_with_close_matches(rules: Run, query: str, close: str) -> None:
    code, out, err = rules(query)
    assert code == 2
    assert out == ""
    assert err.startswith(
        f"unstall rules: error: {query!r} is neither a rule code nor a known blocking callable. Close matches: "
    )
    assert close in err.split("Close matches: ", 1)[1]
    assert err.rstrip().endswith("Run 'unstall rules' to list every rule and callable.")


def test_unknown_query_without_close_matches(rules: Run) -> None:
    code, _, err = rules("zzzzzz")
    assert code == 2
    assert "Close matches" not in err


def test_bad_kind_is_a_usage_error(rules: Run) -> None:
    code, _, err = rules("--kind", "telepathy")
    assert code == 2
    assert "invalid choice: 'telepathy'" in err


def test_user_entries_from_pyproject(rules: Run, tmp_path: Path) -> None:
    _pyproject(
        tmp_path,
        """\
        [tool.unstall]
        [[tool.unstall.blocking]]
        name = "mylib.fetch"
        kind = "network"
        why = "Waits for the upstream service."
        alternative = "mylib.aio.fetch"

        [[tool.unstall.blocking]]
        name = "requests.get"
        kind = "network"
        why = "Our own wording."
        alternative = "our async client"
        """,
    )
    code, out, _ = rules()
    assert code == 0
    assert "  UNS103  network  mylib.fetch" in out
    assert out.rstrip().endswith(
        f"{len(CATALOG) + 1} blocking callables in {len(CATALOG.kinds)} rules."
    )
    code, out, _ = rules("mylib.fetch")
    assert code == 0
    assert "Waits for the upstream service." in out
    code, out, _ = rules("requests.get")
    assert "Our own wording." in out
    code, _, _ = rules("requests.api.get")  # the replaced built-in's alias is gone with it
    assert code == 2


def test_config_option_and_bad_user_entry(rules: Run, tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    good = _pyproject(
        folder,
        """\
        [[tool.unstall.blocking]]
        name = "mylib.crunch"
        kind = "cpu"
        why = "Crunches numbers."
        alternative = "a process pool"
        """,
    )
    code, out, _ = rules("--config", str(good), "--format", "json", "mylib.crunch")
    assert code == 0
    assert json.loads(out)["offload"] == "process"
    bad = _pyproject(
        folder,
        """\
        [[tool.unstall.blocking]]
        name = "mylib.crunch"
        kind = "cpu"
        why = "Crunches numbers."
        alternative = "a process pool"
        speed = "slow"
        """,
    )
    code, out, err = rules("--config", str(bad))
    assert code == 2
    assert out == ""
    assert "Catalog entry 'mylib.crunch'" in err
    assert "unknown key(s) 'speed'" in err


def test_python_dash_m_entry_point(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "unstall", "rules", "UNS110"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("UNS110 import at run time (blocking-import)\n")


def test_boundaries_with_the_projects_own(rules: Run, tmp_path: Path) -> None:
    _pyproject(
        tmp_path,
        """
        [tool.unstall]
        offload-helpers = ["homeassistant.core.HomeAssistant.async_add_executor_job"]
        threadpool-decorators = ["web.threaded"]
        """,
    )
    code, out, err = rules("--boundaries")
    assert (code, err) == (0, "")
    rows = [line.split()[:2] for line in out.splitlines() if line.startswith("  ")]
    expected = [[row.kind.value, row.name] for row in CATALOG.boundaries]
    assert rows == [
        *expected,
        ["offload", "homeassistant.core.HomeAssistant.async_add_executor_job"],
        ["threadpool-decorator", "web.threaded"],
    ]
    assert "(also .run_in_executor(...) on any receiver)" in out
    assert out.endswith(f"{len(expected) + 2} boundaries.\n")
    code, out, err = rules("--boundaries", "--format", "json")
    assert code == 0
    document = json.loads(out)["boundaries"]
    assert document[0] == {
        "name": "asyncio.to_thread",
        "kind": "offload",
        "why": CATALOG.boundaries[0].why,
        "method": True,
        "tail": 1,
        "keywords": [],
        "async": False,
    }
    assert document[-2]["why"].startswith("configured in ")


def test_boundaries_refuse_a_query(rules: Run) -> None:
    code, out, err = rules("--boundaries", "UNS101")
    assert (code, out) == (2, "")
    assert "--boundaries lists every boundary" in err
