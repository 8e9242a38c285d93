"""How fast is ``unstall check`` next to flake8-async and ruff's ASYNC rules, on one large real tree?

Usage::

    .venv/bin/python benchmarks/check_speed.py [--repeats 3] [--work DIR] [--edit-file REL]

The first run creates a benchmark virtualenv in ``--work`` (default: a folder in the
system temp dir) with flake8, flake8-async and ruff, and copies the installed sources of
several async libraries (aiohttp, anyio, httpx, starlette, fastapi, pydantic, ...) into one
tree. Every tool checks that same tree on all cores; each mode runs ``--repeats`` times and
the median is reported (wall clock, and CPU time: the machine may be shared), with lines per second and the ratio of each time to flake8-async's
and to ruff's.

Modes: ``unstall cold`` (``--no-cache``), ``unstall warm`` (cache filled, nothing changed),
``flake8-async`` (``flake8 --select ASYNC -j auto``), ``ruff`` (``ruff check --select ASYNC
--no-cache``). Then the one-file edit: before each run ``--edit-file`` gets a new ``async def``
that calls ``time.sleep`` (the findings change every time), and ``unstall edit`` re-checks the
tree from the command line with the cache of the earlier runs, ``ruff edit`` with its own
cache; ``server edit`` is the time from an editor's ``textDocument/didChange`` of that file
to the ``publishDiagnostics`` of that version, from ``unstall server`` over stdio (started
with the same cache, the file opened first, no debounce). The edited file is restored at the
end.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import NamedTuple

PACKAGES = (
    "aiohttp",
    "anyio",
    "httpx",
    "httpcore",
    "starlette",
    "fastapi",
    "pydantic",
    "pydantic_core",
    "trio",
    "websockets",
    "redis",
    "aiosqlite",
    "sqlalchemy",
)
# Distribution names to pip install (import names above).
DISTRIBUTIONS = (
    "aiohttp",
    "anyio",
    "httpx",
    "starlette",
    "fastapi",
    "pydantic",
    "trio",
    "websockets",
    "redis",
    "aiosqlite",
    "sqlalchemy",
)
TOOLS = ("flake8", "flake8-async", "ruff")
REPO = Path(__file__).resolve().parent.parent
EDITED = Path("httpx/_client.py")


def _bin(env: Path, name: str) -> Path:
    return env / ("Scripts" if sys.platform == "win32" else "bin") / name


def prepare(work: Path) -> tuple[Path, Path]:
    """Create (once) the benchmark venv and the source tree; return (venv, tree)."""
    env = work / "venv"
    tree = work / "tree"
    if not _bin(env, "flake8").exists():
        venv.EnvBuilder(with_pip=True).create(env)
        subprocess.run(
            [str(_bin(env, "python")), "-m", "pip", "install", "-q", *TOOLS, *DISTRIBUTIONS],
            check=True,
        )
    if not tree.exists():
        purelib = subprocess.run(
            [
                str(_bin(env, "python")),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        staging = work / "tree.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        for name in PACKAGES:
            source = Path(purelib) / name
            if source.is_dir():
                shutil.copytree(
                    source,
                    staging / name,
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"),
                )
        staging.rename(tree)
    marker = tree / "pyproject.toml"
    if not marker.exists():
        # What makes the tree one project to ``unstall server`` (without it, an opened file is
        # checked alone); ruff and flake8 run --isolated, unstall finds no [tool.unstall] in it.
        marker.write_text('[project]\nname = "check-speed-tree"\nversion = "0"\n', encoding="utf-8")
    return env, tree


def count_lines(tree: Path) -> tuple[int, int]:
    """Files and lines of Python source under ``tree``."""
    files = lines = 0
    for path in tree.rglob("*.py"):
        files += 1
        with path.open("rb") as handle:
            lines += sum(1 for _ in handle)
    return files, lines


class Timing(NamedTuple):
    """Seconds of one run: on the wall clock, and of CPU (user and system, its processes'; for
    the server, its checks' worker thread)."""

    wall: float
    cpu: float


def median(runs: list[Timing]) -> Timing:
    """The median wall time and the median CPU time of ``runs``."""
    return Timing(
        statistics.median(run.wall for run in runs), statistics.median(run.cpu for run in runs)
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Timing:
    """The times of one run; findings (exit code 1) are expected, a crash is not."""
    cpu = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(
            f"{command[0]} failed with exit code {result.returncode}:\n{result.stderr[-2000:]}"
        )
    return Timing(elapsed, _children_cpu() - cpu)


def edited(text: str, number: int) -> str:
    """``text`` with one more ``async def`` that blocks: each ``number`` gives another finding."""
    return (
        text
        + f"\n\nimport time as _edit_time\n\n\nasync def _edited_{number}():\n    _edit_time.sleep(1)\n"
    )


def timed_edits(
    command: list[str], cwd: Path, env: dict[str, str], target: Path, repeats: int, first: int
) -> list[Timing]:
    """The times of ``command`` after each of ``repeats`` edits of ``target`` (restored after)."""
    original = target.read_text(encoding="utf-8")
    runs = []
    try:
        for number in range(first, first + repeats):
            target.write_text(edited(original, number), encoding="utf-8")
            runs.append(timed(command, cwd, env))
    finally:
        target.write_text(original, encoding="utf-8")
    return runs


def server_edits(tree: Path, target: Path, env: dict[str, str], repeats: int) -> list[Timing]:
    """Seconds from each ``didChange`` of ``target`` to the diagnostics of that version, in
    ``unstall server`` (no debounce, the summary cache of ``env`` read when the file opens),
    with the CPU time of each check as the server logs it."""
    sys.path.insert(0, str(REPO))  # the tests' LSP client drives the server
    from tests.server.lsp_client import CHECKED_LOG, ROUND_LOG, LspClient

    client = LspClient(("--debounce-ms", "0"), cwd=tree, env=env)
    try:
        client.initialize(tree, {"workspace": {}})
        text = target.read_text(encoding="utf-8")
        uri = client.open(target, text)
        client.diagnostics(uri, timeout=600)
        # the opening round's own log line follows its diagnostics
        client.wait_for_logs(ROUND_LOG, timeout=600)
        opened = len(client.logs())
        latencies = client.edit_latencies(
            uri, (edited(text, number) for number in range(repeats)), timeout=600
        )
        client.wait_for_logs(ROUND_LOG, count=repeats, since=opened, timeout=600)
        cpu = [
            float(found["cpu"])
            for text in client.logs()[opened:]
            if (found := CHECKED_LOG.search(text))
        ]
        client.stop()
    finally:
        client.kill()
    return [Timing(wall, used) for wall, used in zip(latencies, cpu, strict=True)]


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "unstall-check-bench"
    )
    parser.add_argument(
        "--without-flake8",
        action="store_true",
        help="leave out flake8-async (minutes a run on this tree); its column is then empty",
    )
    parser.add_argument(
        "--edit-file", type=Path, default=EDITED, help="the file the edit modes change, in the tree"
    )
    args = parser.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    env, tree = prepare(work)
    files, lines = count_lines(tree)
    cores = os.cpu_count() or 1
    print(f"tree: {tree} ({files} files, {lines} lines); {cores} cores; median of {args.repeats}")

    cache = work / "unstall-cache"
    unstall = [sys.executable, "-m", "unstall", "check", "--format", "json", "--jobs", str(cores)]
    clean_env = {**os.environ, "NO_COLOR": "1"}
    clean_env.pop("UNSTALL_CACHE_DIR", None)
    modes: dict[tuple[str, str], list[str]] = {
        ("flake8-async", "cold"): [
            str(_bin(env, "flake8")),
            "--select",
            "ASYNC",
            "-j",
            "auto",
            "--isolated",
            ".",
        ],
        ("ruff", "cold"): [
            str(_bin(env, "ruff")),
            "check",
            "--select",
            "ASYNC",
            "--no-cache",
            "--isolated",
            "--exit-zero",
            ".",
        ],
        ("unstall", "cold"): [*unstall, "--no-cache", "."],
        ("unstall", "warm"): [*unstall, "--cache-dir", str(cache), "."],
    }
    if args.without_flake8:
        del modes[("flake8-async", "cold")]
    shutil.rmtree(cache, ignore_errors=True)
    timed(modes[("unstall", "warm")], tree, clean_env)  # fills the cache
    times: dict[tuple[str, str], Timing] = {}
    for key, command in modes.items():
        times[key] = median([timed(command, tree, clean_env) for _ in range(args.repeats)])

    target = tree / args.edit_file
    ruff_edit = [*modes[("ruff", "cold")][:4], "--cache-dir", str(work / "ruff-cache")]
    ruff_edit += modes[("ruff", "cold")][5:]
    timed(ruff_edit, tree, clean_env)  # fills ruff's cache
    times[("ruff", "edit")] = median(
        timed_edits(ruff_edit, tree, clean_env, target, args.repeats, 0)
    )
    times[("unstall", "edit")] = median(
        timed_edits(modes[("unstall", "warm")], tree, clean_env, target, args.repeats, 0)
    )
    server_env = {**clean_env, "UNSTALL_CACHE_DIR": str(cache)}
    timed(modes[("unstall", "warm")], tree, clean_env)  # the cache of the restored file
    times[("unstall", "server edit")] = median(
        server_edits(tree, target, server_env, max(args.repeats, 5))
    )

    flake8 = times[("flake8-async", "cold")].wall if ("flake8-async", "cold") in times else None
    ruff = times[("ruff", "cold")].wall
    header = (
        f"{'tool':<14}{'mode':<12}{'seconds':>9}{'CPU s':>9}{'lines/s':>12}"
        f"{'vs flake8-async':>17}{'vs ruff':>10}"
    )
    print(header)
    print("-" * len(header))
    for (tool, mode), (seconds, cpu) in times.items():
        versus = f"{seconds / flake8:>16.3f}x" if flake8 else f"{'-':>17}"
        print(
            f"{tool:<14}{mode:<12}{seconds:>9.3f}{cpu:>9.3f}{lines / seconds:>12,.0f}{versus}"
            f"{seconds / ruff:>9.2f}x"
        )
    print()
    if flake8:
        print(
            f"unstall cold is {flake8 / times[('unstall', 'cold')].wall:.1f}x faster than "
            "flake8-async (goal >= 20x)"
        )
    print(
        f"unstall warm takes {times[('unstall', 'warm')].wall / ruff:.2f}x ruff's time (goal <= 3x)"
    )
    print(
        f"one-file edit of {args.edit_file}: unstall {times[('unstall', 'edit')].wall:.3f} s from "
        f"the command line (goal <= 0.35 s; ruff {times[('ruff', 'edit')].wall:.3f} s), "
        f"{times[('unstall', 'server edit')].wall:.3f} s in the server (goal < 0.2 s)"
    )


if __name__ == "__main__":
    main()
