"""The watcher's overhead per unit of work counted in instructions (deterministic), plus its
clock-driven cost measured natively: an upper bound that holds on a noisy machine.

Usage: python benchmarks/watch_overhead_instr.py [--loops asyncio,uvloop]
                                                 [--workloads steps,echo,http]

Wall and CPU time on a small shared virtual machine move by 3-5% between identical runs
(``watch_overhead_ab.py`` shows it), which hides a 1-2% cost. The watcher's cost has two
parts, and each is measured the way that holds here:

- *per unit of work* (its hooks, the run-time checks' task factory, the iteration-timing
  windows), counted in instructions under valgrind (``cachegrind`` without its cache model),
  which are the same from run to run whatever the machine does meanwhile. Each workload of
  ``watch_overhead_ab.py`` runs in a fresh process at N and 2N units (100,000 steps, 5,000
  echo round trips, 1,000 HTTP requests); the difference is the cost of N units, with the
  interpreter's start, the imports and the set-up cancelled out. Three watched runs split
  it: the watcher with iteration timing and the run-time checks off (``+watcher``), with the
  checks on (``+checks``), and with every iteration timed; the default times the iterations
  of 20 ms in every second, so 2% of that last difference is its share (``+windows``; none on
  uvloop, whose selector is out of reach). Under valgrind the program runs some 50 times
  slower while the watcher's clock keeps its pace, so these runs use a 5 s threshold and a
  heartbeat a second, and what the watcher does by the clock meanwhile (priced by an idle loop
  watched so for 10 and for 20 seconds) is subtracted. The instructions are turned into time
  at the rate this machine runs the interpreter (the bare ``steps`` workload's instructions
  per CPU second, natively: nearly all user-space), and set against a unit's native CPU time.
- *per second* (the heartbeat, 80 a second at the default threshold, and the watchdog's
  housekeeping), measured natively as CPU time: an idle loop watched for 5 seconds, less an
  idle bare loop woken as often by a timer of its own (a wake-up costs a virtual machine far
  more than the heartbeat's own work, and a busy loop does not pay it: its heartbeat comes in
  with the wake-ups it has anyway). Median of 3. This overstates the busy case a little (an
  idle heartbeat runs with cold caches).

The bound is ``1 + per unit + per second``. The kernel's cost for a second thread (a file
reference taken per system call on a descriptor) is in neither; ``watch_overhead_ab.py
--modes bare,thread`` measures it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import watch_overhead_ab as ab  # noqa: E402  (the workloads, shared with the A/B)

from unstall.watch._alarm import create_alarm  # noqa: E402

# units of work at size N, per workload (2N is run too)
UNITS = {"steps": 100_000, "echo": 5_000, "http": 1_000}
SLOW = 10.0  # seconds an idle loop is watched with a heartbeat a second (and twice that)
NATIVE_IDLE = 5.0  # seconds an idle loop is timed natively
# Under valgrind everything runs some 50 times slower: at the default threshold the watcher
# would see the loop stall all the time and sample it, so the counted runs use this threshold.
COUNTED_THRESHOLD_MS = 5000.0
# ... and a heartbeat a second: the heartbeat keeps its wall-clock pace while the loop runs 50
# times slower, so at its usual pace its share of the counted work would be 50 times what it
# is at full speed, and the small error in pricing it would swamp the per-unit figure.
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


def _loop_factory(loop: str) -> Callable[[], asyncio.AbstractEventLoop]:
    if loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop  # type: ignore[no-any-return]
    return asyncio.new_event_loop


@contextlib.contextmanager
def _echo_server(workload: str) -> Iterator[int]:
    """The port of the ``echo`` workload's blocking echo server (another process, never
    counted) while the block runs; 0 for other workloads."""
    if workload != "echo":
        yield 0
        return
    echo = subprocess.Popen(
        [sys.executable, "-c", ab.ECHO_SERVER], stdout=subprocess.PIPE, text=True
    )
    try:
        assert echo.stdout is not None
        yield int(echo.stdout.readline())
    finally:
        echo.kill()
        echo.wait()


def _child(loop: str, workload: str, mode: str, size: float) -> None:
    """One run (under valgrind): ``size`` units of ``workload``, or ``size`` idle seconds
    (``slow``); the watcher, if any, set as ``COUNTED[mode]`` says, beating once a second."""
    factory = _loop_factory(loop)
    ab.THRESHOLD_MS = COUNTED_THRESHOLD_MS
    settings = COUNTED.get(mode, {})
    if workload == "http":
        import aiohttp.web  # noqa: F401  (before the watcher: not a stall it samples)

    class Counted(ab.Watcher):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, **settings})

    ab.Watcher = Counted  # type: ignore[misc]
    from unstall.watch import _loops

    made = _loops.LoopState.__init__

    def slow_beat(self: _loops.LoopState, *args: object, **kwargs: object) -> None:
        made(self, *args, **kwargs)  # type: ignore[arg-type]
        self.interval = COUNTED_INTERVAL

    _loops.LoopState.__init__ = slow_beat  # type: ignore[method-assign]
    if workload == "slow":
        ab.SIZES["steps"] = 4
        ab.SETTLE = size
        workload = "steps"
    else:
        ab.SIZES[workload] = int(size)
    with _echo_server(workload) as port, asyncio.Runner(loop_factory=factory) as runner:
        runner.run(ab._run("bare" if mode == "bare" else "off", workload, port))


def _idle_child(loop: str, mode: str) -> None:
    """CPU milliseconds a second of an idle loop, natively: watched, or bare and woken by a
    periodic timer at the heartbeat's default pace."""
    factory = _loop_factory(loop)

    async def idle() -> float:
        watcher = None
        beat = None
        if mode == "watched":
            watcher = ab.Watcher(log=False).start()
        else:  # a periodic timerfd read like the heartbeat's (the watcher's own wrapper of it)
            beat = create_alarm()
            if beat is None:
                raise SystemExit("no timerfd here")
            every = 1.0 / _ticks_per_second(ab.THRESHOLD_MS)
            beat.arm(every, every)
            asyncio.get_running_loop().add_reader(beat.fd, beat.expirations)
        await asyncio.sleep(1.0)
        start = time.process_time()
        await asyncio.sleep(NATIVE_IDLE)
        spent = time.process_time() - start
        if watcher is not None:
            watcher.stop()
        if beat is not None:
            asyncio.get_running_loop().remove_reader(beat.fd)
            beat.close()
        return spent * 1000 / NATIVE_IDLE

    with asyncio.Runner(loop_factory=factory) as runner:
        print(f"IDLE {runner.run(idle())}")


