"""The cause label of a stall: CPU-bound, blocked or GC, and the catalog's word on I/O calls."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import types

import pytest
from tests.loops import RunLoop
from tests.waiting import wait_for

from unstall.watch import Cause, Frame, Watcher
from unstall.watch._frames import fix_for, is_io_entry


def test_io_entries_are_told_from_cpu_and_import_entries() -> None:
    assert is_io_entry("builtins.open")
    assert is_io_entry("time.sleep")
    assert is_io_entry("subprocess.run")
    assert not is_io_entry("importlib.import_module")
    assert not is_io_entry("hashlib.pbkdf2_hmac")
    assert not is_io_entry("no.such.callable")
    assert not is_io_entry(None)


def test_page_cached_file_reads_are_blocked_not_cpu(run_loop: RunLoop) -> None:
    # reads served from the page cache keep the thread on a CPU (in system calls), so the CPU
    # clock alone would call this CPU-bound; the samples sit on open(): a thread is the fix
    fd, path = tempfile.mkstemp()
    os.write(fd, b"x" * 65536)
    os.close(fd)

    async def main() -> Watcher:
        with Watcher(threshold_ms=20, log=False) as w:
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            while time.perf_counter() - started < 0.15:
                with open(path, "rb") as fh:
                    fh.read()
            await wait_for(lambda: w.events)
        return w

    try:
        w = run_loop(main())
    finally:
        os.unlink(path)
    assert w.events
    event = max(w.events, key=lambda e: e.duration)
    assert event.duration >= 0.12
    assert event.blamed is not None
    assert "open(path" in event.blamed.source or "fh.read()" in event.blamed.source
    assert event.cause is Cause.BLOCKED


def test_pure_python_work_stays_cpu(run_loop: RunLoop) -> None:
    def spin(seconds: float) -> int:
        n = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            n += sum(range(200))
        return n

    async def main() -> Watcher:
        with Watcher(threshold_ms=20, log=False) as w:
            await asyncio.sleep(0.05)
            spin(0.15)
            await wait_for(lambda: w.events)
        return w

    w = run_loop(main())
    assert len(w.events) == 1
    assert w.events[0].cause is Cause.CPU
    assert not is_io_entry(w.events[0].entry)


def test_a_builtin_called_by_bare_name_is_found_unless_the_module_shadows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = Frame("/app/plain.py", 3, "handler", "app_plain", "data = open(path).read()")
    assert fix_for(plain, None, Cause.CPU)[1] == "builtins.open"
    shadowing = types.ModuleType("app_shadowing")
    shadowing.open = lambda *args: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app_shadowing", shadowing)
    own = Frame("/app/shadowing.py", 3, "handler", "app_shadowing", "data = open(path).read()")
    assert fix_for(own, None, Cause.CPU)[1] is None
