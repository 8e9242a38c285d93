"""How long from an edit to its diagnostics, in ``unstall server`` on a large tree?

Usage::

    .venv/bin/python benchmarks/server_latency.py [--tree DIR] [--file REL] [--edits 10] [--debounce-ms 0,100]

The tree defaults to the one ``benchmarks/check_speed.py`` builds (installed async libraries,
~150k lines); run that once first, or pass ``--tree``. The summary cache is filled first by
``unstall check`` (a cache of its own, in a temporary folder), so the server starts warm, as
it would in a project checked before.

For each debounce setting, one server is started over stdio; ``--file`` (default: the
largest file with an ``async def``) is opened, then edited ``--edits`` times: each edit
appends an ``async def`` that calls ``time.sleep``, so the findings change every time. The
time from sending ``textDocument/didChange`` to receiving the ``publishDiagnostics`` of that
version is measured, with the server's own log of each check: the check itself
(``run_check`` over the project with the buffer) and the whole round on the worker thread
(the check, the conversion to diagnostics, publishing). The rest is the debounce and the
messages' way through the pipes.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the tests' LSP client drives the server here too

from tests.server.lsp_client import CHECKED_LOG, ROUND_LOG, LspClient  # noqa: E402


def _default_tree() -> Path:
    return Path(tempfile.gettempdir()) / "unstall-check-bench" / "tree"


def _pick_file(tree: Path) -> Path:
    candidates = [
        path for path in tree.rglob("*.py") if "async def" in path.read_text(errors="replace")
    ]
    if not candidates:
        raise SystemExit(f"no file with an async def under {tree}")
    return max(candidates, key=lambda path: path.stat().st_size)


def _edit(text: str, number: int) -> str:
    return (
        text
        + f"\n\nimport time as _bench_time\n\n\nasync def _bench_{number}():\n    _bench_time.sleep(1)\n"
    )


def _seconds(logs: list[str], pattern: re.Pattern[str], group: str = "seconds") -> list[float]:
    return [float(match[group]) for text in logs if (match := pattern.search(text))]


def _line(label: str, values: list[float]) -> str:
    if not values:
        return f"  {label:<34} -"
    return (
        f"  {label:<34} median {statistics.median(values):7.3f} s   "
        f"min {min(values):7.3f}   max {max(values):7.3f}   (n={len(values)})"
    )


def measure(tree: Path, target: Path, edits: int, debounce_ms: float, env: dict[str, str]) -> None:
    """One server: open ``target``, edit it ``edits`` times, print the figures."""
    client = LspClient(("--debounce-ms", str(debounce_ms)), cwd=tree, env=env)
    try:
        client.initialize(tree, {"workspace": {}})
        text = target.read_text(encoding="utf-8")
        started = time.perf_counter()
        uri = client.open(target, text)
        client.diagnostics(uri, timeout=600)
        opened = time.perf_counter() - started
        # the round's own log line follows its diagnostics
        client.wait_for_logs(ROUND_LOG, timeout=600)
        after_open = len(client.logs())
        latencies = client.edit_latencies(
            uri, (_edit(text, number) for number in range(edits)), timeout=600
        )
        logs = client.logs()
        code = client.stop()
    finally:
        client.kill()
    opening, editing = logs[:after_open], logs[after_open:]
    first = next((m for text in opening if (m := CHECKED_LOG.search(text))), None)
    if first is not None:
        print(
            f"debounce {debounce_ms:g} ms: open -> diagnostics {opened:.3f} s; its check "
            f"{float(first['seconds']):.3f} s ({float(first['cpu']):.3f} s CPU, the summary "
            f"cache read from disk) over {first['files']} files"
        )
    checks, rounds = _seconds(editing, CHECKED_LOG), _seconds(editing, ROUND_LOG)
    print(_line("edit -> diagnostics", latencies))
    print(_line("  check (run_check, worker thread)", checks))
    print(_line("  check, CPU of the worker thread", _seconds(editing, CHECKED_LOG, "cpu")))
    print(
        _line(
            "  diagnostics, publishing",
            [whole - check for whole, check in zip(rounds, checks, strict=False)],
        )
    )
    print(
        _line(
            "  debounce, pipes, waiting",
            [edit - whole for edit, whole in zip(latencies, rounds, strict=False)],
        )
    )
    if code != 0:
        print(f"  (the server exited with {code})")


def main() -> None:
    """Parse the options, fill the cache, measure each debounce setting."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tree", type=Path, default=_default_tree())
    parser.add_argument("--file", type=Path, default=None, help="relative to --tree")
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--debounce-ms", default="0,100")
    args = parser.parse_args()
    tree = args.tree.resolve()
    if not tree.is_dir():
        raise SystemExit(
            f"the tree {str(tree)!r} does not exist: run benchmarks/check_speed.py once, or pass --tree"
        )
    target = (tree / args.file) if args.file else _pick_file(tree)
    cache = Path(tempfile.mkdtemp(prefix="unstall-server-bench-"))
    env = {"UNSTALL_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    files = sum(1 for _ in tree.rglob("*.py"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"tree: {tree} ({files} files); edited: {target.relative_to(tree)}; "
        f"{os.cpu_count()} cores, load average {load:.1f}"
    )
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "unstall", "check", "--exit-zero", "-s", "."],
        cwd=tree,
        env={**os.environ, **env},
        check=True,
    )
    print(f"cache filled by unstall check in {time.perf_counter() - started:.1f} s")
    for debounce in args.debounce_ms.split(","):
        measure(tree, target, args.edits, float(debounce), {**os.environ, **env})


if __name__ == "__main__":
    main()
