"""unstall's concurrency rules next to the peer checks for the same bugs, on the same real code.

Usage::

    .venv/bin/python benchmarks/concurrency_peers.py [--work DIR] [--project NAME ...]
        [--timeout SECONDS] [--jobs N] [--pyright PATH] [--show-only N]

Checks the pinned releases of ``precision/score.py`` (downloaded and unpacked once into
``--work``, default: a folder in the system temp dir) with:

- unstall: UNS302 (task reference dropped) and UNS303 (coroutine never awaited), all tiers
  (``--frequency all``), with this checkout's ``src`` first on the path;
- ruff: RUF006 (asyncio dangling task), ``ruff check --select RUF006 --no-cache``;
- mypy: errors with code ``unused-coroutine`` (``--ignore-missing-imports
  --follow-imports=silent``, on the unpacked project folder), once as configured by default and
  once with ``--check-untyped-defs`` (by default mypy does not check the body of a function
  without annotations, where most of these calls are);
- pyright: ``reportUnusedCoroutine`` diagnostics, when a ``pyright`` command is found (it
  needs node; ``pip install pyright`` fetches a node runtime when none is installed).

A dropped task is compared with RUF006, a dropped coroutine with mypy and pyright. Findings are
matched by path and line. Printed per project and in total: unstall's UNS302 and UNS303 counts;
of those present in ``precision/judged/<project>.tsv``, how many were judged true (``true/
judged``); each peer's count; and the overlap of each peer with the matching unstall rule as
``both / peer only / unstall only``. A mypy or pyright run that exceeds ``--timeout`` (or fails)
is marked in the table and left out of the totals. ``--show-only N`` lists up to N locations per
project that only a peer found, to read by hand.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "precision"))

import score  # noqa: E402  (the pinned releases and their download live there)

BIN = Path(sys.executable).parent
MYPY_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): error: .*\[unused-coroutine\]$")

Location = tuple[str, int]  # (path relative to the project folder, line)


@dataclass(frozen=True, slots=True)
class PeerRun:
    """The lines a peer reported, or why it reported none."""

    found: frozenset[Location] = frozenset()
    failure: str | None = None  # "timeout", "error: ..." or "not run"


@dataclass(slots=True)
class ProjectResult:
    """Everything measured on one project."""

    name: str
    unstall: dict[str, set[Location]] = field(default_factory=dict)
    judged: dict[str, tuple[int, int]] = field(default_factory=dict)  # code -> (true, judged)
    peers: dict[str, PeerRun] = field(default_factory=dict)


# peer -> the unstall rule that looks for the same bug
PAIRS = {
    "ruff RUF006": "UNS302",
    "mypy": "UNS303",
    "mypy untyped-defs": "UNS303",
    "pyright": "UNS303",
}


def relative(path: str, folder: Path) -> str:
    p = Path(path)
    return (p if p.is_absolute() else folder / p).resolve().relative_to(folder.resolve()).as_posix()


def run_unstall(folder: Path) -> dict[str, set[Location]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "unstall",
            "check",
            "--no-cache",
            "--frequency",
            "all",
            "--format",
            "json",
            "--exit-zero",
            "--select",
            "UNS302,UNS303",
            ".",
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        check=True,
    )
    found: dict[str, set[Location]] = {"UNS302": set(), "UNS303": set()}
    for f in json.loads(out.stdout)["findings"]:
        if f["code"] in found:
            found[f["code"]].add((relative(f["path"], folder), f["line"]))
    return found


def run_ruff(folder: Path) -> PeerRun:
    out = subprocess.run(
        [
            str(BIN / "ruff"),
            "check",
            "--select",
            "RUF006",
            "--output-format",
            "json",
            "--no-cache",
            "--exit-zero",
            ".",
        ],
        capture_output=True,
        text=True,
        cwd=folder,
    )
    if out.returncode != 0:
        return PeerRun(failure=f"error: {out.stderr.strip().splitlines()[-1:]}")
    return PeerRun(
        frozenset(
            (relative(d["filename"], folder), d["location"]["row"])
            for d in json.loads(out.stdout)
            if d["code"] == "RUF006"
        )
    )


def run_mypy(folder: Path, work: Path, timeout: float, *, untyped_defs: bool) -> PeerRun:
    cache = work / "_mypy_cache" / (folder.name + ("-untyped-defs" if untyped_defs else ""))
    try:
        out = subprocess.run(
            [
                str(BIN / "mypy"),
                "--ignore-missing-imports",
                "--follow-imports=silent",
                "--no-error-summary",
                "--show-error-codes",
                *(["--check-untyped-defs"] if untyped_defs else []),
                "--cache-dir",
                str(cache),
                ".",
            ],
            capture_output=True,
            text=True,
            cwd=folder,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return PeerRun(failure="timeout")
    if out.returncode == 2:  # mypy stopped before checking (duplicate module, bad config)
        reason = (out.stderr or out.stdout).strip().splitlines()[:1]
        return PeerRun(failure=f"error: {reason[0] if reason else 'exit 2'}")
    found = set()
    for line in out.stdout.splitlines():
        m = MYPY_LINE.match(line)
        if m:
            found.add((relative(m["path"], folder), int(m["line"])))
    return PeerRun(frozenset(found))


def run_pyright(pyright: str | None, folder: Path, timeout: float) -> PeerRun:
    if pyright is None:
        return PeerRun(failure="not run")
    try:
        out = subprocess.run(
            [pyright, "--outputjson", "."],
            capture_output=True,
            text=True,
            cwd=folder,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return PeerRun(failure="timeout")
    try:
        report = json.loads(out.stdout)
    except json.JSONDecodeError:
        return PeerRun(failure=f"error: exit {out.returncode}")
    return PeerRun(
        frozenset(
            (relative(d["file"], folder), d["range"]["start"]["line"] + 1)
            for d in report["generalDiagnostics"]
            if d.get("rule") == "reportUnusedCoroutine"
        )
    )


def judged_true(project: str, found: dict[str, set[Location]]) -> dict[str, tuple[int, int]]:
    """code -> (judged true, judged) over the findings found now that were judged by hand."""
    verdicts = {}
    with open(HERE / "precision" / "judged" / f"{project}.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            path, _, line = row["path:line"].rpartition(":")
            verdicts[(row["code"], path, int(line))] = row["verdict"]
    out = {}
    for code, locations in found.items():
        seen = [verdicts[(code, *loc)] for loc in locations if (code, *loc) in verdicts]
        out[code] = (seen.count("true"), len(seen))
    return out


def measure(
    project: str, requirement: str, work: Path, timeout: float, pyright: str | None
) -> ProjectResult:
    folder = score.fetch(project, requirement, work)
    result = ProjectResult(project)
    result.unstall = run_unstall(folder)
    result.judged = judged_true(project, result.unstall)
    result.peers["ruff RUF006"] = run_ruff(folder)
    result.peers["mypy"] = run_mypy(folder, work, timeout, untyped_defs=False)
    result.peers["mypy untyped-defs"] = run_mypy(folder, work, timeout, untyped_defs=True)
    result.peers["pyright"] = run_pyright(pyright, folder, timeout)
    return result


def overlap(peer: PeerRun, ours: set[Location]) -> tuple[int, int, int]:
    return (len(peer.found & ours), len(peer.found - ours), len(ours - peer.found))


def peer_cells(peer: PeerRun, ours: set[Location]) -> list[str]:
    if peer.failure is not None:
        return [peer.failure, "-"]
    both, peer_only, ours_only = overlap(peer, ours)
    return [str(len(peer.found)), f"{both} / {peer_only} / {ours_only}"]


def print_table(results: list[ProjectResult], peers: list[str]) -> None:
    header = ["project", "UNS302", "UNS303", "judged true 302", "judged true 303"]
    for name in peers:
        header += [name, f"vs {PAIRS[name]}: both / {name} only / unstall only"]
    print("| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (len(header) - 1))
    total: collections.Counter[str] = collections.Counter()
    skipped: collections.Counter[str] = collections.Counter()
    for r in results:
        cells = [r.name, str(len(r.unstall["UNS302"])), str(len(r.unstall["UNS303"]))]
        for code in ("UNS302", "UNS303"):
            true, seen = r.judged[code]
            cells.append(f"{true}/{seen}")
            total[f"{code} true"] += true
            total[f"{code} judged"] += seen
            total[code] += len(r.unstall[code])
        for name in peers:
            peer, ours = r.peers[name], r.unstall[PAIRS[name]]
            cells += peer_cells(peer, ours)
            if peer.failure is not None:
                skipped[name] += 1
                continue
            both, peer_only, ours_only = overlap(peer, ours)
            total[name] += len(peer.found)
            total[f"{name} both"] += both
            total[f"{name} peer"] += peer_only
            total[f"{name} ours"] += ours_only
        print("| " + " | ".join(cells) + " |")
    cells = [
        "**all**",
        str(total["UNS302"]),
        str(total["UNS303"]),
        f"{total['UNS302 true']}/{total['UNS302 judged']}",
        f"{total['UNS303 true']}/{total['UNS303 judged']}",
    ]
    for name in peers:
        note = f" ({skipped[name]} not run)" if skipped[name] else ""
        cells += [
            f"{total[name]}{note}",
            f"{total[name + ' both']} / {total[name + ' peer']} / {total[name + ' ours']}",
        ]
    print("| " + " | ".join(cells) + " |")


def print_peer_only(results: list[ProjectResult], peers: list[str], limit: int) -> None:
    print("\nlocations only a peer found (to read by hand):")
    for r in results:
        for name in peers:
            ours = r.unstall[PAIRS[name]]
            only = sorted(r.peers[name].found - ours)
            for path, line in only[:limit]:
                print(f"  {r.name} {name}: {path}:{line}")
            if len(only) > limit:
                print(f"  {r.name} {name}: ... {len(only) - limit} more")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "unstall-precision"
    )
    parser.add_argument("--project", action="append", choices=sorted(score.PROJECTS))
    parser.add_argument(
        "--timeout", type=float, default=300, help="cap of each mypy and pyright run, seconds"
    )
    parser.add_argument("--jobs", type=int, default=2, help="projects checked at once")
    parser.add_argument(
        "--pyright", default=shutil.which("pyright"), help="pyright command (default: on PATH)"
    )
    parser.add_argument("--show-only", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    names = args.project or list(score.PROJECTS)
    peers = ["ruff RUF006", "mypy", "mypy untyped-defs"] + (["pyright"] if args.pyright else [])
    if not args.pyright:
        print("pyright: no `pyright` command found (--pyright PATH); left out\n")
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [
            pool.submit(
                measure, name, score.PROJECTS[name][1], args.work, args.timeout, args.pyright
            )
            for name in names
        ]
        results = [f.result() for f in futures]
    print_table(results, peers)
    if args.show_only:
        print_peer_only(results, peers, args.show_only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
