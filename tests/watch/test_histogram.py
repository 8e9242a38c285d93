"""The log-linear histogram against the exact statistics of the values recorded in it."""

from __future__ import annotations

import itertools
import math
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unstall.watch import Histogram, _histogram
from unstall.watch._histogram import nearest_rank

# Microseconds as the watcher records them: mostly short iterations, some stalls, a few long ones.
MICROS = st.one_of(
    st.integers(0, 2_000),
    st.integers(0, 200_000),
    st.integers(0, 3_600_000_000),
    st.integers(0, 10**15),
)
VALUES = st.lists(MICROS, min_size=1, max_size=300)
PERCENT = st.one_of(
    st.sampled_from([0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0]),
    st.floats(0.0, 100.0, allow_nan=False),
)

# The default buckets of the Prometheus clients (seconds) and OpenTelemetry's default explicit
# bounds (milliseconds), in the watcher's microseconds.
PROMETHEUS_US = [b * 1e6 for b in (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0)]
PROMETHEUS_US += [b * 1e6 for b in (2.5, 5.0, 7.5, 10.0)]
OPENTELEMETRY_US = [b * 1e3 for b in (0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000)]
OPENTELEMETRY_US += [b * 1e3 for b in (2500, 5000, 7500, 10000)]


def histogram_of(values: list[int]) -> Histogram:
    hist = Histogram()
    for value in values:
        hist.record(value)
    return hist


def exact_percentile(values: list[int], percent: float) -> int:
    ordered = sorted(values)
    return ordered[nearest_rank(percent, len(ordered)) - 1]


@settings(max_examples=300, deadline=None)
@given(values=VALUES, percent=PERCENT)
def test_percentiles_are_within_half_a_percent_of_the_exact_ones(
    values: list[int], percent: float
) -> None:
    exact = exact_percentile(values, percent)
    got = histogram_of(values).percentile(percent)
    assert abs(got - exact) <= 0.005 * exact, (got, exact)
    if exact <= 1000:
        assert got == exact  # a bucket per whole number up to 1000


@settings(max_examples=200, deadline=None)
@given(values=VALUES)
def test_count_sum_min_max_and_mean_are_exact(values: list[int]) -> None:
    hist = histogram_of(values)
    assert hist.count == len(values)
    assert hist.total == sum(values)
    assert (hist.min, hist.max) == (min(values), max(values))
    assert hist.mean == pytest.approx(sum(values) / len(values), rel=1e-12)
    assert hist.percentile(0) == min(values)
    assert hist.percentile(100) == max(values)


@settings(max_examples=200, deadline=None)
@given(first=st.lists(MICROS, max_size=200), second=st.lists(MICROS, max_size=200))
def test_a_merge_is_the_histogram_of_both_lists(first: list[int], second: list[int]) -> None:
    merged = histogram_of(first)
    other = histogram_of(second)
    merged.merge(other)
    both = histogram_of(first + second)
    assert list(merged.buckets()) == list(both.buckets())
    assert (merged.count, merged.total, merged.min, merged.max) == (
        both.count,
        both.total,
        both.min,
        both.max,
    )
    assert list(other.buckets()) == list(histogram_of(second).buckets())  # left unchanged
    for percent in (50.0, 90.0, 99.0, 99.9, 100.0):
        assert merged.percentile(percent) == both.percentile(percent)
        if first or second:
            exact = exact_percentile(first + second, percent)
            assert abs(merged.percentile(percent) - exact) <= 0.005 * exact


@settings(max_examples=200, deadline=None)
@given(values=st.lists(MICROS, max_size=200))
def test_cumulative_counts_at_prometheus_and_opentelemetry_bounds_are_exact(
    values: list[int],
) -> None:
    hist = histogram_of(values)
    for bounds in (PROMETHEUS_US, OPENTELEMETRY_US):
        counts = hist.cumulative(bounds)
        assert [c.le for c in counts] == bounds
        assert [c.frequency for c in counts] == [
            sum(v <= round(bound) for v in values) for bound in bounds
        ]
        assert all(Histogram.is_bound(bound) for bound in bounds)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(MICROS, max_size=200),
    digits=st.lists(st.integers(1, 999), min_size=1, max_size=8),
    exponents=st.lists(st.integers(0, 12), min_size=1, max_size=8),
)
def test_every_bound_of_three_significant_digits_is_exact(
    values: list[int], digits: list[int], exponents: list[int]
) -> None:
    hist = histogram_of(values)
    bounds = sorted({d * 10**e for d, e in zip(digits, exponents, strict=False)})
    assert all(Histogram.is_bound(b) for b in bounds)
    assert [c.frequency for c in hist.cumulative(bounds)] == [
        sum(v <= b for v in values) for b in bounds
    ]


def test_infinite_bounds_count_every_value_or_none() -> None:
    hist = histogram_of([0, 7, 5_000_000, 10**30])
    assert hist.cumulative([-math.inf, -1, 0, 5e6, math.inf]) == [
        (-math.inf, 0),
        (-1, 0),
        (0, 1),
        (5e6, 3),
        (math.inf, 4),
    ]
    assert Histogram.is_bound(math.inf)
    assert Histogram.is_bound(10**42)


