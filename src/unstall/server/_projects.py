"""The projects the open documents belong to, checked with the documents' unsaved text.

An open document is a file of the project around it, found as ``unstall check
--stdin-filename`` finds it: the folder of the nearest unstall configuration, else the
nearest folder holding a ``pyproject.toml``, ``setup.py``, ``setup.cfg`` or ``.git``; a file
in none is checked alone. A project is checked as a whole, every open document of it in
place of its file on disk, so a chain through another module (open or not) is found and an
edit of one document can change the findings of another.

Each project keeps a :class:`~unstall.check._runner.Memory` from one check to the next: the
summary cache is read from disk once, files on disk are summarized again only when they
change, and a document only when its text does. Nothing here is thread-safe: the server
calls it from one thread at a time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from unstall._config import Config, load_config
from unstall.check._cache import Cache
from unstall.check._discover import display_path
from unstall.check._runner import CheckResult, Memory, StdinText, run_check
from unstall.check._stdin import project_folder
from unstall.server._text import encoded

__all__ = ("Buffer", "Checked", "Project", "Projects", "contains")

# A folder no cache file can be in (a child of the null device).
_NOWHERE = Path(os.devnull) / "unstall"


class Buffer(NamedTuple):
    """An open document: its URI, the real path of its file, its text and the client's version of it."""

    uri: str
    path: str
    text: str
    version: int | None


@dataclass(frozen=True, slots=True)
class Project:
    """What one check covers: ``folder`` (None: the document alone), the working folder that
    display paths are relative to, and the settings."""

    folder: Path | None
    cwd: Path
    config: Config


class Checked(NamedTuple):
    """One project checked with its open documents: the result, and the wall and CPU seconds
    it took (CPU: this thread's, so other work on a busy machine does not count)."""

    project: Project
    buffers: list[Buffer]
    result: CheckResult
    seconds: float
    cpu_seconds: float


class Projects:
    """The settings of each folder's documents and the memory each project keeps between checks."""

    def __init__(self, *, jobs: int | None = None, use_cache: bool = True) -> None:
        """``jobs``: worker processes of a check that summarizes many files; ``use_cache``:
        read the summary cache from disk (and write it in :meth:`save`); without it,
        summaries are kept in memory only."""
        self.jobs = jobs
        self.use_cache = use_cache
        # The settings that apply to the files of a folder, by folder (read once until reload).
        self._configs: dict[str, Config] = {}
        self._memories: dict[Path, Memory] = {}

    def reload(self) -> None:
        """Forget the settings read (a configuration file changed); summaries are kept."""
        self._configs.clear()

    def project_of(self, path: str) -> Project:
        """The project the file at ``path`` (a real, absolute path) belongs to.

        Raises :class:`~unstall.errors.ConfigError` when its configuration is invalid.
        """
        folder_of_file = os.path.dirname(path)
        config = self._configs.get(folder_of_file)
        if config is None:
            config = load_config(start=Path(path))
            self._configs[folder_of_file] = config
        folder = project_folder(Path(path), config)
        if folder is None:
            return Project(None, Path(folder_of_file), config)
        folder = folder.resolve()
        if config.source is None and config.root != folder:
            # Without a configuration file every file of the project shares the project's
            # root (where the cache lives and globs are relative to).
            config = config.replace(root=folder)
        return Project(folder, folder, config)

    def check(self, project: Project, buffers: Sequence[Buffer]) -> Checked:
        """Check ``project`` with ``buffers`` in place of their files. Raises :class:`~unstall.errors.UnstallError`."""
        started, cpu = time.perf_counter(), time.thread_time()
        cwd = project.cwd
        texts = [
            StdinText(display_path(Path(buffer.path), cwd), encoded(buffer.text))
            for buffer in buffers
        ]
        memory = self._memories.get(cwd)
        if memory is None:
            memory = self._memories[cwd] = Memory()
            if not self.use_cache:
                # Summaries are still kept from one check to the next, in memory only: a
                # cache whose file cannot exist starts empty and is never saved.
                memory.cache = Cache(_NOWHERE, cwd=cwd)
        result = run_check(
            [project.folder] if project.folder is not None else [],
            config=project.config,
            jobs=self.jobs,
            cwd=cwd,
            buffers=texts,
            memory=memory,
        )
        return Checked(
            project,
            list(buffers),
            result,
            time.perf_counter() - started,
            time.thread_time() - cpu,
        )

    def save(self) -> None:
        """Write every project's summary cache to disk (when a check changed it and the cache is used)."""
        if not self.use_cache:
            return
        for memory in self._memories.values():
            memory.save()


def contains(project: Project, paths: Iterable[str]) -> bool:
    """Whether one of ``paths`` (real, absolute) is inside ``project``'s folder."""
    if project.folder is None:
        return False
    top = str(project.folder)
    return any(path == top or path.startswith(top + os.sep) for path in paths)
