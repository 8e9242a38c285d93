from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
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


def test_the_line_of_c_code_holding_the_gil_is_named_and_backstop_is_still_taken(
    tmp_path: Path,
) -> None:
    script = tmp_path / "cstall.py"
    script.write_text(REGEX_SCRIPT)
    out = tmp_path / "report.json"
    done = _run("--backstop", "--format", "json", "--output", str(out), str(script), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert "C STALL" in json.dumps(report)


# ---- the program's command line is the program's ------------------------------------------------

ARGV_MODULE = """
import json, sys
print("ARGV " + json.dumps({"argv": sys.argv, "path0": sys.path[0], "main": __name__}), flush=True)
"""


def _argv_seen(out: str) -> dict[str, object]:
    line = next(line for line in out.splitlines() if line.startswith("ARGV "))
    seen: dict[str, object] = json.loads(line[5:])
    return seen


def _python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False
    )


PROGRAM_ARGS = [
    ["app:app", "--port", "8000"],
    ["-x", "--help"],
    ["--bind", "127.0.0.1", "0"],
    ["--output", "x.json", "-m", "other", "--threshold-ms", "5"],  # unstall's own option names
    ["--t", "--out"],  # abbreviations of unstall's options, one of them ambiguous
    ["a", "--", "-b", "--"],
    [],
]


