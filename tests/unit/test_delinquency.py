"""Days past due (逾期天数) and the M0–M7 delinquency buckets (逾期账龄)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.lending.delinquency import BUCKETS, bucket_of, days_past_due


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [
        pytest.param(0, "M0", id="current"),
        pytest.param(1, "M1", id="1"),
        pytest.param(30, "M1", id="30"),
        pytest.param(31, "M2", id="31"),
        pytest.param(60, "M2", id="60"),
        pytest.param(61, "M3", id="61"),
        pytest.param(90, "M3", id="90"),
        pytest.param(91, "M4", id="91"),
        pytest.param(120, "M4", id="120"),
        pytest.param(121, "M5", id="121"),
        pytest.param(150, "M5", id="150"),
        pytest.param(151, "M6", id="151"),
        pytest.param(180, "M6", id="180"),
        pytest.param(181, "M7", id="181"),
        pytest.param(10_000, "M7", id="far-beyond"),
    ],
)
def test_bucket_boundaries(dpd: int, bucket: str) -> None:
    assert bucket_of(dpd) == bucket


def test_negative_days_past_due_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        bucket_of(-1)


@settings(max_examples=100, deadline=None)
@given(dpd=st.integers(min_value=1, max_value=2000))
def test_bucket_is_the_30_day_band(dpd: int) -> None:
    # M1 covers 1–30, M2 31–60, …, M6 151–180; M7 everything beyond.
    expected = "M7" if dpd > 180 else f"M{(dpd + 29) // 30}"
    assert bucket_of(dpd) == expected
    assert bucket_of(dpd) in BUCKETS
    assert BUCKETS.index(bucket_of(dpd)) >= BUCKETS.index(bucket_of(dpd - 1))


DUE = date(2026, 3, 31)


@pytest.mark.parametrize(
    ("as_of", "grace", "expected"),
    [
        pytest.param(date(2026, 3, 20), 0, 0, id="not-yet-due"),
        pytest.param(DUE, 0, 0, id="due-date-itself"),
        pytest.param(date(2026, 4, 1), 0, 1, id="day-after-due"),
        # 31 Mar → 30 Apr = 30 days
        pytest.param(date(2026, 4, 30), 0, 30, id="30-days"),
        pytest.param(date(2026, 5, 1), 0, 31, id="31-days"),
        # Within three grace days (宽限期) nothing is past due …
        pytest.param(date(2026, 4, 1), 3, 0, id="grace-day-1"),
        pytest.param(date(2026, 4, 3), 3, 0, id="grace-day-3"),
        # … after them the count runs from the due date itself, not from the end of grace.
        pytest.param(date(2026, 4, 4), 3, 4, id="first-day-after-grace"),
        pytest.param(date(2026, 4, 10), 3, 10, id="ten-days"),
    ],
)
def test_days_past_due_within_and_after_grace(as_of: date, grace: int, expected: int) -> None:
    assert days_past_due(as_of, DUE, grace_days=grace) == expected


def test_nothing_unpaid_is_never_past_due() -> None:
    assert days_past_due(date(2030, 1, 1), None, grace_days=0) == 0


@settings(max_examples=100, deadline=None)
@given(
    due=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    late=st.integers(min_value=-60, max_value=400),
    grace=st.integers(min_value=0, max_value=30),
)
def test_days_past_due_is_late_days_once_grace_is_over(due: date, late: int, grace: int) -> None:
    dpd = days_past_due(due + timedelta(days=late), due, grace_days=grace)
    assert dpd == (late if late > grace else 0)
    assert dpd == 0 or dpd > grace
