"""Day counts (计息基准) and the end-of-month rule of due dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaowei.core.daycount import DayCount, add_months, days_between, year_fraction
from xiaowei.core.money import to_fen

D = date
ACT360, ACT365, T360 = DayCount.ACT_360, DayCount.ACT_365, DayCount.THIRTY_360
param = pytest.param


@pytest.mark.parametrize(
    ("start", "end", "convention", "days", "fraction"),
    [
        # Actual days, over 360: the PBOC daily rate is the annual rate / 360.
        param(D(2024, 3, 1), D(2024, 3, 31), ACT360, 30, None, id="act360-march"),
        param(D(2024, 1, 1), D(2024, 4, 1), ACT360, 91, None, id="act360-leap-quarter"),
        param(D(2023, 1, 1), D(2023, 4, 1), ACT360, 90, "0.25", id="act360-quarter"),
        param(D(2023, 1, 1), D(2023, 7, 1), ACT360, 181, None, id="act360-half-year"),
        # Actual days, over 365: a leap year is 366/365 of a year.
        param(D(2023, 1, 1), D(2023, 3, 15), ACT365, 73, "0.2", id="act365-73-days"),
        param(D(2024, 1, 1), D(2025, 1, 1), ACT365, 366, None, id="act365-leap-year"),
        param(D(2023, 1, 1), D(2024, 1, 1), ACT365, 365, "1", id="act365-year"),
        # 30/360, ISDA 2006 Definitions §4.16(f): D1 = 31 becomes 30; D2 = 31 becomes 30 only
        # when D1 is 30 or 31; no rule for the end of February.
        param(D(2023, 12, 15), D(2024, 6, 15), T360, 180, "0.5", id="30360-half-year"),
        param(D(2024, 1, 31), D(2024, 3, 31), T360, 60, None, id="30360-d1-31-d2-31"),
        param(D(2024, 1, 30), D(2024, 3, 31), T360, 60, None, id="30360-d1-30-d2-31"),
        param(D(2024, 1, 29), D(2024, 3, 31), T360, 62, None, id="30360-d1-29-keeps-d2-31"),
        param(D(2024, 1, 31), D(2024, 2, 29), T360, 29, None, id="30360-into-february"),
        param(D(2024, 2, 29), D(2024, 3, 31), T360, 32, None, id="30360-no-february-rule"),
        param(D(2023, 1, 15), D(2024, 1, 15), T360, 360, "1", id="30360-year"),
    ],
)
def test_day_count_worked_examples(
    start: date, end: date, convention: DayCount, days: int, fraction: str | None
) -> None:
    assert days_between(start, end, convention) == days
    assert year_fraction(start, end, convention) == Decimal(days) / convention.year_days
    if fraction is not None:
        assert year_fraction(start, end, convention) == Decimal(fraction)


def test_act_360_interest_worked_example() -> None:
    # 100,000 CNY at 4.35 % for the 30 days of March: 100,000 × 0.0435 × 30 / 360 = 362.50.
    fraction = year_fraction(date(2024, 3, 1), date(2024, 3, 31), DayCount.ACT_360)

    assert to_fen(Decimal(100000) * Decimal("0.0435") * fraction) == Decimal("362.50")


@pytest.mark.parametrize(
    ("convention", "year_days"),
    [
        pytest.param(DayCount.ACT_360, 360, id="act360"),
        pytest.param(DayCount.ACT_365, 365, id="act365"),
        pytest.param(DayCount.THIRTY_360, 360, id="30360"),
    ],
)
def test_year_days(convention: DayCount, year_days: int) -> None:
    assert convention.year_days == year_days


@pytest.mark.parametrize(
    ("start", "months", "day", "expected"),
    [
        # End-of-month rule: a day the month lacks becomes its last day.
        pytest.param(date(2024, 1, 31), 1, None, date(2024, 2, 29), id="jan31-leap-february"),
        pytest.param(date(2024, 1, 31), 2, None, date(2024, 3, 31), id="jan31-march"),
        pytest.param(date(2024, 1, 31), 3, None, date(2024, 4, 30), id="jan31-april"),
        pytest.param(date(2023, 1, 31), 1, None, date(2023, 2, 28), id="jan31-common-february"),
        pytest.param(date(2023, 11, 30), 3, None, date(2024, 2, 29), id="across-the-year"),
        pytest.param(date(2024, 12, 31), 12, None, date(2025, 12, 31), id="one-year"),
        pytest.param(date(2024, 3, 31), -1, None, date(2024, 2, 29), id="backwards"),
        pytest.param(date(2024, 1, 15), 0, None, date(2024, 1, 15), id="zero-months"),
        # The explicit day keeps the anchor that a clipped date has lost.
        pytest.param(date(2024, 2, 29), 1, 31, date(2024, 3, 31), id="day-restores-31"),
        pytest.param(date(2024, 2, 29), 2, 31, date(2024, 4, 30), id="day-31-in-april"),
        pytest.param(date(2024, 1, 15), 1, 20, date(2024, 2, 20), id="fixed-repayment-day"),
        pytest.param(date(2024, 1, 15), 1, 1, date(2024, 2, 1), id="first-of-month"),
    ],
)
def test_add_months(start: date, months: int, day: int | None, expected: date) -> None:
    assert add_months(start, months, day=day) == expected


def test_add_months_without_day_loses_the_anchor_when_chained() -> None:
    # Why schedules pass day=: stepping month by month from a clipped date drifts.
    drifted = add_months(add_months(date(2024, 1, 31), 1), 1)

    assert drifted == date(2024, 3, 29)
    assert add_months(add_months(date(2024, 1, 31), 1), 1, day=31) == date(2024, 3, 31)


@pytest.mark.parametrize("day", [pytest.param(0, id="zero"), pytest.param(32, id="thirty-two")])
def test_add_months_refuses_an_impossible_day(day: int) -> None:
    with pytest.raises(ValueError, match=f"day must be 1..31, got {day}"):
        add_months(date(2024, 1, 15), 1, day=day)


dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 31))
month_steps = st.integers(min_value=-600, max_value=600)


@given(dates, month_steps, month_steps)
def test_add_months_composes_when_the_day_is_kept(start: date, a: int, b: int) -> None:
    assert add_months(start, a + b) == add_months(
        add_months(start, a, day=start.day), b, day=start.day
    )


@given(dates, month_steps, st.integers(min_value=1, max_value=31))
def test_add_months_keeps_the_day_or_clips_to_month_end(start: date, months: int, day: int) -> None:
    moved = add_months(start, months, day=day)

    assert (moved.year * 12 + moved.month) - (start.year * 12 + start.month) == months
    if moved.day != day:
        assert moved.day < day
        assert add_months(moved, 0, day=31) == moved  # clipped to the month's last day
