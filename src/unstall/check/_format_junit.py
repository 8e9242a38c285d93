"""JUnit XML: the test report most CI systems read (GitLab, Jenkins, Azure Pipelines, CircleCI).

One ``<testsuite>`` per file with findings, one failing ``<testcase>`` per finding (its
``file`` and ``line`` attributes link to the code); a clean run is one passing test case, so
the report is never empty. Characters XML cannot hold are written as escapes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from unstall.check._format_text import clean
from unstall.check._model import Finding

__all__ = ("format_junit",)


def _classname(path: str) -> str:
    stem = path.removesuffix(".py").lstrip("/")
    return stem.replace("/", ".") or path


def _details(finding: Finding) -> str:
    loc = finding.location
    lines = [f"{loc.path}:{loc.line}:{loc.col + 1}: {finding.code} {finding.message}"]
    if finding.chain:
        lines.append(
            "via "
            + " -> ".join(f"{s.name} ({s.location.path}:{s.location.line})" for s in finding.chain)
        )
    if finding.fix:
        lines.append(f"fix: {finding.fix}")
    return "\n".join(clean(line) for line in lines)


def format_junit(findings: Sequence[Finding], *, files: int) -> str:
    """The JUnit XML report of ``findings`` from ``files`` checked files."""
    suites = ET.Element(
        "testsuites",
        name="unstall check",
        tests=str(max(len(findings), 1)),
        failures=str(len(findings)),
        errors="0",
    )
    if not findings:
        suite = ET.SubElement(suites, "testsuite", name="unstall check", tests="1", failures="0")
        suite.set("errors", "0")
        case = ET.SubElement(suite, "testcase", name="no problems found", classname="unstall")
        ET.SubElement(case, "system-out").text = f"{files} file{'s' if files != 1 else ''} checked."
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.location.path, []).append(finding)
    for path, found in by_path.items():
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=clean(path),
            tests=str(len(found)),
            failures=str(len(found)),
            errors="0",
        )
        for finding in found:
            loc = finding.location
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"{finding.code} at line {loc.line}, column {loc.col + 1}",
                classname=clean(_classname(path)),
                file=clean(path),
                line=str(loc.line),
            )
            failure = ET.SubElement(
                case, "failure", message=clean(finding.message), type=finding.code
            )
            failure.text = _details(finding)
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
