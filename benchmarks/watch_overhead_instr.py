"""The watcher's overhead counted in instructions: deterministic, so it holds on a noisy machine.

Usage: python benchmarks/watch_overhead_instr.py [--loops asyncio,uvloop]
                                                 [--workloads steps,echo,http]

Wall and CPU time on a small shared virtual machine move by 3-5% between identical runs
(``watch_overhead_ab.py`` shows it), which hides a 1-2% cost. Here every figure is a count of
the instructions the process ran, under valgrind (``cachegrind`` without its cache model),
which is the same from run to run whatever the machine does meanwhile.

Each workload of ``watch_overhead_ab.py`` (``steps``, ``echo``, ``http``) runs in a fresh
process at two sizes, N and 2N units of work; the difference is the cost of N units, with the
interpreter's start, the imports and the set-up cancelled out. Two parts of the watcher's cost
are told apart, because under valgrind the program runs some 50 times slower while the
heartbeat keeps its wall-clock pace:

- *per unit*: what the watcher adds to each unit of work, from the N-unit difference of a
  watched run minus a bare one, less what the watcher does by the clock meanwhile (these runs
  beat once a second, not 80 times; a second of that is priced by an idle loop watched so for
  10 and for 20 seconds). Three watched runs split it: the watcher with iteration timing and
  the run-time checks off (``+watcher``: its hooks), with the checks on (``+checks``: the task
  factory and the rest of the asyncio-mistake hooks), and with every iteration timed; the
  default times the iterations of 20 ms in every second, so 2% of that last difference is its
  share (``+timing windows``; none on uvloop, whose selector is out of reach);
- *per second*: a heartbeat's cost (an idle loop watched for 2 and for 4 seconds, less the same
  for a bare idle loop, per heartbeat counted) times the heartbeats a second at the default
  threshold (80); the watchdog's once-a-second housekeeping rides along in it, so this part is
  a little overstated.

N is large (200,000 steps, 10,000 round trips, 2,000 requests): a run's fixed part (the
watcher's start, its sentinel's hand-shake) varies by a few million instructions from run to
run, which the difference does not cancel. The runs go two at a time (the counts do not depend
on what else the machine does).

The overhead at full speed is then ``per unit / bare instructions per unit`` plus ``per
second / bare instructions per second``, the latter at the rate the bare workload runs here
natively (measured in this run, median of 5). Linux's cost for a second thread in the process
(a file reference taken per system call on a descriptor) is in neither: valgrind counts user
instructions only; ``watch_overhead_ab.py --modes bare,thread`` measures it.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import watch_overhead_ab as ab  # noqa: E402  (the workloads, shared with the A/B)

# units of work at size N, per workload (2N is run too)
UNITS = {"steps": 200_000, "echo": 10_000, "http": 2_000}
IDLE = 2.0  # seconds an idle loop is watched at size N (2N: twice that)
SLOW = 10.0  # the same with a heartbeat a second
# Under valgrind everything runs some 50 times slower: at the default threshold the watcher
# would see the loop stall all the time and sample it. The counted runs use this threshold
# (the heartbeat then ticks every 50 ms, not 12.5); the per-second part is scaled to the
# default's pace.
COUNTED_THRESHOLD_MS = 5000.0
# ... and while work is counted, a heartbeat a second: under valgrind the loop runs some 50
# times slower but the heartbeat keeps its pace, so at 50 ms its share of the counted work
# would be 50 times what it is at full speed, and a small error in a heartbeat's cost (taken
# from the idle runs) would swamp the per-unit figure
COUNTED_INTERVAL = 1.0
# The watcher's settings in each counted mode. Iteration timing is counted apart (``timed``:
# every iteration; the default times 20 ms of every second, a share of ``WINDOW``), as the
# windows open and close on heartbeats, which these runs slow down.
COUNTED: dict[str, dict[str, Any]] = {
    "hooks": {"iteration_timing": "off", "hygiene": True},  # heartbeat, watchdog, run-time checks
    "plain": {"iteration_timing": "off", "hygiene": False},  # heartbeat and watchdog only
    "timed": {"iteration_timing": "always", "hygiene": True},  # every iteration timed too
}
WINDOW = 0.02


def _ticks_per_second(threshold_ms: float) -> float:
    """The heartbeat's rate at a threshold (as ``LoopState`` sets its interval)."""
    return 1.0 / min(0.05, max(0.002, threshold_ms / 1000.0 / 8))


_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")
_TICKS = re.compile(r"TICKS (\d+)")


def _child(loop: str, workload: str, mode: str, size: float) -> None:
    """One run (under valgrind): ``size`` units of ``workload``, or ``size`` idle seconds."""
    factory = asyncio.new_event_loop
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    ab.THRESHOLD_MS = COUNTED_THRESHOLD_MS
    settings = COUNTED.get(mode, {})

    class Counting(ab.Watcher):  # says how many heartbeats it saw, for the per-tick split
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, **settings})

        def stop(self) -> ab.Watcher:
            ticks = sum(loop.lag.count for loop in self.report().loops if loop.lag is not None)
            print(f"TICKS {ticks}", file=sys.stderr)
            return super().stop()

    ab.Watcher = Counting  # type: ignore[misc]
    if workload != "idle":
        # a heartbeat a second while the work is counted (and in "slow", the idle run that
        # prices a second of it): what is left to subtract is small
        from unstall.watch import _loops

        made = _loops.LoopState.__init__

        def slow_beat(self: _loops.LoopState, *args: object, **kwargs: object) -> None:
            made(self, *args, **kwargs)  # type: ignore[arg-type]
            self.interval = COUNTED_INTERVAL

        _loops.LoopState.__init__ = slow_beat  # type: ignore[method-assign]
    echo = None
    port = 0
    if workload == "echo":
        echo = subprocess.Popen(
            [sys.executable, "-c", ab.ECHO_SERVER], stdout=subprocess.PIPE, text=True
        )
        assert echo.stdout is not None
        port = int(echo.stdout.readline())
    try:
        if workload in ("idle", "slow"):
            ab.SIZES["steps"] = 4
            ab.SETTLE = size
            run_workload = "steps"
        else:
            ab.SIZES[workload] = int(size)
            run_workload = workload
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(ab._run("bare" if mode == "bare" else "off", run_workload, port))
    finally:
        if echo is not None:
            echo.kill()
            echo.wait()


