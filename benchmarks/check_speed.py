"""How fast is ``unstall check`` next to flake8-async and ruff's ASYNC rules, on one large real tree?

Usage::

    .venv/bin/python benchmarks/check_speed.py [--repeats 3] [--work DIR]

The first run creates a benchmark virtualenv in ``--work`` (default: a folder in the
system temp dir) with flake8, flake8-async and ruff, and copies the installed sources of
several async libraries (aiohttp, anyio, httpx, starlette, fastapi, pydantic, ...) into one
tree. Every tool checks that same tree on all cores; each mode runs ``--repeats`` times and
the median is reported, with lines per second and the ratio of each time to flake8-async's
and to ruff's.

Modes: ``unstall cold`` (``--no-cache``), ``unstall warm`` (cache filled, nothing changed),
``flake8-async`` (``flake8 --select ASYNC -j auto``), ``ruff`` (``ruff check --select ASYNC
--no-cache``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

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
    return env, tree


def count_lines(tree: Path) -> tuple[int, int]:
    """Files and lines of Python source under ``tree``."""
    files = lines = 0
    for path in tree.rglob("*.py"):
        files += 1
        with path.open("rb") as handle:
            lines += sum(1 for _ in handle)
    return files, lines


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall seconds of one run; findings (exit code 1) are expected, a crash is not."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(
            f"{command[0]} failed with exit code {result.returncode}:\n{result.stderr[-2000:]}"
        )
    return elapsed


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "unstall-check-bench"
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
    shutil.rmtree(cache, ignore_errors=True)
    timed(modes[("unstall", "warm")], tree, clean_env)  # fills the cache
    times: dict[tuple[str, str], float] = {}
    for key, command in modes.items():
        runs = [timed(command, tree, clean_env) for _ in range(args.repeats)]
        times[key] = statistics.median(runs)

    flake8 = times[("flake8-async", "cold")]
    ruff = times[("ruff", "cold")]
    header = f"{'tool':<14}{'mode':<6}{'seconds':>9}{'lines/s':>12}{'vs flake8-async':>17}{'vs ruff':>10}"
    print(header)
    print("-" * len(header))
    for (tool, mode), seconds in times.items():
        print(
            f"{tool:<14}{mode:<6}{seconds:>9.3f}{lines / seconds:>12,.0f}{seconds / flake8:>16.3f}x{seconds / ruff:>9.2f}x"
        )
    print()
    print(
        f"unstall cold is {flake8 / times[('unstall', 'cold')]:.1f}x faster than flake8-async (goal >= 20x)"
    )
    print(f"unstall warm takes {times[('unstall', 'warm')] / ruff:.2f}x ruff's time (goal <= 3x)")


if __name__ == "__main__":
    main()
