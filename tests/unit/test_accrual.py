"""Daily accrual rules (按日计提): cumulative interest with cap and true-up, penalty days, rounding.

Expected figures are worked by hand in the comments (ACT/360 unless stated: the daily rate is
annual rate / 360, 《人民币利率管理规定》).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.core.daycount import DayCount
from xiaowei.core.money import FEN, ZERO, RoundingMode
from xiaowei.lending.accrual import daily_penalty, interest_accrued_to, overdue_days_to_charge

D = Decimal


def accrued(
    as_of: date,
    *,
    start: date,
    due: date,
    opening: str,
    contractual: str,
    rate: str = "0.12",
    day_count: DayCount = DayCount.ACT_360,
    rounding: RoundingMode = RoundingMode.HALF_UP,
) -> Decimal:
    return interest_accrued_to(
        as_of=as_of,
        start=start,
        due=due,
        opening_balance=D(opening),
        annual_rate=D(rate),
        contractual_interest=D(contractual),
        day_count=day_count,
        rounding=rounding,
    )


def daily_increments(
    *, start: date, due: date, opening: str, contractual: str, day_count: DayCount
) -> list[Decimal]:
    """What each end of day of the period [start, due) posts: differences of cumulative figures."""
    out, before = [], ZERO
    day = start
    while day < due:
        now = accrued(
            day, start=start, due=due, opening=opening, contractual=contractual, day_count=day_count
        )
        out.append(now - before)
        before = now
        day += timedelta(days=1)
    return out


# --- interest_accrued_to: worked months ---------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        pytest.param(date(2025, 12, 31), "0.00", id="before-start"),
        # 算头不算尾: the end of the first day already earns that day.
        # 10,049.42 × 0.12 / 360 = 3.349807 a day → 3.35
        pytest.param(date(2026, 3, 1), "3.35", id="day-1"),
        # 10 days: 33.49807 → 33.50
        pytest.param(date(2026, 3, 10), "33.50", id="day-10"),
        # 29 days: 97.14441 → 97.14
        pytest.param(date(2026, 3, 29), "97.14", id="day-29"),
        # 30 days: 100.49420 → 100.49, already the contractual interest
        pytest.param(date(2026, 3, 30), "100.49", id="day-30-reaches-contract"),
        # 31 days would be 103.84; capped — and it is due − 1, so exactly the contract
        pytest.param(date(2026, 3, 31), "100.49", id="due-minus-1"),
        pytest.param(date(2026, 4, 1), "100.49", id="due-date"),
        pytest.param(date(2026, 5, 15), "100.49", id="long-after"),
    ],
)
def test_interest_accrued_on_a_31_day_month(as_of: date, expected: str) -> None:
    # Period [1 Mar, 1 Apr): 31 days. Contract: 10,049.42 × 0.12 / 12 = 100.4942 → 100.49.
    got = accrued(
        as_of,
        start=date(2026, 3, 1),
        due=date(2026, 4, 1),
        opening="10049.42",
        contractual="100.49",
    )
    assert got == D(expected)


def test_31_day_month_last_day_accrues_nothing() -> None:
    # Days 1..30 reach 100.49 (see above); the 31st day (due − 1) has nothing left to accrue.
    steps = daily_increments(
        start=date(2026, 3, 1),
        due=date(2026, 4, 1),
        opening="10049.42",
        contractual="100.49",
        day_count=DayCount.ACT_360,
    )
    assert len(steps) == 31
    assert sum(steps) == D("100.49")
    assert steps[-1] == ZERO
    # day 30: 100.49 − 97.14 = 3.35
    assert steps[29] == D("3.35")


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # 12,000 × 0.12 / 360 = 4.00 a day exactly
        pytest.param(date(2026, 4, 1), "4.00", id="day-1"),
        pytest.param(date(2026, 4, 15), "60.00", id="day-15"),
        pytest.param(date(2026, 4, 28), "112.00", id="day-28"),
        pytest.param(date(2026, 4, 29), "116.00", id="day-29"),
        # due − 1: 30 × 4 = 120.00 = contract (12,000 × 0.01)
        pytest.param(date(2026, 4, 30), "120.00", id="due-minus-1"),
    ],
)
def test_interest_accrued_on_a_30_day_month(as_of: date, expected: str) -> None:
    got = accrued(
        as_of, start=date(2026, 4, 1), due=date(2026, 5, 1), opening="12000", contractual="120.00"
    )
    assert got == D(expected)


def test_28_day_month_trues_up_on_due_minus_1() -> None:
    # February 2026: 28 days. 27 days × 4.00 = 108.00 by 27 Feb; the contract is a month's
    # interest (120.00), so 28 Feb (due − 1) trues up by 12.00 instead of 4.00.
    start, due = date(2026, 2, 1), date(2026, 3, 1)
    assert accrued(
        date(2026, 2, 27), start=start, due=due, opening="12000", contractual="120.00"
    ) == D("108.00")
    assert accrued(
        date(2026, 2, 28), start=start, due=due, opening="12000", contractual="120.00"
    ) == D("120.00")
    steps = daily_increments(
        start=start, due=due, opening="12000", contractual="120.00", day_count=DayCount.ACT_360
    )
    assert steps == [D("4.00")] * 27 + [D("12.00")]
    assert sum(steps) == D("120.00")


def test_cap_holds_a_long_broken_period_at_the_contract() -> None:
    # A 32-day period [1 Jan, 2 Feb) whose contract is one month (120.00): by 31 Jan the day
    # figure is 31 × 4 = 124.00, above the contract, so it is capped at 120.00.
    start, due = date(2026, 1, 1), date(2026, 2, 2)
    assert accrued(
        date(2026, 1, 30), start=start, due=due, opening="12000", contractual="120.00"
    ) == D("120.00")
    assert accrued(
        date(2026, 1, 31), start=start, due=due, opening="12000", contractual="120.00"
    ) == D("120.00")


def test_act_365_31_day_month_trues_up() -> None:
    # ACT/365: 12,000 × 0.12 / 365 = 3.945205 a day; 30 days → 118.3562 → 118.36; the 31st day
    # (due − 1) trues up to the contract 120.00, so it posts 1.64.
    steps = daily_increments(
        start=date(2026, 1, 1),
        due=date(2026, 2, 1),
        opening="12000",
        contractual="120.00",
        day_count=DayCount.ACT_365,
    )
    assert steps[0] == D("3.95")  # 3.945205 → 3.95
    assert sum(steps[:30]) == D("118.36")
    assert steps[-1] == D("1.64")
    assert sum(steps) == D("120.00")


def test_rounding_mode_reaches_the_cumulative_figure() -> None:
    # 10.00 × 0.18 × 1 / 360 = 0.005 exactly: half-up 0.01, half-even 0.00.
    got = [
        accrued(
            date(2026, 1, 1),
            start=date(2026, 1, 1),
            due=date(2026, 2, 1),
            opening="10.00",
            contractual="0.15",
            rate="0.18",
            rounding=mode,
        )
        for mode in (RoundingMode.HALF_UP, RoundingMode.HALF_EVEN)
    ]
    assert got == [D("0.01"), D("0.00")]


@settings(max_examples=100, deadline=None)
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    length=st.integers(min_value=1, max_value=95),
    opening_fen=st.integers(min_value=1, max_value=10**9),
    rate_ppm=st.integers(min_value=0, max_value=360_000),
    day_count=st.sampled_from(list(DayCount)),
    rounding=st.sampled_from(list(RoundingMode)),
    contract_share=st.integers(min_value=50, max_value=150),
)
def test_period_accruals_sum_to_the_contract_and_never_go_back(
    start: date,
    length: int,
    opening_fen: int,
    rate_ppm: int,
    day_count: DayCount,
    rounding: RoundingMode,
    contract_share: int,
) -> None:
    due = start + timedelta(days=length)
    opening = D(opening_fen) / 100
    rate = D(rate_ppm) / 1_000_000
    # A contract near the month's periodic interest (50 %–150 % of it), to hit cap and true-up.
    contractual = (opening * rate / 12 * contract_share / 100).quantize(FEN)
    cumulative = [
        interest_accrued_to(
            as_of=start + timedelta(days=k),
            start=start,
            due=due,
            opening_balance=opening,
            annual_rate=rate,
            contractual_interest=contractual,
            day_count=day_count,
            rounding=rounding,
        )
        for k in range(length)
    ]
    assert cumulative[-1] == contractual
    assert all(c == c.quantize(FEN) for c in cumulative)
    assert all(ZERO <= c <= contractual for c in cumulative)
    assert all(a <= b for a, b in pairwise(cumulative))


# --- overdue_days_to_charge ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        pytest.param(date(2026, 3, 30), 0, id="before-due"),
        pytest.param(date(2026, 3, 31), 0, id="due-date"),
        pytest.param(date(2026, 4, 1), 1, id="first-day-after"),
        pytest.param(date(2026, 4, 2), 1, id="second-day-after"),
        pytest.param(date(2026, 5, 31), 1, id="long-after"),
    ],
)
def test_overdue_days_without_grace(as_of: date, expected: int) -> None:
    assert overdue_days_to_charge(as_of, date(2026, 3, 31), grace_days=0) == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        pytest.param(date(2026, 3, 31), 0, id="due-date"),
        pytest.param(date(2026, 4, 1), 0, id="grace-1"),
        pytest.param(date(2026, 4, 2), 0, id="grace-2"),
        pytest.param(date(2026, 4, 3), 0, id="grace-3"),
        # First overdue day: 1, 2, 3 April (the grace days) and 4 April itself.
        pytest.param(date(2026, 4, 4), 4, id="first-overdue-day-catches-up"),
        pytest.param(date(2026, 4, 5), 1, id="then-one-a-day"),
    ],
)
def test_overdue_days_with_three_grace_days(as_of: date, expected: int) -> None:
    assert overdue_days_to_charge(as_of, date(2026, 3, 31), grace_days=3) == expected


@settings(max_examples=100, deadline=None)
@given(
    due=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    grace=st.integers(min_value=0, max_value=30),
    late=st.integers(min_value=-5, max_value=120),
)
def test_penalty_days_run_from_the_day_after_due_once_grace_is_over(
    due: date, grace: int, late: int
) -> None:
    # Summing the days charged by every end of day up to due + late gives every day after the
    # due date once the installment is overdue (逾期则自到期日次日起计收), else none.
    charged = sum(
        overdue_days_to_charge(due + timedelta(days=k), due, grace_days=grace)
        for k in range(-5, late + 1)
    )
    assert charged == (late if late > grace else 0)


# --- daily_penalty -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "half_up", "half_even"),
    [
        # 1,950.58 × 0.18 / 360 = 0.97529 → 0.98 either way
        pytest.param("1950.58", "0.98", "0.98", id="ordinary"),
        # 10.00 × 0.18 / 360 = 0.005 exactly: up → 0.01, to even → 0.00
        pytest.param("10.00", "0.01", "0.00", id="tie-to-even-down"),
        # 30.00 × 0.18 / 360 = 0.015: both → 0.02 (2 is even)
        pytest.param("30.00", "0.02", "0.02", id="tie-to-even-up"),
        # 50.00 × 0.18 / 360 = 0.025: up → 0.03, to even → 0.02
        pytest.param("50.00", "0.03", "0.02", id="tie-25"),
        # 9.99 × 0.18 / 360 = 0.004995 → 0.00 either way
        pytest.param("9.99", "0.00", "0.00", id="below-half-fen"),
        pytest.param("0.00", "0.00", "0.00", id="nothing-overdue"),
    ],
)
def test_daily_penalty_rounding(base: str, half_up: str, half_even: str) -> None:
    rate = D("0.18")  # 12 % × (1 + 50 %), the PBOC markup for overdue principal
    up = daily_penalty(D(base), rate, day_count=DayCount.ACT_360, rounding=RoundingMode.HALF_UP)
    even = daily_penalty(D(base), rate, day_count=DayCount.ACT_360, rounding=RoundingMode.HALF_EVEN)
    assert (up, even) == (D(half_up), D(half_even))


def test_daily_penalty_act_365() -> None:
    # 36,500 × 0.18 / 365 = 18.00
    assert daily_penalty(
        D("36500"), D("0.18"), day_count=DayCount.ACT_365, rounding=RoundingMode.HALF_UP
    ) == D("18.00")
