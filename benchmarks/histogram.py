"""The watcher's log-linear histogram next to hdrhistogram (which it replaced), side by side in one run.

Usage: python benchmarks/histogram.py [--values 200000] [--rounds 9] [--seed 1]

Both record the same microsecond values, shaped like a loop's lag: mostly short iterations
(0-200 us), some slow ones (to 50 ms), a few stalls (to 5 s). Figures, each the median of
``--rounds`` rounds that alternate which histogram goes first:

- ``record``: ns per value, one call per value;
- ``drain``: ns per value the way the watcher records a drained batch (512 values grouped with
  ``collections.Counter``, one call per distinct value);
- ``merge``: us to merge one filled histogram into another;
- ``percentiles``: us to read p50, p90, p99 and p99.9;
- ``memory``: KiB one filled histogram holds (tracemalloc);
- ``error``: the largest relative error of p50/p90/p99/p99.9/p99.99 against the exact
  nearest-rank percentile of the values.

hdrhistogram (``pip install hdrhistogram``; in the ``dev`` extra) is set up as the watcher set
it up: 1 us to one hour, two significant digits.
"""

from __future__ import annotations

import argparse
import collections
import gc
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from unstall.watch import Histogram
from unstall.watch._histogram import nearest_rank

PERCENTS = (50.0, 90.0, 99.0, 99.9, 99.99)
BATCH = 512


def lag_like(count: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    values = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.90:
            values.append(rng.randint(0, 200))
        elif roll < 0.99:
            values.append(rng.randint(200, 50_000))
        else:
            values.append(rng.randint(50_000, 5_000_000))
    return values


class Contender:
    """One histogram implementation behind the operations measured."""

    def __init__(
        self,
        name: str,
        new: Callable[[], Any],
        recorder: Callable[[Any], Callable[[int, int], object]],
        merge: Callable[[Any, Any], object],
        percentile: Callable[[Any, float], float],
    ) -> None:
        self.name, self.new, self.recorder, self.merge, self.percentile = (
            name,
            new,
            recorder,
            merge,
            percentile,
        )


def contenders() -> list[Contender]:
    ours = Contender(
        "unstall Histogram",
        Histogram,
        lambda h: h.record,  # the bound method, called directly: nothing in between
        lambda h, o: h.merge(o),
        lambda h, p: h.percentile(p),
    )
    out = [ours]
    try:
        from hdrh.histogram import HdrHistogram
    except ImportError:
        print("hdrhistogram is not installed: pip install hdrhistogram to compare", file=sys.stderr)
        return out
    out.append(
        Contender(
            "hdrhistogram",
            lambda: HdrHistogram(1, 3_600_000_000, 2),
            lambda h: h.record_value,
            lambda h, o: h.add(o),
            lambda h, p: h.get_value_at_percentile(p),
        )
    )
    return out


def per_value_record(c: Contender, values: list[int]) -> float:
    hist = c.new()
    record = c.recorder(hist)
    t0 = time.perf_counter()
    for value in values:
        record(value, 1)
    return (time.perf_counter() - t0) / len(values) * 1e9


def per_value_drain(c: Contender, values: list[int]) -> float:
    hist = c.new()
    record = c.recorder(hist)
    t0 = time.perf_counter()
    for start in range(0, len(values), BATCH):
        for value, count in collections.Counter(values[start : start + BATCH]).items():
            record(value, count)
    return (time.perf_counter() - t0) / len(values) * 1e9


def filled(c: Contender, values: list[int]) -> Any:
    hist = c.new()
    record = c.recorder(hist)
    for value, count in collections.Counter(values).items():
        record(value, count)
    return hist


def merge_us(c: Contender, values: list[int]) -> float:
    into, other = filled(c, values), filled(c, values[::-1])
    t0 = time.perf_counter()
    c.merge(into, other)
    return (time.perf_counter() - t0) * 1e6


def percentiles_us(c: Contender, hist: Any) -> float:
    t0 = time.perf_counter()
    for p in (50.0, 90.0, 99.0, 99.9):
        c.percentile(hist, p)
    return (time.perf_counter() - t0) * 1e6


def memory_kib(c: Contender, values: list[int]) -> float:
    gc.collect()
    tracemalloc.start()
    hist = filled(c, values)
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del hist
    return size / 1024


def worst_error(c: Contender, hist: Any, values: list[int]) -> float:
    ordered = sorted(values)
    worst = 0.0
    for p in PERCENTS:
        exact = max(1, ordered[nearest_rank(p, len(ordered)) - 1])
        worst = max(worst, abs(c.percentile(hist, p) - exact) / exact)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    values = lag_like(args.values, args.seed)
    found = contenders()
    rows: dict[str, dict[str, list[float]]] = {c.name: collections.defaultdict(list) for c in found}
    for n in range(args.rounds):
        for c in found if n % 2 == 0 else found[::-1]:
            row = rows[c.name]
            row["record"].append(per_value_record(c, values))
            row["drain"].append(per_value_drain(c, values))
            row["merge"].append(merge_us(c, values))
            row["percentiles"].append(percentiles_us(c, filled(c, values)))
    print(
        f"{len(values):,} lag-like values (us), median of {args.rounds} rounds, "
        f"Python {sys.version.split()[0]}"
    )
    header = ("histogram", "record ns/value", "drain ns/value", "merge us", "4 percentiles us")
    header += ("memory KiB", "worst percentile error")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for c in found:
        row = rows[c.name]
        cells = [
            c.name,
            f"{statistics.median(row['record']):.0f}",
            f"{statistics.median(row['drain']):.0f}",
            f"{statistics.median(row['merge']):.0f}",
            f"{statistics.median(row['percentiles']):.0f}",
            f"{memory_kib(c, values):.0f}",
            f"{worst_error(c, filled(c, values), values):.3%}",
        ]
        print(" | ".join(cells))


if __name__ == "__main__":
    main()
