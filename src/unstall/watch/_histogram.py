"""A mergeable log-linear histogram of whole numbers, with bounds Prometheus and OpenTelemetry share.

The watcher records microseconds. Every value up to 1000 has a bucket of its own; above that,
each decade (1000 to 10 000, 10 000 to 100 000, ...) is cut into 900 buckets of equal width
(10, 100, ...): three significant digits, so a bucket is at most 1% as wide as its lower bound
and a percentile read from one is within 0.5% of the recorded value it stands for, from one
microsecond to hours and far beyond (values up to 10**42). A bucket holds the values greater than its lower
bound and at most its upper bound, ``(lower, upper]``, as a Prometheus ``le`` bucket and an
OpenTelemetry explicit bucket do, and every whole number with at most three significant digits
(``5000``, ``25000``, ``2500000``: 5 ms, 25 ms, 2.5 s in microseconds) is a bucket bound, so the
cumulative counts at the default bounds of both are exact. Two histograms merge by adding their
counts, whatever was recorded in each.
"""

from __future__ import annotations

import collections
import math
import operator
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, pairwise
from typing import NamedTuple

__all__ = ("Bucket", "CumulativeCount", "Histogram", "nearest_rank")

_DECADES = 40
_POWERS: tuple[int, ...] = tuple(10**e for e in range(_DECADES))
# the largest value of each decade's buckets: decade e (e >= 1) holds (100 * 10**e, 1000 * 10**e]
_TOPS = tuple(1000 * power for power in _POWERS)
_LARGEST = _TOPS[-1]  # 10**42: far beyond any count of microseconds
_SPAN = 900  # buckets per decade above 1000


