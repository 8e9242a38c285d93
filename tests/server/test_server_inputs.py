"""The server under what editors and users really send: settings that change or break, bad
messages, text with wide characters, incremental edits, and every fix at once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from tests.server.conftest import Project, Start
from tests.server.lsp_client import Message, ServerError, apply_text_edits

from unstall._cli import main

SLEEPY = "import time\n\n\nasync def view():\n    time.sleep(1)\n"
PROJECT = {"pyproject.toml": "[project]\nname = 'shop'\n", "app.py": SLEEPY}


def _codes(diagnostics: list[Message]) -> list[str]:
    return sorted(diagnostic["code"] for diagnostic in diagnostics)


def test_changed_settings_are_read_again_when_the_client_says_so(
    project: Project, start: Start
) -> None:
    root = project(PROJECT)
    client = start(cwd=root)
    client.initialize(root)
    registration = client.wait_for(
        lambda message: message.get("method") == "client/registerCapability"
    )
    (entry,) = registration["params"]["registrations"]
    assert entry["method"] == "workspace/didChangeWatchedFiles"
    globs = [watcher["globPattern"] for watcher in entry["registerOptions"]["watchers"]]
    assert "**/pyproject.toml" in globs
    assert "**/unstall.toml" in globs

    app = client.open(root / "app.py", SLEEPY)
    assert _codes(client.diagnostics(app, where=bool)) == ["UNS101"]

    pyproject = root / "pyproject.toml"
    pyproject.write_text("[project]\nname = 'shop'\n\n[tool.unstall]\nignore = ['UNS101']\n")
    mark = client.mark()
    client.notify(
        "workspace/didChangeWatchedFiles", {"changes": [{"uri": pyproject.as_uri(), "type": 2}]}
    )
    assert client.diagnostics(app, after=mark) == []

    # A broken configuration is logged; the findings stay as they were and the server goes on.
    pyproject.write_text("[tool.unstall]\nselect = ['NOPE']\n")
    mark = client.mark()
    client.notify(
        "workspace/didChangeWatchedFiles", {"changes": [{"uri": pyproject.as_uri(), "type": 2}]}
    )
    logged = client.wait_for(
        lambda message: (
            message.get("method") == "window/logMessage" and message["params"]["type"] == 1
        ),
        after=mark,
    )
    assert "NOPE" in logged["params"]["message"]
    assert "pyproject.toml" in logged["params"]["message"]

    # Saving a fixed configuration (a document the editor has open) reloads it too.
    pyproject.write_text("[project]\nname = 'shop'\n")
    mark = client.mark()
    client.notify("textDocument/didSave", {"textDocument": {"uri": pyproject.as_uri()}})
    assert _codes(client.diagnostics(app, after=mark, where=bool)) == ["UNS101"]
    assert client.stop() == 0


def test_bad_messages_are_answered_or_logged_and_the_server_goes_on(
    project: Project, start: Start
) -> None:
    root = project(PROJECT)
    client = start(cwd=root)
    client.initialize(root)
    client.send_raw(b"{this is not json")
    client.send_raw(json.dumps({"jsonrpc": "2.0", "method": "textDocument/didOpen"}).encode())
    client.notify("textDocument/didOpen", {"textDocument": {"uri": 42}})
    client.notify("textDocument/didChange", {"textDocument": {"uri": "file:///nowhere.py"}})
    client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": (root / "never-opened.py").as_uri(), "version": 3},
            "contentChanges": [{"text": "x = 1\n"}],
        },
    )
    client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": "untitled:1"}]})
    client.notify("$/unknownNotification", {"what": "ever"})
    with pytest.raises(ServerError) as raised:
        client.request("unstall/noSuchRequest", {})
    assert raised.value.args[0]["code"] == -32601  # method not found
    assert (
        client.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": (root / "closed.py").as_uri()},
                "range": {
                    "start": {"line": 0, "character": 0},
                    "end": {"line": 0, "character": 0},
                },
                "context": {"diagnostics": []},
            },
        )
        is None
    )

    # Text that is not Python, not even text: a diagnostic, not a crash.
    broken = client.open(root / "broken.py", "def (:\n\x00\ud800")
    (problem,) = client.diagnostics(broken, where=bool)
    assert problem["code"].startswith("UNS90")
    assert problem["severity"] == 1

    app = client.open(root / "app.py", SLEEPY)
    assert _codes(client.diagnostics(app, where=bool)) == ["UNS101"]
    assert client.stop() == 0
    assert not [text for text in client.logs() if "bug in unstall" in text]


def test_columns_are_counted_in_the_clients_units(project: Project, start: Start) -> None:
    # "é" is one UTF-16 unit and two UTF-8 bytes; "🐍" two UTF-16 units and four UTF-8 bytes.
    text = "import time\n\n\nasync def view():\n    x = ('é🐍', time.sleep(1))\n"
    root = project({"pyproject.toml": "", "app.py": text})
    # UTF-16, the default, and UTF-8 when the client offers it (UTF-32: tests/server/test_text.py)
    for encoding, start_column in (("utf-16", 16), ("utf-8", 19)):
        client = start(cwd=root)
        offered = {"general": {"positionEncodings": [encoding]}} if encoding != "utf-16" else {}
        capabilities = client.initialize(root, {**offered, "workspace": {}})
        assert capabilities["positionEncoding"] == encoding
        app = client.open(root / "app.py", text)
        (diagnostic,) = client.diagnostics(app, where=bool)
        width = len("time.sleep(1)")
        assert diagnostic["range"] == {
            "start": {"line": 4, "character": start_column},
            "end": {"line": 4, "character": start_column + width},
        }, encoding
        assert client.stop() == 0


def test_incremental_edits_are_checked_as_the_text_they_make(
    project: Project, start: Start
) -> None:
    root = project(PROJECT)
    client = start(cwd=root)
    client.initialize(root)
    app = client.open(root / "app.py", SLEEPY)
    client.diagnostics(app, where=bool)
    mark = client.mark()
    # Replace "time.sleep(1)" (line 4, columns 4-17) with "pass".
    client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": app, "version": 2},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": 4, "character": 4},
                        "end": {"line": 4, "character": 17},
                    },
                    "text": "pass",
                }
            ],
        },
    )
    assert client.diagnostics(app, after=mark) == []
    assert client.stop() == 0


def test_every_safe_fix_at_once_and_unsafe_ones_one_by_one(project: Project, start: Start) -> None:
    text = (
        "import time\n"
        "import requests\n\n\n"
        "async def view():\n"
        "    time.sleep(1)\n"
        "    time.sleep(2)\n"
        "    return requests.get('https://example.com')\n"
    )
    root = project({"pyproject.toml": "", "app.py": text})
    client = start(cwd=root)
    client.initialize(root, {"workspace": {}})  # no versioned edits: plain changes
    app = client.open(root / "app.py", text)
    diagnostics = client.diagnostics(app, where=bool)
    assert _codes(diagnostics) == ["UNS101", "UNS101", "UNS103"]
    whole = {"start": {"line": 0, "character": 0}, "end": {"line": 8, "character": 0}}

    actions = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": app},
            "range": whole,
            "context": {"diagnostics": [], "only": ["source.fixAll"]},
        },
    )
    (fix_all,) = actions
    assert fix_all["kind"] == "source.fixAll.unstall"
    fixed = apply_text_edits(text, fix_all["edit"]["changes"][app])
    assert fixed.count("import asyncio\n") == 1
    assert "    await asyncio.sleep(1)\n    await asyncio.sleep(2)\n" in fixed
    assert "requests.get(" in fixed  # not a safe fix

    request = next(d for d in diagnostics if d["code"] == "UNS103")
    actions = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": app},
            "range": request["range"],
            "context": {"diagnostics": [request], "only": ["quickfix"]},
        },
    )
    unsafe = [action for action in actions if action["diagnostics"] == [request]]
    assert unsafe, actions
    assert all("isPreferred" not in action for action in unsafe)
    assert all("(unsafe" in action["title"] for action in unsafe)

    assert client.stop() == 0


def test_fixes_of_an_older_text_are_not_offered(project: Project, start: Start) -> None:
    root = project(PROJECT)
    client = start("--debounce-ms", "60000", cwd=root)  # an edit is not checked in this test
    client.initialize(root)
    app = client.open(root / "app.py", SLEEPY)
    (sleep,) = client.diagnostics(app, where=bool)
    asked = {
        "textDocument": {"uri": app},
        "range": sleep["range"],
        "context": {"diagnostics": [sleep]},
    }
    assert client.request("textDocument/codeAction", asked)
    client.change(app, "\n" + SLEEPY, version=2)
    assert client.request("textDocument/codeAction", asked) is None
    assert client.stop() == 0


def test_a_server_without_the_lsp_extra_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pygls", None)
    monkeypatch.setitem(sys.modules, "pygls.lsp", None)
    monkeypatch.setitem(sys.modules, "pygls.lsp.server", None)
    assert main(["server"]) == 2
    captured = capsys.readouterr()
    assert "unstall[lsp]" in captured.err
    assert captured.out == ""


def test_files_outside_the_workspace_root_have_their_own_project(
    tmp_path: Path, start: Start
) -> None:
    other = tmp_path / "other"
    (other / "pkg").mkdir(parents=True)
    (other / "pyproject.toml").write_text("[tool.unstall]\nignore = ['UNS101']\n")
    (other / "pkg/__init__.py").write_text("")
    (other / "pkg/app.py").write_text(SLEEPY)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    client = start(cwd=workspace)
    client.initialize(workspace)
    app = client.open(other / "pkg/app.py", SLEEPY)
    # The settings are the other project's: UNS101 ignored there.
    client.wait_for(
        lambda message: (
            message.get("method") == "window/logMessage"
            and "checked" in message["params"]["message"]
            and str(other) in message["params"]["message"]
        )
    )
    assert client.diagnostics(app) == []
    assert client.stop() == 0
