"""How many of flake8-async's own expectations for its blocking-call rules does ``unstall check`` meet?

Usage::

    .venv/bin/python benchmarks/check_flake8_async_evals.py [--sdist PATH] [--verbose]

flake8-async ships its test suite in its source distribution: ``tests/eval_files/*.py`` are
small modules whose lines carry the rule each must raise (``# ASYNC210: 4, 'requests.get'``).
This script downloads that sdist from PyPI (or reads ``--sdist``), takes the eval files of the
blocking-call rules (ASYNC210-ASYNC251), binds the modules they name but do not import (the
files use ``httpx.Client()`` under ``# type: ignore`` without ``import httpx``) by adding the
import on the first line, runs ``unstall check`` over them, and counts the annotated lines that
``unstall`` flags (any code, on that line), per rule and in all. Lines it flags that carry no
annotation are listed with ``--verbose``: some are blocking calls the file does not annotate for
the rule it tests, which a reader judges.

Nothing of flake8-async is kept: the files live in a temporary folder for the run.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

RULES = re.compile(r"async2[1-5]\w*\.py$")
ANNOTATION = re.compile(r"#\s*(ASYNC2\d\d)(?:_\w+)?\s*:")
# Module names the eval files use without importing them.
BINDABLE = {
    "httpx",
    "httpx2",
    "requests",
    "urllib3",
    "urllib",
    "os",
    "subprocess",
    "time",
    "io",
    "pathlib",
    "trio",
    "anyio",
    "asyncio",
    "socket",
    "threading",
}


def _sdist(given: Path | None, work: Path) -> Path:
    if given is not None:
        return given
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "flake8-async",
            "-d",
            str(work),
        ],
        check=True,
    )
    return next(work.glob("flake8_async-*.tar.gz"))


def _extract(sdist: Path, into: Path) -> list[Path]:
    files = []
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            name = Path(member.name)
            if member.isfile() and name.parent.name == "eval_files" and RULES.search(name.name):
                handle = archive.extractfile(member)
                assert handle is not None
                target = into / name.name
                target.write_bytes(handle.read())
                files.append(target)
    return sorted(files)


def _bind(path: Path) -> int:
    """Add ``import X`` for each bindable module the file uses without binding it; return how many."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bound.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            bound.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    used = {
        node.value.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
    }
    missing = sorted((used - bound) & BINDABLE)
    if missing:
        # One line, so every annotated line number moves by one, which the count undoes.
        path.write_text("import " + ", ".join(missing) + "\n" + text, encoding="utf-8")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, help="a flake8-async sdist (.tar.gz) already on disk")
    parser.add_argument("--verbose", action="store_true", help="list every missed and extra line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        files = _extract(_sdist(args.sdist, work), work / "project")
        if not files:
            raise SystemExit("no eval files for ASYNC210-251 found in the sdist")
        shift = {path.name: _bind(path) for path in files}
        expected: dict[tuple[str, int], set[str]] = {}
        for path in files:
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, start=1):
                codes = set(ANNOTATION.findall(line))
                if codes:
                    expected[path.name, number - shift[path.name]] = codes
        done = subprocess.run(
            [sys.executable, "-m", "unstall", "check", "--no-cache", "--format", "json", "."],
            cwd=work / "project",
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode not in (0, 1):
            raise SystemExit(f"unstall check failed ({done.returncode}): {done.stderr}")
        flagged: set[tuple[str, int]] = set()
        for finding in json.loads(done.stdout)["findings"]:
            name = Path(finding["path"]).name
            flagged.add((name, finding["line"] - shift.get(name, 0)))
    per_rule: Counter[str] = Counter()
    found_rule: Counter[str] = Counter()
    missed = []
    for place, codes in sorted(expected.items()):
        for code in codes:
            per_rule[code] += 1
            if place in flagged:
                found_rule[code] += 1
            else:
                missed.append((place, code))
    extra = sorted(place for place in flagged if place not in expected)
    print(f"{'rule':<10} {'annotated':>9} {'found':>6} {'share':>7}")
    for code in sorted(per_rule):
        share = found_rule[code] / per_rule[code]
        print(f"{code:<10} {per_rule[code]:>9} {found_rule[code]:>6} {share:>7.0%}")
    total, hit = sum(per_rule.values()), sum(found_rule.values())
    print(f"{'all':<10} {total:>9} {hit:>6} {hit / total:>7.0%}")
    print(f"lines flagged without an annotation: {len(extra)}")
    if args.verbose:
        for (name, line), code in missed:
            print(f"missed  {name}:{line} {code}")
        for name, line in extra:
            print(f"extra   {name}:{line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
