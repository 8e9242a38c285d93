"""``unstall server`` driven over stdio by a real client: diagnostics with their chains, findings of
one document refreshed by an edit of another, code actions applied, and a clean exit."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.server.conftest import Project, Start
from tests.server.lsp_client import Message, apply_text_edits

SETTINGS = """\
import functools


def load():
    with open("c.toml") as f:
        return f.read()


@functools.cache
def settings():
    return load()
"""
SETTINGS_CLEAN = """\
import functools


def load():
    return {}


@functools.cache
def settings():
    return load()
"""
VIEWS = """\
import time

from app.settings import load, settings


async def view():
    time.sleep(1)
    return load()


async def cached_view():
    return settings()
"""
PROJECT = {
    "pyproject.toml": "[project]\nname = 'shop'\n",
    "app/__init__.py": "",
    "app/settings.py": SETTINGS,
    "app/views.py": VIEWS,
}


def _codes(diagnostics: list[Message]) -> list[str]:
    return sorted(diagnostic["code"] for diagnostic in diagnostics)


def _by_line(diagnostics: list[Message], line: int) -> Message:
    (found,) = [d for d in diagnostics if d["range"]["start"]["line"] == line]
    return found


def test_a_session_from_open_to_exit(project: Project, start: Start) -> None:
    root = project(PROJECT)
    views_path, settings_path = root / "app/views.py", root / "app/settings.py"
    client = start(cwd=root)
    capabilities = client.initialize(root)
    assert capabilities["codeActionProvider"]["codeActionKinds"] == [
        "quickfix",
        "source.fixAll.unstall",
    ]

    # Opened: the chain through the other module is the related information.
    views = client.open(views_path, VIEWS)
    diagnostics = client.diagnostics(views, where=bool)
    assert _codes(diagnostics) == ["UNS101", "UNS102", "UNS102"]
    chained = _by_line(diagnostics, 7)  # return load()
    assert chained["source"] == "unstall"
    assert chained["severity"] == 2  # warning
    assert chained["range"] == {
        "start": {"line": 7, "character": 11},
        "end": {"line": 7, "character": 17},
    }
    assert chained["codeDescription"]["href"].endswith("/docs/rules.md#uns102")
    steps = [
        (info["location"]["uri"], info["location"]["range"]["start"]["line"], info["message"])
        for info in chained["relatedInformation"]
    ]
    assert steps == [(settings_path.as_uri(), 3, "load"), (settings_path.as_uri(), 4, "open")]
    assert chained["data"]["frequency"] == "every"

    cached = _by_line(diagnostics, 11)  # return settings(): the cache fills once
    assert cached["message"].endswith("[first call only: functools.cache]")
    assert cached["severity"] == 3  # information
    assert cached["data"] == {
        **cached["data"],
        "frequency": "first",
        "reason": "functools.cache",
    }

    # An edit of the other module that removes the blocking call clears both chains.
    settings = client.open(settings_path, SETTINGS)
    client.diagnostics(settings)
    mark = client.mark()
    client.change(settings, SETTINGS_CLEAN, version=2)
    diagnostics = client.diagnostics(
        views, after=mark, where=lambda found: "UNS102" not in _codes(found)
    )
    assert _codes(diagnostics) == ["UNS101"]

    # The fix of time.sleep is a preferred quick fix; applied, the finding goes away.
    sleep = diagnostics[0]
    actions = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": views},
            "range": sleep["range"],
            "context": {"diagnostics": [sleep], "only": ["quickfix"]},
        },
    )
    (action,) = actions
    assert action["kind"] == "quickfix"
    assert action["isPreferred"] is True
    assert action["title"] == "Fix UNS101: await asyncio.sleep(1)"
    (change,) = action["edit"]["documentChanges"]
    assert change["textDocument"] == {"uri": views, "version": 1}
    fixed = apply_text_edits(VIEWS, change["edits"])
    assert "import asyncio\n" in fixed
    assert "    await asyncio.sleep(1)\n" in fixed
    mark = client.mark()
    client.change(views, fixed, version=2)
    assert client.diagnostics(views, after=mark) == []

    assert client.stop() == 0


def test_closing_a_document_clears_it_and_checks_its_file_from_disk(
    project: Project, start: Start
) -> None:
    root = project(PROJECT)
    client = start(cwd=root)
    client.initialize(root)
    views = client.open(root / "app/views.py", VIEWS)
    client.diagnostics(views, where=bool)
    settings = client.open(root / "app/settings.py", SETTINGS_CLEAN)
    client.diagnostics(views, where=lambda found: "UNS102" not in _codes(found))
    mark = client.mark()
    client.notify("textDocument/didClose", {"textDocument": {"uri": settings}})
    assert client.diagnostics(settings, after=mark) == []
    # The unsaved edit is gone with the document: the file on disk blocks again.
    client.diagnostics(views, after=mark, where=lambda found: "UNS102" in _codes(found))
    assert client.stop() == 0


def test_exit_without_shutdown_is_exit_code_1(project: Project, start: Start) -> None:
    root = project(PROJECT)
    client = start(cwd=root)
    client.initialize(root)
    client.notify("exit")
    assert client.wait() == 1


def test_no_summary_cache_is_written_without_a_cache(project: Project, start: Start) -> None:
    root = project(PROJECT)
    client = start("--no-cache", cwd=root)
    client.initialize(root)
    views = client.open(root / "app/views.py", VIEWS)
    client.diagnostics(views, where=bool)
    assert client.stop() == 0
    assert not (root / ".unstall_cache").exists()


def test_the_summary_cache_is_written_at_shutdown(project: Project, start: Start) -> None:
    root = project(PROJECT)
    client = start(cwd=root)
    client.initialize(root)
    views = client.open(root / "app/views.py", VIEWS)
    client.diagnostics(views, where=bool)
    assert not list((root / ".unstall_cache").glob("check-*.json"))
    assert client.stop() == 0
    assert len(list((root / ".unstall_cache").glob("check-*.json"))) == 1


def test_a_file_outside_any_project_is_checked_alone(tmp_path: Path, start: Start) -> None:
    lonely = tmp_path / "alone" / "script.py"
    lonely.parent.mkdir()
    text = "import time\n\n\nasync def main():\n    time.sleep(1)\n"
    lonely.write_text(text)
    client = start(cwd=tmp_path)
    client.initialize(tmp_path)
    uri = client.open(lonely, text)
    assert _codes(client.diagnostics(uri, where=bool)) == ["UNS101"]
    assert client.stop() == 0


@pytest.mark.slow
def test_a_first_check_of_many_files_runs_in_worker_processes(
    project: Project, start: Start
) -> None:
    files = {
        f"app/mod{number}.py": f"def helper{number}():\n    return {number}\n"
        for number in range(120)
    }
    root = project({**PROJECT, **files})
    client = start("--jobs", "2", cwd=root)
    client.initialize(root)
    views = client.open(root / "app/views.py", VIEWS)
    assert _codes(client.diagnostics(views, where=bool)) == ["UNS101", "UNS102", "UNS102"]
    assert any("(122 summarized)" in text for text in client.logs()), client.logs()
    assert client.stop() == 0
