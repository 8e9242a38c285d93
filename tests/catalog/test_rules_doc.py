"""docs/rules.md is the catalog rendered: fresh, complete, and linked from the reports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from unstall.catalog import Entry, default_catalog
from unstall.catalog._docs import fixed_example, render_rules_markdown
from unstall.check._rules_info import rule_infos

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "rules.md"
CATALOG = default_catalog()
EXTRA_CODES = {code: rule.title for code, rule in CATALOG.rules.items()}


def _sections(text: str) -> dict[str, str]:
    parts = text.split("\n## ")
    return {part.split("\n", 1)[0]: part for part in parts[1:]}


def test_docs_rules_md_is_up_to_date() -> None:
    expected = render_rules_markdown(CATALOG)
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/rules.md is stale: run `python scripts/gen_rules_doc.py` and commit the result"
    )


def test_the_script_checks_and_writes(tmp_path: Path) -> None:
    script = ROOT / "scripts" / "gen_rules_doc.py"
    done = subprocess.run(
        [sys.executable, str(script), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_every_rule_has_a_section_with_the_four_parts() -> None:
    sections = _sections(DOC.read_text(encoding="utf-8"))
    codes = [*CATALOG.codes(), *EXTRA_CODES]
    assert [name for name in sections if name.startswith("UNS")] == codes
    for code in codes:
        body = sections[code]
        for heading in (
            "### What it flags",
            "### Why is this bad?",
            "### Example",
            "### Use instead",
        ):
            assert f"\n{heading}\n" in body, (code, heading)
        assert f"(#{code.lower()})" in DOC.read_text(encoding="utf-8")


def test_report_links_point_at_existing_sections() -> None:
    sections = _sections(DOC.read_text(encoding="utf-8"))
    for info in rule_infos(CATALOG).values():
        anchor = info.help_uri.rsplit("#", 1)[1]
        assert anchor.upper() in sections
        assert anchor == info.code.lower()
        assert info.why in sections[info.code]


def test_every_callable_is_listed_under_its_rule() -> None:
    sections = _sections(DOC.read_text(encoding="utf-8"))
    for entry in CATALOG:
        assert f"| `{entry.name}`" in sections[entry.code], entry.name


def test_kind_examples_are_async_functions() -> None:
    sections = _sections(DOC.read_text(encoding="utf-8"))
    for code in CATALOG.codes():
        example = sections[code].split("### Example\n\n```python\n", 1)[1].split("```", 1)[0]
        tree = ast.parse(example)
        assert isinstance(tree.body[-1], ast.AsyncFunctionDef), code


@pytest.mark.parametrize("entry", [e for e in CATALOG if e.fix], ids=lambda e: e.name)
def test_fixed_examples_are_valid_python(entry: Entry) -> None:
    fixed = fixed_example(entry)
    assert fixed is not None
    tree = ast.parse(fixed)
    handler = tree.body[-1]
    assert isinstance(handler, ast.AsyncFunctionDef)
    last = handler.body[-1]
    assert isinstance(last, ast.Expr)
    assert isinstance(last.value, ast.Await)
    if "asyncio." in fixed:
        assert "import asyncio" in fixed
