"""No stall is lost: one that just ended is in report(), one still running is its ``ongoing``."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from tests.loops import RunLoop
from tests.waiting import wait_for, wait_until

from unstall.watch import Cause, Watcher, watch


def test_report_has_a_stall_the_loop_finished_before_it_was_called(run_loop: RunLoop) -> None:
    async def main() -> tuple[int, int]:
        w = watch(threshold_ms=100, log=False)
        await asyncio.sleep(0.05)
        time.sleep(0.3)  # JUST ENDED
        ended = time.perf_counter()
        state = next(iter(w._loops.values()))
        # the heartbeat has told the stall's end once it is due after it; the watchdog may be
        # building the event meanwhile (the first one loads the catalog): report() waits for it
        await wait_for(lambda: state.due > ended, interval=0)
        report = w.report()
        return report.stalls, len(report.ongoing)

    stalls, ongoing = run_loop(main())
    assert (stalls, ongoing) == (1, 0)


def _stalled_loop_in_a_thread(seconds: float) -> tuple[threading.Thread, threading.Event]:
    started = threading.Event()

    def run() -> None:
        async def main() -> None:
            await asyncio.sleep(0.05)
            started.set()
            time.sleep(seconds)  # STILL RUNNING
            await asyncio.sleep(0.05)

        asyncio.run(main())

    thread = threading.Thread(target=run)
    thread.start()
    return thread, started


def test_a_stall_still_running_is_in_the_report_with_its_duration_so_far() -> None:
    w = Watcher(threshold_ms=100, log=False).start()
    thread, started = _stalled_loop_in_a_thread(1.0)
    try:
        assert started.wait(5)
        assert wait_until(lambda: w.report().ongoing)
        time.sleep(0.2)
        report = w.report()
    finally:
        thread.join()
        w.stop()
    [event] = report.ongoing
    assert 0.25 < event.duration < 1.0
    assert event.blamed is not None
    assert "STILL RUNNING" in event.blamed.source
    assert event.cause is Cause.BLOCKED
    assert event.offender is not None
    assert event.offender.function == "sleep"
    assert "stall in progress" in report.render_text()
    assert "STILL RUNNING" in report.render_text()
    assert json.loads(report.to_json())["ongoing"][0]["duration"] == pytest.approx(event.duration)
    assert report.stalls == 0  # not finished: not counted yet
    assert w.stalls == 1  # it finished before the watcher stopped


def test_a_stall_running_when_the_watcher_stops_is_recorded_with_its_duration_so_far() -> None:
    w = Watcher(threshold_ms=100, log=False).start()
    thread, started = _stalled_loop_in_a_thread(1.0)
    try:
        assert started.wait(5)
        assert wait_until(lambda: w.report().ongoing)
        w.stop()
        report = w.report()
    finally:
        thread.join()
    assert report.stalls == 1
    [event] = report.ongoing
    assert event.duration < 0.9
    assert report.sites[0].count == 1
    assert "STILL RUNNING" in report.sites[0].example[-2].source


_LONG_STALL = """
import asyncio, time
async def main():
    await asyncio.sleep(0.05)
    print("ready", flush=True)
    time.sleep(30)  # LONG STALL
asyncio.run(main())
"""


def _start(script: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "unstall", "run", *args, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_sigterm_mid_stall_reports_the_stall_in_progress_and_ends_by_the_signal(
    tmp_path: Path,
) -> None:
    script = tmp_path / "hung.py"
    script.write_text(_LONG_STALL)
    out = tmp_path / "report.json"
    proc = _start(script, "--format", "json", "--output", str(out))
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # half a second into the stall
        began = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        took = time.perf_counter() - began
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGTERM
    assert took < 5
    data = json.loads(out.read_text())
    [ongoing] = data["ongoing"]
    assert ongoing["duration"] > 0.3
    assert "LONG STALL" in ongoing["blamed"]["source"]
    assert data["stalls"] == 1
    assert "LONG STALL" in data["sites"][0]["location"] or "LONG STALL" in json.dumps(
        data["sites"][0]["example"]
    )


@pytest.mark.slow
def test_sigusr1_mid_stall_reports_the_stall_in_progress(tmp_path: Path) -> None:
    script = tmp_path / "hung.py"
    script.write_text(_LONG_STALL)
    proc = _start(script)
    try:
        assert proc.stdout is not None
        assert proc.stderr is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        proc.send_signal(signal.SIGUSR1)
        first = ""
        while "loops:" not in first:
            first += proc.stderr.readline()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "stall in progress" in first
    assert "LONG STALL" in first
    assert "0 stall(s)" in first  # still running, so not counted yet
