"""Report formats: text, JSON, GitHub annotations and statistics."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from unstall.catalog import default_catalog
from unstall.check import ChainStep, Edit, Finding, Location
from unstall.check._format_json import (
    escape_github_data,
    escape_github_property,
    format_github,
    format_json,
)
from unstall.check._format_text import format_statistics, format_text, use_color
from unstall.check._rules_info import rule_infos

INFOS = rule_infos(default_catalog())
SOURCE = {"app/handlers.py": ["import time", "async def handler():", "    load_config()"]}

CHAINED = Finding(
    code="UNS102",
    message="handler() can reach builtins.open, a blocking file-system call.",
    location=Location("app/handlers.py", 3, 4, 3, 17),
    function="handler",
    entry="builtins.open",
    chain=(
        ChainStep("load_config", Location("app/config.py", 12)),
        ChainStep("open", Location("app/config.py", 14, 9)),
    ),
    fix="run it in a thread: await asyncio.to_thread(load_config)",
)
SLEEP = Finding(
    code="UNS101",
    message="time.sleep() blocks the event loop.",
    location=Location("app/a.py", 3, 4, 3, 17),
    function="f",
    entry="time.sleep",
    chain=(ChainStep("time.sleep", Location("app/a.py", 3, 4)),),
    fix="await asyncio.sleep(1)",
    edits=(Edit("app/a.py", (3, 4), (3, 17), "await asyncio.sleep(1)"),),
    fix_safe=True,
)
BAD = Finding(
    code="UNS901",
    message="Syntax error: invalid syntax (line 1, column 5).",
    location=Location("bad.py", 1, 4),
)


def test_text_has_header_source_caret_chain_fix_and_summary() -> None:
    text = format_text([CHAINED], lambda path: SOURCE.get(path), files=2)
    lines = text.splitlines()
    assert (
        lines[0]
        == "app/handlers.py:3:5: UNS102 handler() can reach builtins.open, a blocking file-system call."
    )
    assert lines[2] == "3 |     load_config()"
    assert lines[3] == "  |     ^^^^^^^^^^^^^"
    assert lines[4] == "  via handler -> load_config (app/config.py:12) -> open (app/config.py:14)"
    assert lines[5] == "  fix: run it in a thread: await asyncio.to_thread(load_config)"
    assert lines[-1] == "Found 1 problem in 1 file."
    assert "\x1b[" not in text


def test_text_summary_counts_files_and_fixable() -> None:
    text = format_text([CHAINED, SLEEP, BAD], lambda path: None, files=5, show_source=False)
    assert text.splitlines()[-1] == "Found 3 problems in 3 files (1 fixable with --fix)."
    assert "[fixable with --fix]" in text
    clean = format_text([], lambda path: None, files=5)
    assert clean.startswith("All checks passed.")


def test_unsafe_fixes_are_announced_separately() -> None:
    unsafe = Finding(
        "UNS101",
        "m",
        Location("a.py", 1),
        fix="f",
        edits=(Edit("a.py", (1, 0), (1, 1), "x"),),
        fix_safe=False,
    )
    assert (
        format_text([unsafe], lambda path: None, files=1).splitlines()[-1]
        == "Found 1 problem in 1 file (1 more with --unsafe-fixes)."
    )
    assert "1 fixable with --fix" in format_text(
        [unsafe], lambda path: None, files=1, unsafe_fixes=True
    )


def test_color_only_on_a_tty_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty())
    assert not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty())
    assert "\x1b[" in format_text([SLEEP], lambda path: None, files=1, color=True)


def test_json_has_every_field() -> None:
    document = json.loads(format_json([CHAINED, SLEEP], INFOS, files=4))
    assert document["schema"] == 1
    assert document["tool"]["name"] == "unstall"
    assert document["summary"] == {
        "files": 4,
        "findings": 2,
        "fixable": 1,
        "by_code": {"UNS101": 1, "UNS102": 1},
        "by_frequency": {"every": 2},
    }
    first = document["findings"][0]
    assert first["code"] == "UNS102"
    assert first["title"] == INFOS["UNS102"].title
    assert (first["path"], first["line"], first["col"], first["end_line"], first["end_col"]) == (
        "app/handlers.py",
        3,
        4,
        3,
        17,
    )
    assert first["function"] == "handler"
    assert first["entry"] == "builtins.open"
    assert first["chain"][1] == {
        "name": "open",
        "path": "app/config.py",
        "line": 14,
        "col": 9,
        "end_line": None,
        "end_col": None,
    }
    assert document["findings"][1]["edits"] == [
        {"path": "app/a.py", "start": [3, 4], "end": [3, 17], "text": "await asyncio.sleep(1)"}
    ]
    assert document["findings"][1]["fix_safe"] is True


def test_github_annotations() -> None:
    out = format_github([SLEEP, BAD]).splitlines()
    assert out[0].startswith(
        "::error file=app/a.py,line=3,col=5,endLine=3,endColumn=18,title=UNS101::time.sleep() blocks the event loop.%0A"
    )
    assert (
        out[1]
        == "::warning file=bad.py,line=1,col=5,title=UNS901::Syntax error: invalid syntax (line 1, column 5)."
    )


def test_github_escaping() -> None:
    assert escape_github_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_github_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"
    odd = Finding("UNS101", "50% of\nlines", Location("dir,x/a:b.py", 1))
    assert (
        format_github([odd])
        == "::error file=dir%2Cx/a%3Ab.py,line=1,col=1,title=UNS101::50%25 of%0Alines\n"
    )


def test_statistics_sorted_by_count_with_titles() -> None:
    other = Finding("UNS101", "again", Location("b.py", 2))
    out = format_statistics([CHAINED, SLEEP, other, BAD], INFOS).splitlines()
    assert out[0] == f"2  UNS101  [*] {INFOS['UNS101'].title}"
    assert out[1] == f"1  UNS102      {INFOS['UNS102'].title}"
    assert out[2] == f"1  UNS901      {INFOS['UNS901'].title}"
    assert format_statistics([], INFOS) == ""


def test_text_escapes_what_comes_from_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from unstall._cli import main

    # A file name that would start a GitHub Actions command on a line of its own, and a source
    # line that would clear the terminal and hide text behind a bidirectional override.
    name = "x\n::warning file=evil.py::pwned\n.py"
    (tmp_path / name).write_text(
        "import time\n\n\nasync def handler():\n    time.sleep(1)  # \x1b[2J \u202e\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "."]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\u202e" not in out
    assert not any(line.startswith("::") for line in out.splitlines())
    assert "x\\n::warning file=evil.py::pwned\\n.py:5:5: UNS101" in out
    assert "time.sleep(1)  # \\x1b[2J \\u202e" in out
    # The caret still sits under the call.
    lines = out.splitlines()
    source = next(i for i, line in enumerate(lines) if "time.sleep(1)" in line)
    assert lines[source + 1].index("^") == lines[source].index("time.sleep")
    assert lines[source + 1].count("^") == len("time.sleep(1)")


def test_clean_leaves_ordinary_text_alone() -> None:
    from unstall.check._format_text import clean

    assert clean("app/handlers.py") == "app/handlers.py"
    assert clean("café ünïcode → ok") == "café ünïcode → ok"
    assert clean("a\tb\rc\x00\x7f\x9b") == "a\\tb\\rc\\x00\\x7f\\x9b"