@settings(deadline=None)
@given(values=st.lists(MICROS, max_size=200), bound=st.integers(1001, 10**12))
def test_any_other_bound_counts_at_most_the_values_below_it(values: list[int], bound: int) -> None:
    hist = histogram_of(values)
    (counted,) = hist.cumulative([bound])
    exact = sum(v <= bound for v in values)
    assert counted.frequency <= exact
    if Histogram.is_bound(bound):
        assert counted.frequency == exact
    else:
        assert len(str(bound).rstrip("0")) > 3  # only four or more significant digits miss


@settings(deadline=None)
@given(value=MICROS)
def test_a_bucket_is_at_most_one_percent_wide(value: int) -> None:
    hist = histogram_of([value])
    (bucket,) = hist.buckets()
    assert bucket.lower < value <= bucket.upper
    assert bucket.frequency == 1
    assert bucket.upper - bucket.lower <= max(1, bucket.lower // 100)


def test_bucket_bounds_run_without_gaps_from_microseconds_to_hours() -> None:
    hist = Histogram()
    hist.record_many(range(1001))
    for e in range(1, 8):  # one value in every bucket of the decades up to 10**10 us
        hist.record_many(range(100 * 10**e + 1, 1000 * 10**e + 1, 10**e))
    buckets = list(hist.buckets())
    assert len(buckets) == 1001 + 7 * 900
    assert buckets[0].lower == -1
    assert buckets[-1].upper == 10**10
    for before, after in itertools.pairwise(buckets):
        assert before.upper == after.lower  # no gap, no overlap
        width = after.upper - after.lower
        assert width == 1 or width * 100 <= after.lower  # at most 1% of its lower bound


def _held_by_histograms(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes still allocated from the histogram module's own lines (other threads' ignored)."""
    mine = snapshot.filter_traces([tracemalloc.Filter(True, _histogram.__file__)])
    return sum(stat.size for stat in mine.statistics("filename"))


def test_memory_follows_the_largest_value_recorded() -> None:
    small, hour = Histogram(), Histogram()
    tracemalloc.start()
    try:
        small.record_many(range(0, 10_000_000, 997))  # every bucket up to 10 s in microseconds
        up_to_10_s = _held_by_histograms(tracemalloc.take_snapshot())
        hour.record(3_600_000_000)
        with_an_hour = _held_by_histograms(tracemalloc.take_snapshot())
    finally:
        tracemalloc.stop()
    assert up_to_10_s < 48 * 1024  # 8 bytes a bucket: 4,600 buckets
    assert with_an_hour - up_to_10_s < 72 * 1024  # 7,300 buckets, most of them empty


@settings(deadline=None)
@given(values=st.lists(st.integers(0, 5000), max_size=300))
def test_record_many_is_recording_each(values: list[int]) -> None:
    many = Histogram()
    many.record_many(values)
    one_by_one = histogram_of(values)
    assert list(many.buckets()) == list(one_by_one.buckets())
    assert (many.count, many.total, many.min, many.max) == (
        one_by_one.count,
        one_by_one.total,
        one_by_one.min,
        one_by_one.max,
    )


def test_an_empty_histogram_and_bad_input() -> None:
    hist = Histogram()
    assert (hist.count, hist.total, hist.min, hist.max, hist.mean) == (0, 0, 0, 0, 0.0)
    assert hist.percentile(99) == 0
    assert hist.cumulative([5000, 10_000]) == [(5000, 0), (10_000, 0)]
    assert list(hist.buckets()) == []
    hist.merge(Histogram())
    assert hist.count == 0
    with pytest.raises(ValueError, match=r"value=-1"):
        hist.record(-1)
    with pytest.raises(ValueError, match=r"count=0"):
        hist.record(5, 0)
    with pytest.raises(ValueError, match=r"percent=100\.5 is outside 0\.\.100"):
        hist.percentile(100.5)
    with pytest.raises(ValueError, match=r"not in ascending order"):
        hist.cumulative([10_000, 5000])
    with pytest.raises(ValueError, match=r"bound=nan is not a number"):
        hist.cumulative([math.nan])
    with pytest.raises(ValueError, match=r"value=10\*\*43|from 0 to 10\*\*42"):
        hist.record(10**43)
    assert repr(hist) == "Histogram(count=0, min=0, max=0)"


def test_counts_recorded_at_once_and_the_hdrhistogram_names() -> None:
    hist = Histogram()
    assert hist.record_value(1500, 3)
    hist.record(20)
    assert hist.get_total_count() == hist.count == 4
    assert hist.get_min_value() == 20
    assert hist.get_max_value() == 1500
    assert hist.get_mean_value() == pytest.approx((1500 * 3 + 20) / 4)
    assert hist.get_value_at_percentile(50) == hist.percentile(50) == 1496  # (1490, 1500]
    other = Histogram()
    other.record(7)
    hist.add(other)
    assert hist.count == 5
    assert hist.min == 7


@pytest.mark.parametrize(
    ("percent", "count", "rank"),
    [(99.9, 1000, 999), (99.0, 100, 99), (50.0, 3, 2), (0.0, 10, 1), (100.0, 7, 7), (0.57, 100, 1)],
)
def test_nearest_rank_forgives_float_noise(percent: float, count: int, rank: int) -> None:
    assert nearest_rank(percent, count) == rank
    assert rank == max(1, math.ceil(round(percent * count / 100, 6)))
