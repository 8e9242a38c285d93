"""``unstall check --watch``: a real process that re-checks on edits and prints what changed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

import pytest
from tests.waiting import wait_until

from unstall.check import ChainStep, Finding, Location
from unstall.check._watch import compare

Project = Callable[[Mapping[str, str | bytes]], Path]
Cli = Callable[..., "subprocess.CompletedProcess[str]"]

CLEAN = "import time\n\n\nasync def handler():\n    return 1\n"
BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


def sleep_at(line: int, path: str = "app.py") -> Finding:
    return Finding(
        "UNS101",
        "`handler` can block the event loop: `time.sleep` (blocking sleep).",
        Location(path, line, 4),
        function="app.handler",
        entry="time.sleep",
        chain=(ChainStep("time.sleep", Location(path, line, 4)),),
    )


def test_moved_lines_are_neither_new_nor_fixed() -> None:
    assert compare([sleep_at(5)], [sleep_at(9)]) == ([], [])
    changes = compare([sleep_at(5)], [sleep_at(5), sleep_at(7)])
    assert changes.new == [sleep_at(7)]
    assert changes.fixed == []
    changes = compare([sleep_at(5), sleep_at(7)], [sleep_at(6)])
    assert (changes.new, changes.fixed) == ([], [sleep_at(7)])
    assert compare([sleep_at(5, "a.py")], [sleep_at(5, "b.py")]) == (
        [sleep_at(5, "b.py")],
        [sleep_at(5, "a.py")],
    )


@pytest.mark.parametrize(
    "extra",
    [["--fix"], ["--diff"], ["--output-format", "json"], ["-o", "r.txt"], ["-"], ["--statistics"]],
)
def test_watch_refuses_what_it_cannot_do(project: Project, cli: Cli, extra: list[str]) -> None:
    project({"app.py": CLEAN})
    result = cli("--watch", *extra)
    assert result.returncode == 2
    assert "--watch" in result.stderr


class Reader:
    """Collects a pipe's text in a thread, so the test can wait on what it says."""

    def __init__(self, pipe: IO[str]) -> None:
        self.text = ""
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[str]) -> None:
        for line in pipe:
            with self._lock:
                self.text += line

    def has(self, needle: str, count: int = 1) -> bool:
        with self._lock:
            return self.text.count(needle) >= count

    def join(self) -> None:
        self._thread.join(timeout=10)


def _write(path: Path, text: str) -> None:
    # Written then renamed over, as editors save: a new inode, so the change is seen even
    # within one tick of a coarse mtime clock.
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_watch_reports_new_and_fixed_findings_and_stops_on_ctrl_c(project: Project) -> None:
    root = project({"app.py": CLEAN, "pkg/__init__.py": "", "pkg/util.py": "x = 1\n"})
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "unstall", "check", "--watch", "--no-show-source", "."],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    out, err = Reader(process.stdout), Reader(process.stderr)
    try:
        assert wait_until(lambda: err.has("Watching for file changes"), timeout=60), err.text
        assert out.has("All checks passed. (3 files checked)")
        _write(root / "app.py", BLOCKING)
        assert wait_until(lambda: out.has("app.py:5:5: UNS101"), timeout=30), (out.text, err.text)
        assert wait_until(lambda: err.has("1 new, 0 fixed"), timeout=30), err.text
        # A new file in a folder that held no checked file yet is seen too.
        (root / "pkg" / "sub").mkdir()
        _write(root / "pkg" / "sub" / "late.py", BLOCKING)
        assert wait_until(lambda: out.has("pkg/sub/late.py:5:5: UNS101"), timeout=30), out.text
        # A bad configuration is reported and watching goes on.
        _write(root / "pyproject.toml", "[tool.unstall]\nselct = []\n")
        assert wait_until(lambda: err.has("tool.unstall.selct"), timeout=30), err.text
        _write(root / "pyproject.toml", "[tool.unstall]\nextend-exclude = ['pkg']\n")
        assert wait_until(lambda: out.has("fixed: pkg/sub/late.py:5:5: UNS101"), timeout=30)
        _write(root / "app.py", CLEAN)
        assert wait_until(lambda: out.has("fixed: app.py:5:5: UNS101"), timeout=30), out.text
        assert wait_until(lambda: err.has("All checks passed."), timeout=30), err.text
        assert out.text.count("app.py:5:5: UNS101") == 2  # reported once new, once fixed
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        out.join()
        err.join()
        process.stdout.close()
        process.stderr.close()
    assert "Traceback" not in err.text