def _count(loop: str, workload: str, mode: str, size: float) -> tuple[int, int, float]:
    """Instructions, heartbeat ticks and wall seconds of one child run under valgrind."""
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        loop,
        workload,
        mode,
        str(size),
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    found = _REFS.findall(done.stderr)
    if done.returncode or not found:
        raise SystemExit(f"valgrind run failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    ticks = _TICKS.findall(done.stderr)
    return int(found[-1].replace(",", "")), int(ticks[-1]) if ticks else 0, wall


def _slope(loop: str, workload: str, mode: str, small: float) -> tuple[float, int, float]:
    """Instructions, heartbeat ticks and wall seconds of ``small`` more units (2x minus 1x),
    both runs at once."""
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_count, loop, workload, mode, small)
        second = pool.submit(_count, loop, workload, mode, 2 * small)
        (one, ticks_one, wall_one), (two, ticks_two, wall_two) = first.result(), second.result()
    return float(two - one), ticks_two - ticks_one, wall_two - wall_one


def _native_rate(loop: str, workload: str) -> float:
    """Units of ``workload`` the bare loop runs per CPU second here, natively (median of 5)."""
    factory = asyncio.new_event_loop
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    echo = None
    port = 0
    if workload == "echo":
        echo = subprocess.Popen(
            [sys.executable, "-c", ab.ECHO_SERVER], stdout=subprocess.PIPE, text=True
        )
        assert echo.stdout is not None
        port = int(echo.stdout.readline())
    ab.SIZES[workload] = UNITS[workload] * 5
    rates = []
    try:
        for _ in range(5):
            with asyncio.Runner(loop_factory=factory) as runner:
                spent = runner.run(ab._run("bare", workload, port))
            rates.append(ab.SIZES[workload] / spent)
    finally:
        if echo is not None:
            echo.kill()
            echo.wait()
    return statistics.median(rates)


def main() -> int:
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--loops", default="asyncio,uvloop")
    parser.add_argument("--workloads", default="steps,echo,http")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        parser.error("valgrind is needed (apt install valgrind).")
    loops = [name for name in args.loops.split(",") if name]
    workloads = [name for name in args.workloads.split(",") if name]
    for name in workloads:
        if name not in UNITS:
            parser.error(f"unknown workload {name!r}; choose from {', '.join(UNITS)}")
    if "uvloop" in loops:
        try:
            import uvloop  # noqa: F401
        except ImportError:
            parser.error("--loops uvloop needs uvloop installed.")
    print(
        "instructions a unit of work (bare), what the watcher adds to it, and the default's "
        "overhead at this machine's native pace"
    )
    print(
        "loop     workload  bare/unit  +watcher  +checks  +timing windows  "
        "+per second   units/s native  overhead  (no checks)"
    )
    pace = _ticks_per_second(ab.THRESHOLD_MS)  # heartbeats a second at the default threshold
    for loop in loops:
        idle_bare, _, _ = _slope(loop, "idle", "bare", IDLE)
        extra, ticks, _ = _slope(loop, "idle", "hooks", IDLE)
        tick = (extra - idle_bare) / max(1, ticks)  # instructions a heartbeat
        per_second = tick * pace
        # a second of the counted runs' watcher (a heartbeat, the watchdog's housekeeping)
        slow_bare, _, _ = _slope(loop, "slow", "bare", SLOW)
        slow, _, slow_wall = _slope(loop, "slow", "hooks", SLOW)
        slow_second = (slow - slow_bare) / slow_wall
        for workload in workloads:
            units = UNITS[workload]
            added: dict[str, float] = {}
            bare, _, _ = _slope(loop, workload, "bare", units)
            for mode in ("plain", "hooks", "timed"):
                watched, _, wall = _slope(loop, workload, mode, units)
                # less what the watcher did by the clock meanwhile (at valgrind's pace)
                added[mode] = (watched - slow_second * wall - bare) / units
            per_unit_bare = bare / units
            native = _native_rate(loop, workload)
            checks = added["hooks"] - added["plain"]
            # uvloop's selector is out of reach: no iteration timing there
            timing = 0.0 if loop == "uvloop" else WINDOW * (added["timed"] - added["hooks"])
            second = per_second / (per_unit_bare * native)
            total = 1 + (added["hooks"] + timing) / per_unit_bare + second
            unchecked = 1 + (added["plain"] + timing) / per_unit_bare + second
            print(
                f"{loop:<8} {workload:<9} {per_unit_bare:9,.0f}  {added['plain']:+8,.0f}  "
                f"{checks:+7,.0f}  {timing:+15,.1f}  {per_second:11,.0f}   "
                f"{native:14,.0f}  x{total:.4f}   x{unchecked:.4f}"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
