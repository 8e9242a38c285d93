"""Several texts in memory checked at once as files of their project, and a summary cache kept in
memory between runs (what the language server does on each edit)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from unstall._config import Config
from unstall.check import Finding, _worker
from unstall.check._runner import Memory, StdinText, run_check

Project = Callable[[Mapping[str, str | bytes]], Path]

SETTINGS = "def load():\n    with open('c.toml') as f:\n        return f.read()\n"
SETTINGS_CLEAN = "def load():\n    return {}\n"
VIEWS = "from app.settings import load\n\n\nasync def view():\n    return load()\n"
PROJECT = {
    "pyproject.toml": "[project]\nname = 'shop'\n",
    "app/__init__.py": "",
    "app/settings.py": SETTINGS,
    "app/views.py": VIEWS,
}


def _paths(findings: Sequence[Finding]) -> list[str]:
    return sorted(finding.location.path for finding in findings)


def test_every_buffer_replaces_its_file(project: Project) -> None:
    root = project(PROJECT)
    config = Config(root=root)
    result = run_check([root], config=config, cwd=root, jobs=1)
    assert _paths(result.findings) == ["app/views.py"]
    buffers = [
        StdinText("app/settings.py", SETTINGS_CLEAN.encode()),
        StdinText("app/views.py", VIEWS.replace("view", "page").encode()),
    ]
    result = run_check([root], config=config, cwd=root, jobs=1, buffers=buffers)
    assert result.findings == ()
    assert sorted(result.files) == ["app/__init__.py", "app/settings.py", "app/views.py"]


def test_a_buffer_of_a_new_file_joins_the_project(project: Project) -> None:
    root = project(PROJECT)
    fresh = "from .settings import load\n\n\nasync def fresh():\n    return load()\n"
    buffers = [StdinText("app/new.py", fresh.encode())]
    result = run_check([root], config=Config(root=root), cwd=root, jobs=1, buffers=buffers)
    assert _paths(result.findings) == ["app/new.py", "app/views.py"]


def test_memory_keeps_the_cache_and_summarizes_only_changed_buffers(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(PROJECT)
    config = Config(root=root)
    cache_dir = root / "cache"
    summarized: list[str] = []
    real = _worker.summarize_source

    def counting(source: object, job: _worker.Job) -> object:
        summarized.append(job.path)
        return real(source, job)  # type: ignore[arg-type]

    monkeypatch.setattr("unstall.check._runner.summarize_source", counting)
    memory = Memory()
    views = StdinText("app/views.py", VIEWS.encode())
    first = run_check(
        [root], config=config, cwd=root, jobs=1, cache_dir=cache_dir, buffers=[views], memory=memory
    )
    assert first.stats.summarized == 2  # app/__init__.py and app/settings.py, from disk
    assert not cache_dir.exists()  # kept in memory, not written after each run
    assert memory.cache is not None
    summarized.clear()

    edited = StdinText("app/views.py", (VIEWS + "\n# edited\n").encode())
    second = run_check(
        [root],
        config=config,
        cwd=root,
        jobs=1,
        cache_dir=cache_dir,
        buffers=[edited],
        memory=memory,
    )
    assert summarized == ["app/views.py"]
    assert second.stats.summarized == 0
    assert second.stats.cached == 2
    summarized.clear()

    again = run_check(
        [root],
        config=config,
        cwd=root,
        jobs=1,
        cache_dir=cache_dir,
        buffers=[edited],
        memory=memory,
    )
    assert summarized == []  # the same text: its summary is remembered
    assert again.findings == second.findings

    memory.save()
    assert len(list(cache_dir.glob("check-*.json"))) == 1


def test_a_buffer_equal_to_the_file_reuses_the_files_cached_summary(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(PROJECT)
    config = Config(root=root)
    run_check([root], config=config, cwd=root, jobs=1)  # fills the cache on disk
    summarized: list[str] = []
    real = _worker.summarize_source

    def counting(source: object, job: _worker.Job) -> object:
        summarized.append(job.path)
        return real(source, job)  # type: ignore[arg-type]

    monkeypatch.setattr("unstall.check._runner.summarize_source", counting)
    buffers = [StdinText("app/views.py", VIEWS.encode())]
    result = run_check([root], config=config, cwd=root, jobs=1, buffers=buffers)
    assert summarized == []
    assert _paths(result.findings) == ["app/views.py"]
