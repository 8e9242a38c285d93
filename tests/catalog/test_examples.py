"""``unstall check`` flags every catalog entry's own example, on the example's last line.

All examples go into one temporary project (a module per entry: the example's imports at
module level, the rest inside ``async def handler():``), checked in a single run; each entry
then needs a finding of its rule, naming it, on its module's last line. Findings on earlier
lines are allowed: they set up the receiver, sometimes through another blocking call.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from unstall._config import Config
from unstall.catalog import Entry, default_catalog
from unstall.check import CheckResult, Finding, check

CATALOG = default_catalog()
ENTRIES = CATALOG.entries


def _module_name(index: int) -> str:
    return f"example_{index:03d}.py"


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CheckResult]:
    folder = tmp_path_factory.mktemp("examples")
    for index, entry in enumerate(ENTRIES):
        source = entry.example_module()
        assert source is not None, entry.name
        (folder / _module_name(index)).write_text(source, encoding="utf-8")
    return folder, check([folder], config=Config(root=folder), use_cache=False, jobs=1)


def _findings_in(result: CheckResult, name: str) -> list[Finding]:
    return [finding for finding in result.findings if Path(finding.location.path).name == name]


@pytest.mark.parametrize(
    ("index", "entry"), list(enumerate(ENTRIES)), ids=[e.name for e in ENTRIES]
)
def test_example_is_flagged_on_its_last_line(
    result: tuple[Path, CheckResult], index: int, entry: Entry
) -> None:
    folder, outcome = result
    name = _module_name(index)
    last_line = len((folder / name).read_text(encoding="utf-8").splitlines())
    findings = _findings_in(outcome, name)
    on_last = [(f.code, f.entry) for f in findings if f.location.line == last_line]
    assert (entry.code, entry.name) in on_last, (
        f"no {entry.code} finding for {entry.name!r} on line {last_line} of its example; "
        f"found {[(f.location.line, f.code, f.entry) for f in findings]}"
    )