def _per_second(loop: str) -> float:
    """The watcher's own CPU milliseconds a second (see the module's docstring)."""
    found: dict[str, list[float]] = {"watched": [], "woken": []}
    for _ in range(3):
        for mode in found:
            done = subprocess.run(
                [sys.executable, __file__, "--idle", loop, mode],
                capture_output=True,
                text=True,
                check=True,
            )
            found[mode].append(float(done.stdout.split()[-1]))
    return statistics.median(found["watched"]) - statistics.median(found["woken"])


def _count(loop: str, workload: str, mode: str, size: float) -> tuple[int, float]:
    """Instructions and wall seconds of one child run under valgrind."""
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
    return int(found[-1].replace(",", "")), wall


def _slope(loop: str, workload: str, mode: str, small: float) -> tuple[float, float]:
    """Instructions and wall seconds of ``small`` more units (2x minus 1x), both runs at once."""
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_count, loop, workload, mode, small)
        second = pool.submit(_count, loop, workload, mode, 2 * small)
        (one, wall_one), (two, wall_two) = first.result(), second.result()
    return float(two - one), wall_two - wall_one


def _native_rate(loop: str, workload: str) -> float:
    """Units of ``workload`` the bare loop runs per CPU second here, natively (median of 5)."""
    factory = _loop_factory(loop)
    ab.SIZES[workload] = UNITS[workload] * 5
    rates = []
    with _echo_server(workload) as port:
        for _ in range(5):
            with asyncio.Runner(loop_factory=factory) as runner:
                spent = runner.run(ab._run("bare", workload, port))
            rates.append(ab.SIZES[workload] / spent)
    return statistics.median(rates)


def main() -> int:
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "--idle":
        _idle_child(sys.argv[2], sys.argv[3])
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
    print("per unit: instructions (bare) and what the watcher adds; then shares of CPU time")
    print(
        "loop     workload  bare/unit  +watcher  +checks  +windows  unit CPU µs  "
        "per unit  per second  overhead"
    )
    for loop in loops:
        # a second of the counted runs' watcher (a heartbeat, the watchdog's housekeeping)
        slow_bare, _ = _slope(loop, "slow", "bare", SLOW)
        slow, slow_wall = _slope(loop, "slow", "hooks", SLOW)
        slow_second = (slow - slow_bare) / slow_wall
        per_second = _per_second(loop) / 1000  # share of one CPU
        rate = 0.0  # the interpreter's instructions per CPU second (from steps)
        for workload in sorted(workloads, key=lambda name: name != "steps"):
            units = UNITS[workload]
            added: dict[str, float] = {}
            bare, _ = _slope(loop, workload, "bare", units)
            for mode in ("plain", "hooks", "timed"):
                watched, wall = _slope(loop, workload, mode, units)
                # less what the watcher did by the clock meanwhile (at valgrind's pace)
                added[mode] = (watched - slow_second * wall - bare) / units
            per_unit_bare = bare / units
            native = _native_rate(loop, workload)
            if workload == "steps":
                rate = per_unit_bare * native
            checks = added["hooks"] - added["plain"]
            # uvloop's selector is out of reach: no iteration timing there
            timing = 0.0 if loop == "uvloop" else WINDOW * (added["timed"] - added["hooks"])
            extra = added["hooks"] + timing
            per_unit = extra / rate * native if rate else float("nan")
            print(
                f"{loop:<8} {workload:<9} {per_unit_bare:9,.0f}  {added['plain']:+8,.0f}  "
                f"{checks:+7,.0f}  {timing:+8,.1f}  {1e6 / native:11,.1f}  "
                f"{per_unit:8.2%}  {per_second:10.2%}  x{1 + per_unit + per_second:.4f}"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
