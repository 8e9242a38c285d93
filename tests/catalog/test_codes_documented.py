"""The rule codes agree everywhere: the catalog, the source, the reports, the docs and the tests.

The catalog is the one home of every rule code. Every code the source emits is in it, every
code in it has a section in the rule reference and is exercised by a test, and the reports and
the configuration know exactly the catalog's codes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from unstall._config import known_codes
from unstall.catalog import BoundaryKind, default_catalog
from unstall.check._rules_info import rule_infos

ROOT = Path(__file__).resolve().parents[2]
CATALOG = default_catalog()
CODE = re.compile(r"\bUNS\d{3}\b")


def _codes_in(paths: list[Path]) -> set[str]:
    return {code for path in paths for code in CODE.findall(path.read_text(encoding="utf-8"))}


def test_the_catalog_holds_every_code_the_source_emits() -> None:
    sources = sorted((ROOT / "src" / "unstall").rglob("*.py"))
    emitted = _codes_in(sources)
    assert emitted  # the walk found the source
    assert emitted <= set(CATALOG.all_codes())


def test_reports_and_configuration_know_exactly_the_catalogs_codes() -> None:
    codes = CATALOG.all_codes()
    assert known_codes() == codes
    assert tuple(rule_infos(CATALOG)) == codes
    assert set(CATALOG.rules).isdisjoint(CATALOG.codes())


def test_every_code_has_a_section_in_the_rule_reference() -> None:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (UNS\d{3})$", text, flags=re.MULTILINE)
    assert sections == list(CATALOG.all_codes())


def test_every_code_is_exercised_by_a_test() -> None:
    cases = sorted((ROOT / "tests" / "check" / "cases").rglob("*.py"))
    expected = {
        code
        for path in cases
        for line in path.read_text(encoding="utf-8").splitlines()
        if (found := re.search(r"#\s*((?:UNS\d{3}\s*)+)$", line))
        for code in found.group(1).split()
    }
    # Every rule of the analysis has an inline expectation in a case file; file problems
    # (UNS9xx) cannot live in a case file and are tested by name in the check's tests.
    analysis = {code for code in CATALOG.all_codes() if not code.startswith("UNS9")}
    assert analysis <= expected
    tests = sorted((ROOT / "tests" / "check").glob("test_*.py"))
    mentioned = _codes_in(tests)
    assert {code for code in CATALOG.all_codes() if code.startswith("UNS9")} <= mentioned
    assert expected <= set(CATALOG.all_codes())


def test_every_boundary_kind_has_rows_and_every_row_explains_itself() -> None:
    for kind in BoundaryKind:
        assert CATALOG.boundary_names(kind), kind
    for row in CATALOG.boundaries:
        assert row.why.endswith(".")
        assert row.why[0].isalnum()


def test_the_catalog_is_the_leaf_package() -> None:
    # Everything else reads the catalog; the catalog reads nothing of the other parts.
    imported: set[str] = set()
    for path in sorted((ROOT / "src" / "unstall" / "catalog").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    ours = {name for name in imported if name.split(".")[0] == "unstall"}
    assert ours
    assert all(name.startswith("unstall.catalog") or name == "unstall.errors" for name in ours), (
        ours
    )
