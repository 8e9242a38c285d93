from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import pytest
from tests.waiting import wait_until

SCRIPT = """
import asyncio, sys, time
print("argv", sys.argv[1:])

async def main():
    await asyncio.sleep(0.02)
    time.sleep(0.3)  # SCRIPT STALL
    await asyncio.sleep(0.2)

asyncio.run(main())
mode = sys.argv[1] if len(sys.argv) > 1 else ""
if mode == "three":
    sys.exit(3)
if mode == "boom":
    raise ValueError("boom")
"""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "unstall", "run", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_script_argv_exit_codes_and_text_report(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    ok = _run(str(script), "plain", "x", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "argv ['plain', 'x']" in ok.stdout
    assert "SCRIPT STALL" in ok.stderr
    assert re.search(r"app\.py:\d+ \(main\)\s+1\s", ok.stderr)  # the one stall, at its site
    assert _run(str(script), "three", cwd=tmp_path).returncode == 3
    boom = _run(str(script), "boom", cwd=tmp_path)
    assert boom.returncode == 1
    assert "ValueError: boom" in boom.stderr
    assert "runpy" not in boom.stderr  # the traceback starts in the script


def test_json_output_file_and_module(tmp_path: Path) -> None:
    (tmp_path / "stallmod.py").write_text(SCRIPT)
    out = tmp_path / "report.json"
    done = _run(
        "--threshold-ms",
        "50",
        "--format",
        "json",
        "--output",
        str(out),
        "-m",
        "stallmod",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert data["stalls"] >= 1  # a loaded machine may add a lag event of its own
    site = next(s for s in data["sites"] if "stallmod.py" in s["location"])
    assert site["count"] == 1


# the line of a served script that tells the test its stall has been recorded
READY_AFTER_ONE_STALL = (
    "    watcher = unstall.watch()  # the one 'unstall run' started\n"
    "    while not watcher.stalls:\n"
    "        await asyncio.sleep(0.01)\n"
    "    print('ready', flush=True)\n"
)


def _read_lines(stream: IO[str]) -> tuple[list[str], threading.Thread]:
    """The lines of ``stream`` as they come, and the thread reading them until its end.

    A test can wait for a line without blocking on the stream.
    """
    lines: list[str] = []
    # extend appends each line as it is read: the list grows while the process runs
    reader = threading.Thread(target=lines.extend, args=(stream,), daemon=True)
    reader.start()
    return lines, reader


def test_sigusr1_prints_the_report_so_far(tmp_path: Path) -> None:
    script = tmp_path / "server.py"
    script.write_text(
        "import asyncio, time, unstall\n"
        "async def main():\n"
        "    await asyncio.sleep(0.02)\n"
        "    time.sleep(0.12)  # EARLY STALL\n"
        f"{READY_AFTER_ONE_STALL}"
        "    await asyncio.sleep(30)\n"
        "asyncio.run(main())\n"
    )
    env = dict(os.environ)
    # A shell's background jobs start with SIGINT ignored, and an ignored SIGINT stays ignored
    # in Python: reset it, as for a program started from a terminal, then exec the command.
    launcher = (
        "import os, signal, sys\n"
        "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
        "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", launcher, "-m", "unstall", "run", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stderr is not None
            errors, reader = _read_lines(proc.stderr)
            assert proc.stdout.readline().strip() == "ready"
            proc.send_signal(signal.SIGUSR1)
            assert wait_until(lambda: any("stall(s)" in line for line in errors))  # the report
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
            reader.join(30)
            err = "".join(errors)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == -signal.SIGINT, err  # as the plain program would end
    assert "KeyboardInterrupt" in err
    assert err.count("EARLY STALL") >= 2  # once on SIGUSR1, once at exit


def test_sigterm_writes_the_report_and_ends_the_process_by_the_signal(tmp_path: Path) -> None:
    script = tmp_path / "server.py"
    script.write_text(
        "import asyncio, time, unstall\n"
        "async def main():\n"
        "    await asyncio.sleep(0.02)\n"
        "    time.sleep(0.3)  # TERM STALL\n"
        f"{READY_AFTER_ONE_STALL}"
        "    await asyncio.sleep(30)\n"
        "asyncio.run(main())\n"
    )
    out = tmp_path / "report.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "unstall",
            "run",
            "--format",
            "json",
            "--output",
            str(out),
            str(script),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGTERM
    data = json.loads(out.read_text())
    assert data["stalls"] >= 1
    assert "TERM STALL" in json.dumps(data["sites"])


@pytest.mark.slow
def test_settings_come_from_pyproject_and_flags_override_them(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.unstall.watch]\nthreshold-ms = 2000\n")
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    quiet = _run(str(script), cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "0 stall(s)" in quiet.stderr
    assert "threshold 2000 ms" in quiet.stderr
    loud = _run("--threshold-ms", "100", str(script), cwd=tmp_path)
    assert re.search(r"app\.py:\d+ \(main\)\s+1\s", loud.stderr)


def test_usage_and_configuration_errors_exit_2(tmp_path: Path) -> None:
    assert _run(cwd=tmp_path).returncode == 2
    (tmp_path / "pyproject.toml").write_text("[tool.unstall.watch]\nthreshold-ms = -5\n")
    bad = _run("app.py", cwd=tmp_path)
    assert bad.returncode == 2
    assert "threshold-ms" in bad.stderr


REGEX_SCRIPT = """
import asyncio, re

async def main():
    await asyncio.sleep(0.05)
    re.match(r"(a+)+$", "a" * 24 + "b")  # C STALL
    await asyncio.sleep(0.2)

asyncio.run(main())
"""


def test_backstop_flag_names_the_line_of_c_code_holding_the_gil(tmp_path: Path) -> None:
    script = tmp_path / "cstall.py"
    script.write_text(REGEX_SCRIPT)
    out = tmp_path / "report.json"
    done = _run("--backstop", "--format", "json", "--output", str(out), str(script), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert "C STALL" in json.dumps(report)
