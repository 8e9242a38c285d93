"""Stress the sentinel: many short programs whose loops stall in C code holding the GIL, on the
loop and in worker threads, beside busy Python threads; count the programs that crashed.

    python benchmarks/sentinel_stress.py [--seconds 600] [--run-seconds 4] [--parallel 2]

Each run is a fresh process under ``unstall.watch(threshold_ms=20)`` (sentinel on) that, for
``--run-seconds``, keeps four tasks stalling at random: a catastrophic regex on the loop, the
same regex and a ``json.loads`` handed to a thread with ``asyncio.to_thread``, a large
``json.loads`` on the loop, ``time.sleep``, and a garbage collection; meanwhile four threads
run pure-Python loops (so the watchdog is starved and threads are interrupted while they run
Python code, the case that crashed the faulthandler backstop) and another stalls in the regex
now and then. It prints how many stalls it saw and how many stacks the sentinel's signals
brought back. The table: runs, crashed runs (killed by a signal, or an exit code other than
0), stalls, and stacks taken by signal.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

PROGRAM = r"""
import asyncio, gc, json, random, re, sys, threading, time
import unstall
from unstall.watch import _sentinel

SECONDS = float(sys.argv[1])
blob = json.dumps([{"k": i, "v": [str(i)] * 5} for i in range(20_000)])
stop = threading.Event()

def busy():
    while not stop.is_set():
        sum(i * i for i in range(2_000))

def regex():
    re.match(r"(a+)+$", "a" * random.randint(16, 21) + "b")

def sometimes_in_c():
    while not stop.is_set():
        regex()
        time.sleep(random.random() / 10)

async def staller():
    end = time.perf_counter() + SECONDS
    while time.perf_counter() < end:
        kind = random.randrange(6)
        if kind == 0:
            regex()
        elif kind == 1:
            await asyncio.to_thread(regex)
        elif kind == 2:
            await asyncio.to_thread(json.loads, blob)
        elif kind == 3:
            json.loads(blob)
        elif kind == 4:
            time.sleep(random.random() / 20)
        else:
            gc.collect()
        await asyncio.sleep(random.random() / 50)

async def main():
    w = unstall.watch(threshold_ms=20, log=False)
    while not _sentinel._shared.ready:
        await asyncio.sleep(0.01)
    threads = [threading.Thread(target=busy) for _ in range(4)]
    threads.append(threading.Thread(target=sometimes_in_c))
    for t in threads:
        t.start()
    await asyncio.gather(*(staller() for _ in range(4)))
    stop.set()
    for t in threads:
        t.join()
    w.stop()
    signal = sum(1 for e in w.events if e.stack_source == "signal")
    taken = _sentinel._shared.received
    print(json.dumps({"stalls": w.stalls, "signal_stacks": signal, "dumps": taken}))

asyncio.run(main())
"""


def _one(run_seconds: float) -> tuple[int, dict[str, int]]:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(run_seconds)],
        capture_output=True,
        text=True,
        timeout=run_seconds * 20 + 60,
        check=False,
    )
    try:
        counts = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        counts = {}
    if done.returncode != 0:
        print(f"run ended with {done.returncode}: {done.stderr.strip()[-300:]}", flush=True)
    return done.returncode, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--run-seconds", type=float, default=4.0)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    runs = crashed = stalls = signal_stacks = dumps = 0
    end = time.monotonic() + args.seconds
    with ThreadPoolExecutor(args.parallel) as pool:
        while time.monotonic() < end:
            batch = [pool.submit(_one, args.run_seconds) for _ in range(args.parallel)]
            for future in batch:
                code, counts = future.result()
                runs += 1
                crashed += code != 0
                stalls += counts.get("stalls", 0)
                signal_stacks += counts.get("signal_stacks", 0)
                dumps += counts.get("dumps", 0)
    print(
        f"runs {runs}, crashed {crashed}, stalls {stalls}, "
        f"stalls blamed from a thread's own stack {signal_stacks}, stacks taken by signal {dumps}"
    )
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
