"""Source from standard input, checked as a file of its project.

``unstall check --stdin-filename app/handlers.py -`` checks the piped text as
``app/handlers.py`` of the project around that path: the other files come from disk (or
the summary cache), so a chain through ``app/settings.py`` is found as it would be in
``unstall check .``, and only the piped file's findings are reported. Without
``--stdin-filename`` the text has no place in a project and is checked alone.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from unstall._config import Config
from unstall.check._runner import CheckResult, StdinText

__all__ = ("PROJECT_MARKERS", "only_file", "project_folder", "read_stdin")

# What marks a project's top folder when no unstall configuration names one.
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")


def read_stdin(name: str) -> StdinText:
    """All of standard input, as bytes (decoded later like a file: BOM, coding cookie)."""
    buffer: BinaryIO | None = getattr(sys.stdin, "buffer", None)
    data = buffer.read() if buffer is not None else sys.stdin.read().encode("utf-8")
    return StdinText(name, data)


def project_folder(path: Path, config: Config) -> Path | None:
    """The top folder of the project the file at ``path`` (absolute) belongs to, or None.

    The folder of the unstall configuration when one was found, else the nearest folder
    above ``path`` holding one of :data:`PROJECT_MARKERS`.
    """
    if config.source is not None:
        return config.root
    for folder in path.parents:
        if any(os.path.lexists(folder / marker) for marker in PROJECT_MARKERS):
            return folder
    return None


def only_file(result: CheckResult, name: str) -> CheckResult:
    """``result`` narrowed to the file shown as ``name``: its findings (and those that name it among their related places)."""
    findings = tuple(
        finding
        for finding in result.findings
        if finding.location.path == name
        or any(location.path == name for location in finding.related)
    )
    return replace(result, findings=findings, files=(name,))
