"""GitLab's code quality report: a JSON array GitLab shows in merge requests.

Each finding is one issue with ``description``, ``check_name``, a stable ``fingerprint``,
``severity`` and ``location`` (``path`` relative to the repository, ``lines.begin``). In GitLab
CI, paths are made relative to ``$CI_PROJECT_DIR``, so a check run from a subfolder still
points at the right files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from unstall.check._fingerprint import fingerprints
from unstall.check._model import Finding

__all__ = ("format_gitlab",)


def _path(path: str, cwd: Path, project: Path | None) -> str:
    if project is None:
        return path
    absolute = Path(os.path.normpath(cwd / path))
    try:
        return absolute.relative_to(project).as_posix()
    except ValueError:
        return path


def _body(finding: Finding) -> str:
    parts = []
    if finding.chain:
        parts.append(
            "via "
            + " -> ".join(f"{s.name} ({s.location.path}:{s.location.line})" for s in finding.chain)
        )
    if finding.fix:
        parts.append(f"fix: {finding.fix}")
    return "\n\n".join(parts)


def format_gitlab(findings: Sequence[Finding], *, cwd: Path, project: Path | None = None) -> str:
    """The code quality report; ``project`` (default ``$CI_PROJECT_DIR``) is the folder paths are relative to."""
    if project is None and os.environ.get("CI_PROJECT_DIR"):
        project = Path(os.environ["CI_PROJECT_DIR"]).resolve()
    issues: list[dict[str, Any]] = []
    for finding, fingerprint in zip(findings, fingerprints(findings), strict=True):
        loc = finding.location
        problem = finding.code.startswith("UNS9")
        issue: dict[str, Any] = {
            "type": "issue",
            "description": f"{finding.code} {finding.message}",
            "check_name": finding.code,
            "fingerprint": fingerprint,
            "severity": "minor" if problem else "major",
            "categories": ["Bug Risk"] if problem else ["Performance"],
            "location": {
                "path": _path(loc.path, cwd, project),
                "lines": {"begin": loc.line, "end": max(loc.end_line or loc.line, loc.line)},
            },
        }
        body = _body(finding)
        if body:
            issue["content"] = {"body": body}
        issues.append(issue)
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
