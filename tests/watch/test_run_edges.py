"""``unstall run`` at the edges: thresholds out of range, forked children, a program without stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "unstall", "run", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0.001", "0", "-5", "1e9", "60001"])
def test_a_threshold_out_of_range_exits_2_naming_the_range(tmp_path: Path, value: str) -> None:
    (tmp_path / "app.py").write_text("open('ran.marker', 'w').close()\n")
    done = _run(f"--threshold-ms={value}", "app.py", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"unstall run: --threshold-ms {float(value):g} is invalid")
    assert "from 1 to 60000" in done.stderr
    assert not (tmp_path / "ran.marker").exists()


@pytest.mark.parametrize("value", ["1", "60000"])
def test_the_ends_of_the_range_are_valid(tmp_path: Path, value: str) -> None:
    (tmp_path / "app.py").write_text("pass\n")
    done = _run("--threshold-ms", value, "app.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"threshold {float(value):.0f} ms" in done.stderr


FORKING = """
import asyncio, os, sys, time

async def main(seconds):
    await asyncio.sleep(0.05)
    time.sleep(seconds)
    await asyncio.sleep(0.05)

child = os.fork()
if child == 0:
    asyncio.run(main(0.3))  # CHILD STALL
    sys.exit(0)
os.waitpid(child, 0)
asyncio.run(main(0.2))  # PARENT STALL
print(child)
"""


@pytest.mark.slow
def test_a_forked_child_writes_its_own_report_next_to_the_parents(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(FORKING)
    done = _run("--format", "json", "--output", "report.json", "app.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    child = int(done.stdout.split()[-1])
    parent = json.loads((tmp_path / "report.json").read_text())
    forked = json.loads((tmp_path / f"report.{child}.json").read_text())
    assert [s["count"] for s in parent["sites"]] == [1]
    assert [s["count"] for s in forked["sites"]] == [1]
    assert parent["sites"][0]["max"] < 0.28 < forked["sites"][0]["max"]  # each its own stall


@pytest.mark.parametrize(
    "close",
    ["sys.stderr.close()", "os.close(2)", "sys.stderr = None"],
)
def test_a_program_that_closes_its_stderr_keeps_its_exit_code(tmp_path: Path, close: str) -> None:
    (tmp_path / "app.py").write_text(f"import os, sys\n{close}\nprint('done')\n")
    done = _run("app.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"
    (tmp_path / "three.py").write_text(f"import os, sys\n{close}\nsys.exit(3)\n")
    assert _run("three.py", cwd=tmp_path).returncode == 3
