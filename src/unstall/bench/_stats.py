"""Percentiles of latency samples, computed exactly from the samples (no histogram buckets)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from unstall.watch import Percentiles

__all__ = ("percentile", "summarize")


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0..100) of already sorted values, linear between closest ranks.

    The rank is ``p / 100 * (n - 1)``; a fractional rank interpolates between its two neighbours
    (the same definition as NumPy's default ``"linear"`` method). An empty sequence gives ``nan``.
    Raises ``ValueError`` for ``p`` outside 0..100.
    """
    if not 0.0 <= p <= 100.0:
        raise ValueError(f"percentile p={p!r} is outside 0..100; pass a value such as 50 or 99.")
    n = len(sorted_values)
    if n == 0:
        return math.nan
    rank = p / 100.0 * (n - 1)
    low = math.floor(rank)
    high = min(low + 1, n - 1)
    fraction = rank - low
    lo_value = float(sorted_values[low])
    hi_value = float(sorted_values[high])
    # clamped: float rounding must never put the result outside its two neighbours
    return min(max(lo_value + (hi_value - lo_value) * fraction, lo_value), hi_value)


def summarize(values: Iterable[float]) -> Percentiles:
    """Sort ``values`` once and return their :class:`Percentiles`."""
    data = sorted(values)
    if not data:
        nan = math.nan
        return Percentiles(0, nan, nan, nan, nan, nan, nan)
    return Percentiles(
        count=len(data),
        mean=math.fsum(data) / len(data),
        p50=percentile(data, 50),
        p90=percentile(data, 90),
        p99=percentile(data, 99),
        p999=percentile(data, 99.9),
        max=data[-1],
    )
