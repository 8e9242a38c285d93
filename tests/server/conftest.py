"""Fixtures for the language server tests: a project on disk and a real server process driven over stdio."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

pytest.importorskip("pygls")

from tests.server.lsp_client import LspClient

Project = Callable[[Mapping[str, str]], Path]
Start = Callable[..., LspClient]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """Write files (text is dedented) into a fresh folder and return it."""
    monkeypatch.delenv("UNSTALL_CACHE_DIR", raising=False)
    root = tmp_path / "shop"

    def make(files: Mapping[str, str]) -> Path:
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(content), encoding="utf-8")
        return root

    return make


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Start ``unstall server ARGS`` in a folder; every server started is killed at the end if still running."""
    started: list[LspClient] = []

    def run(*args: str, cwd: Path | None = None) -> LspClient:
        client = LspClient(("--debounce-ms", "20", *args), cwd=cwd or tmp_path)
        started.append(client)
        return client

    yield run
    for client in started:
        client.kill()