def _index(value: int) -> int:
    """The bucket index of ``value`` (0..10**42): ``value`` itself up to 1000, then 900 a decade."""
    if value <= 1000:
        return value
    e = bisect_left(_TOPS, value)
    return _SPAN * e - (-value // _POWERS[e])  # the ceiling of value / 10**e is the bucket's digits


def _bounds(index: int) -> tuple[int, int]:
    """``(lower, upper)`` of bucket ``index``: it holds the values ``lower < v <= upper``."""
    if index <= 1000:
        return index - 1, index
    e = (index - 101) // _SPAN
    digits = index - _SPAN * e
    return (digits - 1) * _POWERS[e], digits * _POWERS[e]


def _whole(bound: float) -> int:
    """``bound`` as the whole number the values at or below it stop at (float noise forgiven).

    ``+inf`` is past every value, ``-inf`` below them all; ``ValueError`` for ``nan``.
    """
    if isinstance(bound, int):
        return bound
    if math.isnan(bound):
        raise ValueError(f"bound={bound!r} is not a number; give bounds such as 5000 or inf.")
    if math.isinf(bound):
        return _LARGEST + 1 if bound > 0 else -1
    nearest = round(bound)
    if abs(bound - nearest) <= 1e-9 * max(1.0, abs(bound)):
        return int(nearest)  # 0.57 * 1e6 is 569999.9999999999: the bound meant is 570000
    return math.floor(bound)


def nearest_rank(percent: float, count: int) -> int:
    """The 1-based rank of the ``percent``-th percentile of ``count`` sorted values (nearest rank).

    The smallest rank whose share of the values is at least ``percent`` (at least 1), read with
    float noise forgiven (99.9% of 1000 values is rank 999, not 1000).
    """
    share = percent * count / 100.0
    return max(1, math.ceil(share - 1e-9 * max(1.0, share)))


class Bucket(NamedTuple):
    """One bucket that holds values: ``frequency`` values ``v`` with ``lower < v <= upper``."""

    lower: int
    upper: int
    frequency: int


class CumulativeCount(NamedTuple):
    """``frequency`` recorded values are at most ``le`` (a Prometheus ``le`` bucket's count)."""

    le: float
    frequency: int


class Histogram:
    """Counts of whole numbers (the watcher's are microseconds) in log-linear buckets.

    ``count``, ``total`` (the exact sum), ``min`` and ``max`` are exact; :meth:`percentile`
    is within 0.5% of the true nearest-rank percentile (exact up to 1000). Recording costs an
    array update and a few integer operations; the counts take 8 bytes a bucket up to the
    largest value recorded (about 30 KiB for values up to 10 s in microseconds). Values go up
    to 10**42. Not thread-safe: the owner serializes access.
    """

    __slots__ = ("_counts", "count", "max", "min", "total")

    def __init__(self) -> None:
        self._counts = array("Q")  # by bucket index, up to the largest recorded
        self.count = 0  # values recorded
        self.total = 0  # their sum
        self.min = 0  # the smallest and the largest (0 while empty)
        self.max = 0

    def __repr__(self) -> str:
        return f"Histogram(count={self.count}, min={self.min}, max={self.max})"

    def record(self, value: int, count: int = 1) -> None:
        """Record ``value`` (a whole number, 0..10**42) ``count`` (>= 1) times; ``ValueError`` otherwise."""
        if value <= 1000:
            index = value
            if index < 0 or count < 1:
                raise ValueError(self._refusal(value, count))
        elif value <= _LARGEST and count >= 1:
            e = bisect_left(_TOPS, value)
            index = _SPAN * e - (-value // _POWERS[e])
        else:
            raise ValueError(self._refusal(value, count))
        counts = self._counts
        if index >= len(counts):
            counts.frombytes(bytes(8 * (index + 1 - len(counts))))
        counts[index] += count
        if not self.count:
            self.min = self.max = value
        elif value > self.max:
            self.max = value
        elif value < self.min:
            self.min = value
        self.count += count
        self.total += value * count

    @staticmethod
    def _refusal(value: int, count: int) -> str:
        return (
            f"cannot record value={value!r} count={count!r}: a histogram records values "
            f"from 0 to 10**42, each at least once."
        )

    def record_many(self, values: Iterable[int]) -> None:
        """Record each of ``values`` (repeats are grouped first: a loop's lag repeats a few values)."""
        for value, count in collections.Counter(values).items():
            self.record(value, count)

    def merge(self, other: Histogram) -> None:
        """Add every value recorded in ``other`` to this histogram (``other`` is unchanged)."""
        if not other.count:
            return
        mine, theirs = self._counts, other._counts
        if len(mine) < len(theirs):
            mine.frombytes(bytes(8 * (len(theirs) - len(mine))))
        mine[: len(theirs)] = array("Q", map(operator.add, mine, theirs))
        if not self.count:
            self.min, self.max = other.min, other.max
        else:
            self.min = min(self.min, other.min)
            self.max = max(self.max, other.max)
        self.count += other.count
        self.total += other.total

    @property
    def mean(self) -> float:
        """The exact mean of the recorded values (0.0 while empty)."""
        return self.total / self.count if self.count else 0.0

    def percentile(self, percent: float) -> int:
        """The ``percent``-th percentile (0..100) by nearest rank, within 0.5% (0 while empty).

        It is the middle of the bucket that holds the value of that rank, kept within
        ``min``..``max`` (the lowest and the highest rank are ``min`` and ``max`` exactly).
        Raises ``ValueError`` for ``percent`` outside 0..100.
        """
        if not 0.0 <= percent <= 100.0:
            raise ValueError(f"percent={percent!r} is outside 0..100; pass e.g. 50 or 99.9.")
        if not self.count:
            return 0
        rank = nearest_rank(percent, self.count)
        if rank == 1:
            return self.min  # the extremes are known exactly
        if rank == self.count:
            return self.max
        index = bisect_left(list(accumulate(self._counts)), rank)
        lower, upper = _bounds(index)
        middle = upper - (upper - lower - 1) // 2
        return min(max(middle, self.min), self.max)

    def buckets(self) -> Iterator[Bucket]:
        """The buckets that hold values, smallest first (the raw log-linear buckets)."""
        for index, count in enumerate(self._counts):
            if count:
                lower, upper = _bounds(index)
                yield Bucket(lower, upper, count)

    def cumulative(self, bounds: Sequence[float]) -> list[CumulativeCount]:
        """For each of ``bounds`` (ascending, in the recorded unit), how many values are at most it.

        Exact when each bound is a bucket bound (see :meth:`is_bound`): every whole number up to
        1000 and every one with at most three significant digits, which covers the default
        buckets of Prometheus clients and of OpenTelemetry once converted to microseconds.
        A bound that is not counts the values of the buckets wholly below it (a lower bound).
        A bound of ``math.inf`` (the ``+Inf`` bucket) counts every value. Raises ``ValueError``
        if ``bounds`` are not ascending or one is ``nan``.
        """
        if any(after < before for before, after in pairwise(bounds)):
            raise ValueError(f"bounds={list(bounds)!r} are not in ascending order; sort them.")
        running = list(accumulate(self._counts))
        out: list[CumulativeCount] = []
        for bound in bounds:
            limit = _whole(bound)
            if limit < 0 or not running:
                frequency = 0
            elif limit >= _LARGEST:
                frequency = running[-1]
            else:
                index = _index(limit)
                if _bounds(index)[1] > limit:
                    index -= 1  # the bound's bucket reaches past it: stop at the one before
                frequency = running[min(index, len(running) - 1)]
            out.append(CumulativeCount(bound, frequency))
        return out

    @staticmethod
    def is_bound(bound: float) -> bool:
        """Whether ``bound`` (in the recorded unit) is a bucket bound, so :meth:`cumulative` is exact there."""
        limit = _whole(bound)
        if limit < 0 or limit >= _LARGEST:
            return True  # no value is below 0 or above 10**42: the count there is exact
        return _bounds(_index(limit))[1] == limit

    # The names of the hdrhistogram API this histogram replaced, so that code written against
    # the histograms Watcher.histogram() returned keeps working.
    def record_value(self, value: int, count: int = 1) -> bool:
        """Same as :meth:`record`; returns ``True`` (hdrhistogram's name)."""
        self.record(value, count)
        return True

    def add(self, other: Histogram) -> None:
        """Same as :meth:`merge` (hdrhistogram's name)."""
        self.merge(other)

    def get_total_count(self) -> int:
        """Same as :attr:`count` (hdrhistogram's name)."""
        return self.count

    def get_value_at_percentile(self, percent: float) -> int:
        """Same as :meth:`percentile` (hdrhistogram's name)."""
        return self.percentile(percent)

    def get_mean_value(self) -> float:
        """Same as :attr:`mean` (hdrhistogram's name)."""
        return self.mean

    def get_max_value(self) -> int:
        """Same as :attr:`max` (hdrhistogram's name)."""
        return self.max

    def get_min_value(self) -> int:
        """Same as :attr:`min` (hdrhistogram's name)."""
        return self.min
