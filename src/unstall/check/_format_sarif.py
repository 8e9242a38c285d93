"""SARIF 2.1.0 report: one run, the rules from the catalog's kinds, results with chains and fixes.

Each result carries ``partialFingerprints["unstall/v1"]`` (see ``_fingerprint``: stable when
lines move, so code scanning keeps tracking a finding across commits); the run carries
``automationDetails.id`` (``unstall/``: the category GitHub files it under, unless the upload
names another) and one invocation saying whether the analysis completed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from unstall import __version__
from unstall.check._fingerprint import fingerprints
from unstall.check._model import Finding, Location
from unstall.check._rules_info import PROJECT_URL, RuleInfo

__all__ = ("AUTOMATION_ID", "FINGERPRINT_KEY", "format_sarif", "sarif_document")

_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_BASE = "%SRCROOT%"
FINGERPRINT_KEY = "unstall/v1"
AUTOMATION_ID = "unstall/"


def _artifact(path: str) -> dict[str, Any]:
    candidate = Path(path)
    if candidate.is_absolute():
        return {"uri": candidate.as_uri()}
    return {"uri": candidate.as_posix(), "uriBaseId": _BASE}


def _region(loc: Location) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(loc.line, 1), "startColumn": loc.col + 1}
    if loc.end_line is not None:
        region["endLine"] = max(loc.end_line, region["startLine"])
    if loc.end_col is not None and (loc.end_line is None or loc.end_line >= loc.line):
        region["endColumn"] = loc.end_col + 1
    return region


def _physical(loc: Location) -> dict[str, Any]:
    return {"artifactLocation": _artifact(loc.path), "region": _region(loc)}


def _level(code: str) -> str:
    return "warning" if code.startswith("UNS9") else "error"


def _rule(info: RuleInfo) -> dict[str, Any]:
    return {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": info.why},
        "help": {
            "text": f"{info.why} See {info.help_uri}",
            "markdown": f"{info.why}\n\n[Rule reference]({info.help_uri})",
        },
        "helpUri": info.help_uri,
        "defaultConfiguration": {"level": _level(info.code)},
        "properties": {"tags": ["asyncio", "file" if info.file_problem else "blocking"]},
    }


def _result(finding: Finding, index: Mapping[str, int], fingerprint: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": _level(finding.code),
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": _physical(finding.location)}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    properties: dict[str, Any] = {"frequency": finding.frequency.value}
    if finding.reason:
        properties["frequencyReason"] = finding.reason
    if finding.more:
        properties["moreBlockingCalls"] = [[step.name for step in chain] for chain in finding.more]
    result["properties"] = properties
    if finding.chain:
        result["relatedLocations"] = [
            {
                "id": number,
                "physicalLocation": _physical(step.location),
                "message": {"text": step.name},
            }
            for number, step in enumerate(finding.chain, start=1)
        ]
        flow = [
            {
                "location": {
                    "physicalLocation": _physical(finding.location),
                    "message": {"text": finding.function or "call"},
                }
            }
        ]
        flow.extend(
            {
                "location": {
                    "physicalLocation": _physical(step.location),
                    "message": {"text": step.name},
                }
            }
            for step in finding.chain
        )
        result["codeFlows"] = [{"threadFlows": [{"locations": flow}]}]
    if finding.related:
        start = len(result.get("relatedLocations", ())) + 1
        result.setdefault("relatedLocations", []).extend(
            {
                "id": number,
                "physicalLocation": _physical(location),
                "message": {"text": "also here"},
            }
            for number, location in enumerate(finding.related, start=start)
        )
    if finding.edits:
        by_path: dict[str, list[dict[str, Any]]] = {}
        for edit in finding.edits:
            deleted = {
                "startLine": edit.start[0],
                "startColumn": edit.start[1] + 1,
                "endLine": edit.end[0],
                "endColumn": edit.end[1] + 1,
            }
            by_path.setdefault(edit.path, []).append(
                {"deletedRegion": deleted, "insertedContent": {"text": edit.text}}
            )
        result["fixes"] = [
            {
                "description": {"text": finding.fix or "Apply the suggested rewrite."},
                "artifactChanges": [
                    {"artifactLocation": _artifact(path), "replacements": reps}
                    for path, reps in by_path.items()
                ],
            }
        ]
    if finding.entry:
        properties.update(entry=finding.entry, fixSafe=finding.fix_safe)
    return result


def sarif_document(
    findings: Sequence[Finding],
    infos: Mapping[str, RuleInfo],
    *,
    root: Path,
    successful: bool = True,
) -> dict[str, Any]:
    """The SARIF log as a JSON-ready mapping; relative paths are resolved against ``root`` (``%SRCROOT%``).

    ``successful`` is the invocation's ``executionSuccessful``: whether the analysis ran to
    its end (findings, and files reported as UNS9xx, do not make it fail).
    """
    rules = list(infos.values())
    index = {info.code: number for number, info in enumerate(rules)}
    return {
        "$schema": _SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "unstall",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": PROJECT_URL,
                        "rules": [_rule(info) for info in rules],
                    }
                },
                "automationDetails": {"id": AUTOMATION_ID},
                "invocations": [{"executionSuccessful": successful}],
                "originalUriBaseIds": {_BASE: {"uri": root.resolve().as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": [
                    _result(finding, index, fingerprint)
                    for finding, fingerprint in zip(findings, fingerprints(findings), strict=True)
                ],
            }
        ],
    }


def format_sarif(findings: Sequence[Finding], infos: Mapping[str, RuleInfo], *, root: Path) -> str:
    """The SARIF 2.1.0 log as JSON text."""
    return (
        json.dumps(sarif_document(findings, infos, root=root), indent=2, ensure_ascii=False) + "\n"
    )
