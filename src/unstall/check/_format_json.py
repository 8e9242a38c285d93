"""Machine reports: the JSON document and GitHub Actions workflow commands.

JSON schema (``"schema": 1``; fields are only ever added)::

    {
      "schema": 1,
      "tool": {"name": "unstall", "version": "0.1.0"},
      "summary": {"files": int, "findings": int, "fixable": int, "by_code": {code: int}},
      "findings": [
        {
          "code": "UNS101", "title": "blocking sleep", "message": str,
          "path": str, "line": int, "col": int, "end_line": int | null, "end_col": int | null,
          "function": str | null, "entry": str | null,
          "chain": [{"name": str, "path": str, "line": int, "col": int, "end_line": ..., "end_col": ...}],
          "fix": str | null, "fix_safe": bool,
          "edits": [{"path": str, "start": [line, col], "end": [line, col], "text": str}],
          "related": [{"path": str, "line": int, "col": int, "end_line": ..., "end_col": ...}],
          "frequency": "every" | "first" | "startup" | "test" | "example", "reason": str | null,
          "more": [[{"name": str, "path": str, "line": int, ...}, ...], ...]
        }
      ]
    }

Lines are 1-based, columns 0-based (as in Python's ``ast``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from unstall import __version__
from unstall.check._format_text import frequency_label
from unstall.check._model import Finding, Location
from unstall.check._rules_info import RuleInfo

__all__ = (
    "escape_github_data",
    "escape_github_property",
    "finding_to_dict",
    "format_github",
    "format_json",
)


def _location(loc: Location) -> dict[str, Any]:
    return {
        "path": loc.path,
        "line": loc.line,
        "col": loc.col,
        "end_line": loc.end_line,
        "end_col": loc.end_col,
    }


def finding_to_dict(finding: Finding, infos: Mapping[str, RuleInfo]) -> dict[str, Any]:
    """One finding as the JSON report's object."""
    info = infos.get(finding.code)
    return {
        "code": finding.code,
        "title": info.title if info else None,
        "message": finding.message,
        **_location(finding.location),
        "function": finding.function,
        "entry": finding.entry,
        "chain": [{"name": step.name, **_location(step.location)} for step in finding.chain],
        "fix": finding.fix,
        "fix_safe": finding.fix_safe,
        "edits": [
            {"path": e.path, "start": list(e.start), "end": list(e.end), "text": e.text}
            for e in finding.edits
        ],
        "related": [_location(location) for location in finding.related],
        "frequency": finding.frequency.value,
        "reason": finding.reason,
        "more": [
            [{"name": step.name, **_location(step.location)} for step in chain]
            for chain in finding.more
        ],
    }


def format_json(findings: Sequence[Finding], infos: Mapping[str, RuleInfo], *, files: int) -> str:
    """The JSON report (see the module docstring for the schema)."""
    document = {
        "schema": 1,
        "tool": {"name": "unstall", "version": __version__},
        "summary": {
            "files": files,
            "findings": len(findings),
            "fixable": sum(1 for finding in findings if finding.edits),
            "by_code": dict(sorted(Counter(finding.code for finding in findings).items())),
            "by_frequency": dict(Counter(finding.frequency.value for finding in findings)),
        },
        "findings": [finding_to_dict(finding, infos) for finding in findings],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def escape_github_data(text: str) -> str:
    """Escape a workflow command's message: ``%``, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_github_property(text: str) -> str:
    """Escape a workflow command's property value: as data, plus ``:`` and ``,``."""
    return escape_github_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: Sequence[Finding]) -> str:
    """One ``::error file=...,line=...::message`` workflow command per finding (GitHub Actions annotations)."""
    out = []
    for finding in findings:
        loc = finding.location
        props = [
            f"file={escape_github_property(loc.path)}",
            f"line={loc.line}",
            f"col={loc.col + 1}",
        ]
        if loc.end_line is not None:
            props.append(f"endLine={loc.end_line}")
        if loc.end_col is not None:
            props.append(f"endColumn={loc.end_col + 1}")
        props.append(f"title={escape_github_property(finding.code)}")
        level = "warning" if finding.code.startswith("UNS9") else "error"
        message = finding.message
        label = frequency_label(finding)
        if label is not None:
            message += f" [{label}]"
        if finding.chain:
            message += "\nvia " + " -> ".join(
                f"{s.name} ({s.location.path}:{s.location.line})" for s in finding.chain
            )
        if finding.fix:
            message += f"\nfix: {finding.fix}"
        out.append(f"::{level} {','.join(props)}::{escape_github_data(message)}")
    return "".join(line + "\n" for line in out)
