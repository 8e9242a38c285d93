"""How many loop-blocking bugs does ``unstall check`` find, next to ruff's ASYNC rules (and flake8-async)?

Usage::

    .venv/bin/python benchmarks/check_recall.py [--corpus benchmarks/recall_corpus] [--verbose]

The corpus holds one small project per folder, each a reproduction of a common way async code
ends up blocking its event loop. Folders named ``p*`` contain a bug: every line marked
``# expect`` is where the ``async def`` reaches the blocking call (directly, through a sync
helper in the same or another module, a constructor, a property, a generator, a decorator,
an inherited method or an import). Folders named ``n*`` are correct code (offloaded work,
sync-only code, look-alike names) where any finding is a false positive.

Each tool checks each folder on its own (folders reuse module names). A bug counts as found
when the tool reports a finding on an expected line. The table gives recall over the ``p*``
folders and the number of false positives over the ``n*`` folders. The peers run their
blocking-call rules (``ASYNC2xx``), not their style rules. flake8-async is used when it is
installed in the running environment (``pip install flake8-async``); it is skipped otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPECT = re.compile(r"#\s*expect\b")

Hits = set[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class Case:
    """One corpus folder: its name, folder, and the (relative path, line) pairs a tool must flag."""

    name: str
    folder: Path
    expected: frozenset[tuple[str, int]]

    @property
    def buggy(self) -> bool:
        return bool(self.expected)


def load_corpus(root: Path) -> list[Case]:
    cases = []
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        expected = set()
        for file in sorted(folder.rglob("*.py")):
            for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
                if EXPECT.search(line):
                    expected.add((file.relative_to(folder).as_posix(), number))
        cases.append(Case(folder.name, folder, frozenset(expected)))
    return cases


def _bin(name: str) -> str | None:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


def run_unstall(folder: Path) -> Hits:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "unstall",
            "check",
            "--format",
            "json",
            "--no-cache",
            "-j",
            "1",
            ".",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"unstall check failed in {folder}: {proc.stderr}")
    document = json.loads(proc.stdout)
    return {(Path(item["path"]).as_posix(), item["line"]) for item in document["findings"]}


def run_ruff(folder: Path) -> Hits:
    ruff = _bin("ruff")
    assert ruff is not None
    proc = subprocess.run(
        [
            ruff,
            "check",
            "--isolated",
            "--select",
            "ASYNC2",
            "--output-format",
            "json",
            "--no-cache",
            ".",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    return {
        (Path(item["filename"]).relative_to(folder.resolve()).as_posix(), item["location"]["row"])
        for item in json.loads(proc.stdout or "[]")
    }


def run_flake8_async(folder: Path) -> Hits:
    flake8 = _bin("flake8")
    assert flake8 is not None
    proc = subprocess.run(
        [flake8, "--isolated", "--select", "ASYNC2", "--format", "%(path)s:%(row)d", "."],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    hits = set()
    for line in proc.stdout.splitlines():
        path, _, row = line.rpartition(":")
        hits.add((Path(path).as_posix().removeprefix("./"), int(row)))
    return hits


def tools() -> dict[str, Callable[[Path], Hits]]:
    found: dict[str, Callable[[Path], Hits]] = {"unstall check": run_unstall}
    if _bin("ruff"):
        found["ruff ASYNC"] = run_ruff
    try:
        import flake8_async  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        print("flake8-async is not installed here: skipped", file=sys.stderr)
    else:
        if _bin("flake8"):
            found["flake8-async"] = run_flake8_async
    return found


def _status(case: Case, hits: Hits) -> str:
    """``found``/``MISSED`` for a buggy case, ``ok``/``FP`` for a correct one (``+FP`` on extras)."""
    if case.buggy:
        status = "found" if case.expected & hits else "MISSED"
        return status + ("+FP" if hits - case.expected else "")
    return "FP" if hits else "ok"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=HERE / "recall_corpus")
    parser.add_argument("--verbose", action="store_true", help="print every case's result")
    args = parser.parse_args(argv)
    cases = load_corpus(args.corpus)
    buggy = [case for case in cases if case.buggy]
    clean = [case for case in cases if not case.buggy]
    results: dict[str, tuple[int, int, list[str]]] = {}
    for name, run in tools().items():
        found = 0
        false_positives = 0
        missed = []
        for case in cases:
            hits = run(case.folder)
            if case.buggy:
                if case.expected & hits:
                    found += 1
                else:
                    missed.append(case.name)
                false_positives += len(hits - case.expected)
            else:
                false_positives += len(hits)
            if args.verbose:
                status = _status(case, hits)
                print(
                    f"{name:14} {status:6} {case.name:28} expected={sorted(case.expected)} "
                    f"got={sorted(hits)}"
                )
        results[name] = (found, false_positives, missed)
    print(f"corpus: {len(buggy)} buggy projects, {len(clean)} correct ones ({args.corpus})")
    print()
    print(f"| {'tool':14} | {'bugs found':>10} | {'recall':>6} | {'false positives':>15} |")
    print(f"|{'-' * 16}|{'-' * 12}|{'-' * 8}|{'-' * 17}|")
    for name, (found, false_positives, _missed) in results.items():
        recall = found / len(buggy) if buggy else 0.0
        print(
            f"| {name:14} | {found:>4} / {len(buggy):<3} | {recall:>6.0%} | {false_positives:>15} |"
        )
    print()
    for name, (_found, _fp, missed) in results.items():
        if missed:
            print(f"{name} missed: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
