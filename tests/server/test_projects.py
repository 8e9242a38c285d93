"""Open documents checked in their projects, in process: which project a file is in, summaries
kept in memory between checks, and any text at all turned into diagnostics and code actions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types

from unstall.catalog import default_catalog
from unstall.check import _worker
from unstall.check._rules_info import rule_infos
from unstall.server._diagnostics import code_actions, reports
from unstall.server._projects import Buffer, Projects, contains
from unstall.server._text import UTF8, UTF16, UTF32

SLEEPY = "import time\n\n\nasync def view():\n    time.sleep(1)\n"
INFOS = rule_infos(default_catalog())
# Pieces that make blocking calls, functions, wide characters and broken syntax when joined.
_PIECES = ["time.sleep(1)", "async def f():\n", "    ", "\n", "é", "🐍", "\r", "(", "#", "\ud800"]


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _buffer(path: Path, text: str, version: int = 1) -> Buffer:
    return Buffer(path.as_uri(), os.path.realpath(path), text, version)


def test_files_of_a_project_share_it_and_a_nested_configuration_makes_its_own(
    tmp_path: Path,
) -> None:
    root = _write(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'shop'\n",
            "app/__init__.py": "",
            "app/views.py": "",
            "tools/unstall.toml": "ignore = ['UNS101']\n",
            "tools/run.py": "",
        },
    )
    projects = Projects()
    top = projects.project_of(os.path.realpath(root / "app/views.py"))
    assert top.folder == root.resolve()
    assert top.config.root == root.resolve()  # not app/: one root for the whole project
    assert projects.project_of(os.path.realpath(root / "pyproject.toml")) == top
    nested = projects.project_of(os.path.realpath(root / "tools/run.py"))
    assert nested.folder == (root / "tools").resolve()
    assert nested.config.ignore == ("UNS101",)
    assert contains(top, [os.path.realpath(root / "tools/run.py")])
    assert not contains(nested, [os.path.realpath(root / "app/views.py")])


def test_without_the_disk_cache_summaries_are_still_kept_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNSTALL_CACHE_DIR", raising=False)
    root = _write(
        tmp_path,
        {"pyproject.toml": "", "app.py": SLEEPY, "other.py": "x = 1\n", "more.py": "y = 2\n"},
    )
    projects = Projects(jobs=1, use_cache=False)
    project = projects.project_of(os.path.realpath(root / "app.py"))
    first = projects.check(project, [_buffer(root / "app.py", SLEEPY)])
    assert first.result.stats.summarized == 2
    summarized: list[str] = []
    real = _worker.summarize_source

    def counting(source: object, job: _worker.Job) -> object:
        summarized.append(job.path)
        return real(source, job)  # type: ignore[arg-type]

    monkeypatch.setattr("unstall.check._runner.summarize_source", counting)
    monkeypatch.setattr("unstall.check._worker.summarize_source", counting)
    second = projects.check(project, [_buffer(root / "app.py", SLEEPY + "\n", 2)])
    assert summarized == ["app.py"]
    assert second.result.stats.summarized == 0
    projects.save()
    assert not (root / ".unstall_cache").exists()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(
        st.text(),
        st.lists(st.sampled_from(_PIECES)).map("".join),
    ),
    encoding=st.sampled_from([UTF8, UTF16, UTF32]),
    line=st.integers(-1, 12),
    character=st.integers(-1, 40),
)
def test_any_text_gives_diagnostics_and_actions_without_raising(
    tmp_path_factory: pytest.TempPathFactory, text: str, encoding: str, line: int, character: int
) -> None:
    root = _write(tmp_path_factory.mktemp("any"), {"pyproject.toml": "", "app.py": SLEEPY})
    projects = Projects(jobs=1, use_cache=False)
    buffer = _buffer(root / "app.py", SLEEPY + text)
    checked = projects.check(projects.project_of(buffer.path), [buffer])
    (report,) = reports(checked, INFOS, encoding)
    for item in report.items:
        start = item.diagnostic.range.start
        assert start.line >= 0
        assert start.character >= 0
    position = types.Position(max(line, 0), max(character, 0))
    for only in (None, ["quickfix"], ["source.fixAll"]):
        code_actions(report, types.Range(position, position), only, encoding=encoding)
