"""Stalls in C code that holds the GIL, seen by the sentinel: the line, the C function, the thread.

Real loops (asyncio and uvloop), real threads, a real helper process and real signals.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.loops import RunLoop
from tests.waiting import wait_for

import unstall
from unstall.watch import Cause, StallEvent, Watcher, watch
from unstall.watch import _sentinel as sentinel_module
from unstall.watch._sentinel import parse_stack

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the sentinel needs Linux (/proc, timerfd)"
)

# backtracks for a few hundred milliseconds in C, holding the GIL, checking no signal
SLOW_PATTERN = r"(a+)+$"
SLOW_TEXT = "a" * 24 + "b"


def _parse(text: str) -> bool:
    return re.match(SLOW_PATTERN, text) is not None  # WORKER LINE


async def _sentinel_ready() -> None:
    """Wait until the helper runs (a Python process takes a moment to start)."""
    assert await wait_for(lambda: sentinel_module._shared.ready, timeout=30)


def _sentinel_running() -> bool:
    return sentinel_module._shared.running


def _caught_signals() -> int:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("SigCgt:"))
    return int(line.split()[1], 16)


def _open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


@pytest.fixture
def no_sentinel_running() -> Iterator[None]:
    assert not _sentinel_running(), "a sentinel left running by an earlier test"
    yield
    assert not _sentinel_running()


def test_the_process_has_one_sentinel_and_it_leaves_nothing_behind(
    no_sentinel_running: None,
) -> None:
    fds = _open_fds()
    first = sentinel_module.acquire()
    second = sentinel_module.acquire()
    assert first is not None
    assert first is second
    proc = first._proc
    assert proc is not None
    signum = first.signum
    assert signum is not None
    assert _caught_signals() & (1 << (signum - 1))  # faulthandler's handler is in place
    sentinel_module.release()
    assert proc.poll() is None  # one user left
    sentinel_module.release()
    assert proc.poll() is not None  # ended, and reaped
    assert not _caught_signals() & (1 << (signum - 1))  # unregistered once the helper is gone
    assert _open_fds() <= fds


def test_watchers_share_the_sentinel_and_the_last_one_stops_it(
    no_sentinel_running: None,
) -> None:
    with Watcher(threshold_ms=100, log=False), Watcher(threshold_ms=50, log=False):
        assert _sentinel_running()
        helper = sentinel_module._shared._proc
    assert not _sentinel_running()
    assert helper is not None
    assert helper.returncode is not None
    with Watcher(threshold_ms=100, log=False, sentinel=False):
        assert not _sentinel_running()


def _gil_events(w: Watcher, marker: str) -> list[StallEvent]:
    return [e for e in w.events if e.blamed is not None and marker in e.blamed.source]


def test_c_code_holding_the_gil_on_the_loop_is_blamed_on_its_line(run_loop: RunLoop) -> None:
    async def main() -> Watcher:
        w = watch(threshold_ms=100, log=False)
        await _sentinel_ready()
        re.match(SLOW_PATTERN, SLOW_TEXT)  # LOOP REGEX
        await wait_for(lambda: bool(w.events))
        return w

    w = run_loop(main())
    w.stop()
    [event] = _gil_events(w, "LOOP REGEX")
    assert event.cause is Cause.CPU
    assert event.stack_source == "signal"  # the loop thread wrote its own stack, during the stall
    assert event.offender is not None
    assert event.offender.function == "match"
    assert event.gil_thread == ""
    assert "process" in (event.fix or "")


async def _hand_off(how: str) -> None:
    loop = asyncio.get_running_loop()
    if how == "to_thread a C function":
        await asyncio.to_thread(re.match, SLOW_PATTERN, SLOW_TEXT)  # HANDED OFF
    elif how == "to_thread a function":
        await asyncio.to_thread(_parse, SLOW_TEXT)  # HANDED OFF
    elif how == "run_in_executor":
        with concurrent.futures.ThreadPoolExecutor(thread_name_prefix="pool") as pool:
            await loop.run_in_executor(pool, _parse, SLOW_TEXT)  # HANDED OFF
    else:
        await unstall.to_thread(len, "")  # its first call imports the engine: a stall of its own
        await asyncio.sleep(0.2)
        await unstall.to_thread(_parse, SLOW_TEXT)  # HANDED OFF


@pytest.mark.parametrize(
    "how",
    ["to_thread a C function", "to_thread a function", "run_in_executor", "unstall.to_thread"],
)
def test_a_worker_holding_the_gil_is_named_with_the_line_that_handed_it_the_work(
    run_loop: RunLoop, how: str
) -> None:
    async def main() -> Watcher:
        w = watch(threshold_ms=100, log=False)
        await _sentinel_ready()
        await _hand_off(how)
        await wait_for(lambda: bool(w.events))
        return w

    w = run_loop(main())
    w.stop()
    events = _gil_events(w, "HANDED OFF")
    assert len(events) == 1, (how, [(e.cause, e.blamed, e.stack_source) for e in w.events])
    [event] = events
    assert event.cause is Cause.GIL
    assert event.gil_thread
    assert event.gil_thread != threading.current_thread().name
    assert event.stack_source == "signal"
    worker = event.stacks[0]
    assert worker[-1].function == "match"  # the C function it was in
    if how != "to_thread a C function":
        assert any("WORKER LINE" in f.source for f in worker)
    assert event.fix is not None
    assert event.gil_thread in event.fix
    assert "process" in event.fix
    assert w.report().sites[0].location.startswith(__file__)


async def _handing() -> None:
    await unstall.to_thread(_parse, SLOW_TEXT)  # HANDED BACK FIRST


def test_work_handed_back_before_the_heartbeat_runs_is_still_named_by_its_hand_off_line(
    run_loop: RunLoop,
) -> None:
    """The loop waits for the GIL in the middle of its own code while a worker holds it; the
    worker's result is queued before the heartbeat sees the stall, and the engine wakes the
    waiting task (which then finishes) before the heartbeat runs."""

    async def main() -> Watcher:
        w = watch(threshold_ms=100, log=False, iteration_timing=False)  # the heartbeat finds it
        await _sentinel_ready()
        await unstall.to_thread(len, "")  # its first call imports the engine: a stall of its own
        await asyncio.sleep(0.2)
        task = asyncio.create_task(_handing())
        await asyncio.sleep(0)  # it hands the work off
        end = time.perf_counter() + 0.05
        while time.perf_counter() < end:  # the worker takes the GIL from here
            pass
        time.sleep(0.05)  # the worker queues its result before the heartbeat runs
        await wait_for(lambda: task.done() and bool(_gil_events(w, "")))
        return w

    w = run_loop(main())
    w.stop()
    events = [e for e in w.events if e.cause is Cause.GIL]
    assert len(events) == 1, [(e.cause, e.blamed) for e in w.events]
    assert events[0].blamed is not None
    assert "HANDED BACK FIRST" in events[0].blamed.source


def test_an_import_on_the_loop_is_blamed_on_the_import_statement(
    run_loop: RunLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"big_{os.getpid()}_{run_loop.kind}"
    body = "".join(
        f"def f{i}(x):\n    return x * {i} + (x if x > {i} else -{i})\n" for i in range(40000)
    )
    (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)

    async def main() -> Watcher:
        w = watch(threshold_ms=100, log=False)
        await _sentinel_ready()
        __import__(name)  # BIG IMPORT
        await wait_for(lambda: bool(w.events))
        return w

    try:
        w = run_loop(main())
    finally:
        sys.modules.pop(name, None)
    w.stop()
    events = _gil_events(w, "BIG IMPORT")
    assert events, list(w.events)
    event = max(events, key=lambda e: e.duration)
    assert event.entry == "builtins.__import__"
    assert event.offender is not None
    assert (event.offender.module, event.offender.function) == ("builtins", "__import__")
    assert "import at module level" in (event.fix or "")


def test_the_watcher_goes_on_when_its_sentinel_dies(
    run_loop: RunLoop, no_sentinel_running: None
) -> None:
    async def main() -> Watcher:
        w = watch(threshold_ms=100, log=False)
        helper = sentinel_module._shared._proc
        assert helper is not None
        helper.kill()
        helper.wait()
        await asyncio.sleep(0.1)
        re.match(SLOW_PATTERN, SLOW_TEXT)  # AFTER THE SENTINEL DIED
        await wait_for(lambda: bool(w.events))
        return w

    started = time.process_time()
    w = run_loop(main())
    w.stop()
    assert (
        _gil_events(w, "AFTER THE SENTINEL DIED") or w.events
    )  # caught: its line if a sample fell on it
    assert time.process_time() - started < 5  # no thread spun on the closed socket


def test_parse_stack_reads_a_thread_s_own_dump_and_names_its_c_call() -> None:
    lines, first = inspect.getsourcelines(re.match)
    in_re = first + next(i for i, line in enumerate(lines) if ".match(" in line)
    _, in_parse = inspect.getsourcelines(_parse)
    text = (
        "Stack (most recent call first):\n"
        f'  File "{re.__file__}", line {in_re} in match\n'
        f'  File "{__file__}", line {in_parse + 1} in _parse\n'
    )
    stack = parse_stack(text)
    assert [f.function for f in stack] == ["_parse", "match", "match"]
    assert stack[1].module == "re"
    assert stack[-1].filename == "<C>"


# ---- processes: fork, SIGTERM ---------------------------------------------------------------------


_FORK = """
import asyncio, json, os, re, sys
sys.path.insert(0, {root!r})
import unstall
from unstall.watch import _sentinel