@pytest.mark.parametrize("program_args", PROGRAM_ARGS, ids=lambda a: " ".join(a) or "none")
def test_module_gets_the_argv_python_gives_it(tmp_path: Path, program_args: list[str]) -> None:
    (tmp_path / "argvmod.py").write_text(ARGV_MODULE)
    plain = _python("-m", "argvmod", *program_args, cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    watched = _run("--format", "json", "-m", "argvmod", *program_args, cwd=tmp_path)
    assert watched.returncode == 0, watched.stderr
    assert _argv_seen(watched.stdout) == _argv_seen(plain.stdout)
    assert _argv_seen(watched.stdout)["argv"] == [str(tmp_path / "argvmod.py"), *program_args]
    assert '"stalls"' in watched.stderr  # the report, in the format asked for before -m


@pytest.mark.parametrize("program_args", PROGRAM_ARGS, ids=lambda a: " ".join(a) or "none")
def test_script_gets_the_argv_python_gives_it(tmp_path: Path, program_args: list[str]) -> None:
    folder = tmp_path / "real"
    folder.mkdir()
    (folder / "argvapp.py").write_text(ARGV_MODULE)
    (tmp_path / "link.py").symlink_to(folder / "argvapp.py")  # python resolves it for sys.path
    for script in ("real/argvapp.py", "link.py"):
        plain = _python(script, *program_args, cwd=tmp_path)
        assert plain.returncode == 0, plain.stderr
        watched = _run("--tripwire", script, *program_args, cwd=tmp_path)
        assert watched.returncode == 0, watched.stderr
        assert _argv_seen(watched.stdout) == _argv_seen(plain.stdout)
        assert _argv_seen(watched.stdout)["argv"] == [script, *program_args]
        assert _argv_seen(watched.stdout)["path0"] == str(folder)


def test_double_dash_before_the_script_is_python_s(tmp_path: Path) -> None:
    (tmp_path / "argvapp.py").write_text(ARGV_MODULE)
    done = _run("--", "argvapp.py", "--format", "x", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _argv_seen(done.stdout)["argv"] == ["argvapp.py", "--format", "x"]
    assert "stall(s)" in done.stderr  # the report kept its own (default text) format


def test_module_help_reaches_the_module(tmp_path: Path) -> None:
    (tmp_path / "helpmod.py").write_text(
        "import argparse\n"
        "parser = argparse.ArgumentParser(prog='helpmod', description='HELPMOD OWN HELP')\n"
        "parser.add_argument('--port', type=int)\n"
        "parser.parse_args()\n"
    )
    done = _run("-m", "helpmod", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "HELPMOD OWN HELP" in done.stdout
    assert "--threshold-ms" not in done.stdout + done.stderr  # not unstall's help


@pytest.mark.slow
def test_pytest_module_takes_its_own_flags(tmp_path: Path) -> None:
    (tmp_path / "test_two.py").write_text(
        "def test_first():\n    assert False\n\ndef test_second():\n    assert False\n"
    )
    done = _run("-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "test_two.py", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout  # -x reached pytest: it stopped at the first failure
    assert "stall(s)" in done.stderr


def test_http_server_module_serves_with_its_own_bind_option(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello from http.server\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "unstall", "run", "-m", "http.server", "--bind", "127.0.0.1", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"Serving HTTP on 127\.0\.0\.1 port (\d+)", line)
        assert found, line
        url = f"http://127.0.0.1:{found.group(1)}/hello.txt"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.read() == b"hello from http.server\n"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGTERM
    assert "stall(s)" in err


# ---- what cannot start fails at once, as python would, with no report ----------------------------


def test_missing_script_exits_2_with_python_s_message_and_no_report(tmp_path: Path) -> None:
    plain = _python("missing.py", cwd=tmp_path)
    done = _run("missing.py", "--flag", cwd=tmp_path)
    assert (plain.returncode, done.returncode) == (2, 2)
    message = (
        f"can't open file {str(tmp_path / 'missing.py')!r}: [Errno 2] No such file or directory"
    )
    assert message in plain.stderr
    assert done.stderr == f"unstall run: {message}\n"  # no empty report after it
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("module", "message"),
    [
        ("nosuchmod", "No module named nosuchmod"),
        ("json.nosuch", "No module named json.nosuch"),
        (
            "nosuchpkg.sub",
            "Error while finding module specification for 'nosuchpkg.sub' "
            "(ModuleNotFoundError: No module named 'nosuchpkg')",
        ),
        ("pkg", "No module named pkg.__main__; 'pkg' is a package and cannot be directly executed"),
    ],
)
def test_missing_module_exits_1_with_python_s_message_and_no_report(
    tmp_path: Path, module: str, message: str
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    plain = _python("-m", module, cwd=tmp_path)
    done = _run("-m", module, cwd=tmp_path)
    assert (plain.returncode, done.returncode) == (1, 1)
    assert message in plain.stderr
    assert done.stderr == f"unstall run: {message}\n"


MARKER_SCRIPT = """
import pathlib
pathlib.Path("ran.marker").write_text("the program ran")
"""


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("no/such/folder/report.json", "the folder 'no/such/folder' does not exist"),
        ("afile/report.json", "'afile' is not a folder"),
        ("adir", "--output 'adir' is a folder"),
    ],
)
def test_bad_report_path_exits_2_before_the_program_starts(
    tmp_path: Path, output: str, message: str
) -> None:
    (tmp_path / "app.py").write_text(MARKER_SCRIPT)
    (tmp_path / "afile").write_text("")
    (tmp_path / "adir").mkdir()
    done = _run("--output", output, "app.py", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"unstall run: --output {output!r}")
    assert message in done.stderr
    assert not (tmp_path / "ran.marker").exists()
    assert not (tmp_path / output).is_file()


def test_report_path_in_a_read_only_folder_exits_2(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(MARKER_SCRIPT)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    # root writes to any folder whatever its mode; no one creates a file in /proc
    folder = "/proc" if os.geteuid() == 0 else "locked"
    try:
        done = _run("--output", f"{folder}/report.txt", "app.py", cwd=tmp_path)
    finally:
        locked.chmod(0o700)
    assert done.returncode == 2
    assert f"the folder {folder!r} is not writable" in done.stderr
    assert not (tmp_path / "ran.marker").exists()
    assert list(locked.iterdir()) == []


def test_module_options_need_a_module(tmp_path: Path) -> None:
    done = _run("-m", cwd=tmp_path)
    assert done.returncode == 2
    assert "-m needs the name of a module" in done.stderr
