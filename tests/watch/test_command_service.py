"""``unstall run`` options for services: --html and --metrics are checked before the program starts,
and settings come from UNSTALL_* variables too."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

MARKER = "open('ran.marker', 'w').close()\n"
STALL = """
import asyncio, time
async def main():
    await asyncio.sleep(0.3)
    time.sleep(0.25)  # HTML STALL
    await asyncio.sleep(0.1)
asyncio.run(main())
"""


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "unstall", "run", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_a_bad_html_path_exits_2_before_the_program_starts(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(MARKER)
    done = run("--html", "no/such/report.html", "app.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "--html 'no/such/report.html'" in done.stderr
    assert not (tmp_path / "ran.marker").exists()


def test_a_taken_metrics_port_exits_2_before_the_program_starts(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(MARKER)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("--metrics", f"127.0.0.1:{port}", "app.py", cwd=tmp_path)
    assert done.returncode == 2
    assert f"--metrics '127.0.0.1:{port}': cannot listen there" in done.stderr
    assert not (tmp_path / "ran.marker").exists()
    bad = run("--metrics", "somewhere", "app.py", cwd=tmp_path)
    assert bad.returncode == 2
    assert "HOST:PORT" in bad.stderr


def test_a_bad_variable_exits_2(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(MARKER)
    done = run("app.py", cwd=tmp_path, env={"UNSTALL_THRESHOLD_MS": "soon"})
    assert done.returncode == 2
    assert "UNSTALL_THRESHOLD_MS='soon'" in done.stderr
    assert not (tmp_path / "ran.marker").exists()


def test_the_html_report_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(STALL)
    done = run("app.py", cwd=tmp_path, env={"UNSTALL_HTML": "out.html", "UNSTALL_LOG": "0"})
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "out.html").read_text()
    assert "HTML STALL" in page  # the source excerpt of the stall
    assert "loop stalled" not in done.stderr  # UNSTALL_LOG=0: no log records
    assert "1 stall(s)" in done.stderr