def regex():
    re.match(r"(a+)+$", "a" * 23 + "b")  # FORK REGEX

async def main():
    while not _sentinel._shared.ready:  # the child's own sentinel takes a moment to start
        await asyncio.sleep(0.01)
    regex()
    await asyncio.sleep(0.3)

w = unstall.watch(threshold_ms=100, log=False)
pid = os.fork()
asyncio.run(main())
helper = _sentinel._shared._proc.pid
w.stop()
e = max(w.events, key=lambda e: e.duration)
# One write per process: the parent's and the child's lines share the pipe.
line = json.dumps({{"child": pid == 0, "helper": helper, "line": e.blamed.source}}) + "\\n"
os.write(1, line.encode())
if pid:
    os.waitpid(pid, 0)
"""


@pytest.mark.slow
def test_a_forked_child_gets_its_own_sentinel(tmp_path: Path) -> None:
    script = tmp_path / "forking.py"
    script.write_text(_FORK.format(root=str(Path(__file__).resolve().parents[2] / "src")))
    done = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results = sorted((json.loads(line) for line in done.stdout.splitlines()), key=str)
    assert [r["child"] for r in results] == [False, True], done.stdout
    assert results[0]["helper"] != results[1]["helper"]  # the child's own sentinel, up and ready
    assert all("FORK REGEX" in r["line"] for r in results)


_HUNG_IN_C = """
import asyncio, signal, sys
async def main():
    await asyncio.sleep(0.05)
    print("ready", flush=True)
    sum(range(10**12))  # C CODE THAT NEVER LETS GO
