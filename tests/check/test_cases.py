"""Case files with inline expectations, run through the real ``unstall.check.check``.

Every line that must be flagged ends with a comment naming the codes (``# UNS101`` or
``# UNS103 UNS201``); every other line must not be flagged. A folder under ``cases/`` is one
project (a small package, optionally with a ``pyproject.toml``); a file is a project alone.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from unstall._config import load_config
from unstall.check import Config, check

CASES = Path(__file__).parent / "cases"
EXPECTED = re.compile(r"#\s*((?:UNS\d{3}\s*)+)$")


def expectations(root: Path) -> set[tuple[str, int, str]]:
    """(path relative to ``root``, line, code) for every ``# UNSnnn`` comment under ``root``."""
    found: set[tuple[str, int, str]] = set()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = EXPECTED.search(line)
            if match:
                found.update((relative, number, code) for code in match.group(1).split())
    return found


def run_case(
    source: Path, destination: Path, monkeypatch: pytest.MonkeyPatch
) -> set[tuple[str, int, str]]:
    """Copy a case into ``destination``, check it from there, return the (path, line, code) reported."""
    if source.is_dir():
        shutil.copytree(source, destination, dirs_exist_ok=True)
    else:
        destination.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, destination / source.name)
    monkeypatch.chdir(destination)
    pyproject = destination / "pyproject.toml"
    config = load_config(pyproject) if pyproject.exists() else Config(root=destination)
    result = check(["."], config=config, jobs=1, use_cache=False)
    return {(f.location.path, f.location.line, f.code) for f in result.findings}


CASE_PATHS = sorted(
    path
    for path in CASES.iterdir()
    if path.suffix == ".py" or (path.is_dir() and path.name != "__pycache__")
)


@pytest.mark.parametrize("case", CASE_PATHS, ids=[path.stem for path in CASE_PATHS])
def test_case(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "project"
    reported = run_case(case, root, monkeypatch)
    expected = expectations(root)
    assert expected or case.name.startswith("negative"), "a positive case needs expectations"
    missing = sorted(expected - reported)
    unexpected = sorted(reported - expected)
    assert (missing, unexpected) == ([], []), f"missing={missing} unexpected={unexpected}"
