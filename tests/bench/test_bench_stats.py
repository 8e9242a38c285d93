"""The percentile maths, against small data sets worked out by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unstall.bench import percentile, summarize

FIVE = [15.0, 20.0, 35.0, 40.0, 50.0]


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0, 15.0),  # rank 0
        (25, 20.0),  # rank 1
        (40, 29.0),  # rank 1.6: 20 + 0.6 * (35 - 20)
        (50, 35.0),  # rank 2
        (90, 46.0),  # rank 3.6: 40 + 0.6 * (50 - 40)
        (99, 49.6),  # rank 3.96: 40 + 0.96 * 10
        (100, 50.0),  # rank 4
    ],
)
def test_five_values(p: float, expected: float) -> None:
    assert percentile(FIVE, p) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (50, 50.5),  # rank 49.5 between 50 and 51
        (90, 90.1),  # rank 89.1
        (99, 99.01),  # rank 98.01
        (99.9, 99.901),  # rank 98.901
    ],
)
def test_one_to_a_hundred(p: float, expected: float) -> None:
    assert percentile([float(i) for i in range(1, 101)], p) == pytest.approx(expected)


def test_duplicates_and_single_value() -> None:
    assert percentile([2.0, 2.0, 2.0, 10.0], 50) == pytest.approx(2.0)  # rank 1.5, both 2
    assert percentile([2.0, 2.0, 2.0, 10.0], 75) == pytest.approx(4.0)  # rank 2.25: 2 + 0.25 * 8
    assert percentile([7.0], 0) == percentile([7.0], 99) == 7.0


def test_empty_is_nan_and_bad_p_is_refused() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match=r"p=101 is outside 0\.\.100"):
        percentile(FIVE, 101)
    with pytest.raises(ValueError, match="outside"):
        percentile(FIVE, -1)


def test_summarize_sorts_and_reports_every_field() -> None:
    s = summarize([50.0, 15.0, 40.0, 20.0, 35.0])
    assert s.count == 5
    assert s.mean == pytest.approx(32.0)  # 160 / 5
    assert (s.p50, s.p90, s.p99, s.max) == pytest.approx((35.0, 46.0, 49.6, 50.0))
    assert s.p999 == pytest.approx(49.96)  # rank 3.996


def test_summarize_nothing() -> None:
    s = summarize([])
    assert s.count == 0
    assert all(math.isnan(v) for v in (s.mean, s.p50, s.p90, s.p99, s.p999, s.max))


@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=200),
    st.floats(0, 100),
    st.floats(0, 100),
)
def test_percentile_is_monotone_and_bounded(values: list[float], p: float, q: float) -> None:
    data = sorted(values)
    low, high = sorted((p, q))
    assert data[0] <= percentile(data, low) <= percentile(data, high) <= data[-1]