asyncio.run(main())
"""

_OWN_HANDLER = """
import asyncio, signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: print("the program's own handler", flush=True))
async def main():
    await asyncio.sleep(0.05)
    print("ready", flush=True)
    time.sleep(3)  # past the bound: the sentinel must leave the program alone
asyncio.run(main())
"""


def _terminate(script: Path, *args: str) -> tuple[int, float, str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "unstall", "run", *args, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        began = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        return proc.returncode, time.perf_counter() - began, out, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_sigterm_ends_a_program_whose_c_code_holds_the_gil(tmp_path: Path) -> None:
    script = tmp_path / "hung.py"
    script.write_text(_HUNG_IN_C)
    code, took, _, err = _terminate(script)
    assert code == -signal.SIGTERM, err  # ended by SIGTERM, as the plain program would be
    assert 1.5 < took < 10  # after the bound the report had to write itself
    assert "did not end within 2 s of SIGTERM" in err
    assert "hung.py:6" in err  # the stall in progress, from the stack the thread wrote


@pytest.mark.slow
def test_a_program_with_its_own_sigterm_handler_keeps_it(tmp_path: Path) -> None:
    script = tmp_path / "own.py"
    script.write_text(_OWN_HANDLER)
    code, took, out, err = _terminate(script)
    assert code == 0, err
    assert "the program's own handler" in out
    assert took > 2.2  # not ended by the sentinel at the bound


def test_no_sentinel_without_the_option(run_loop: RunLoop, no_sentinel_running: None) -> None:
    async def main() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            w = watch(threshold_ms=100, log=False, sentinel=False)
        assert not _sentinel_running()
        w.stop()

    run_loop(main())
