"""The vectorised batch path (批量还款计划) against the scalar ``generate_schedule``.

The expected frames are built here, loan by loan, from ``ScheduleTerms`` made directly from the
drawn values and converted to fen, independently of the batch module's own helpers.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from xiaowei.core.daycount import DayCount
from xiaowei.core.errors import InvalidInput
from xiaowei.core.money import RoundingMode
from xiaowei.lending.schedule import (
    Frequency,
    InterestBasis,
    RepaymentMethod,
    ScheduleTerms,
    generate_schedule,
)
from xiaowei.lending.schedule_batch import generate_schedules, round_quotient

SCHEMA = {
    "loan_id": pl.Int64,
    "number": pl.Int32,
    "start_date": pl.Date,
    "due_date": pl.Date,
    "principal_fen": pl.Int64,
    "interest_fen": pl.Int64,
    "balance_fen": pl.Int64,
}
LOAN_SCHEMA = {
    "loan_id": pl.Int64,
    "principal_fen": pl.Int64,
    "rate_ppm": pl.Int64,
    "term_months": pl.Int64,
    "start_date": pl.Date,
    "method": pl.String,
    "frequency": pl.String,
    "grace_periods": pl.Int64,
    "repayment_day": pl.Int64,
    "balloon_share_ppm": pl.Int64,
    "rounding": pl.String,
    "day_count": pl.String,
    "interest_basis": pl.String,
    "weights": pl.List(pl.Int64),
}


def fen(amount: Decimal) -> int:
    return int(amount * 100)


def expected_frame(loans: list[dict[str, Any]]) -> pl.DataFrame:
    """``generate_schedule`` of every loan, amounts converted to fen."""
    rows = []
    for loan in loans:
        terms = ScheduleTerms(
            principal=Decimal(loan["principal_fen"]) / 100,
            annual_rate=Decimal(loan["rate_ppm"]) / 1_000_000,
            term_months=loan["term_months"],
            start_date=loan["start_date"],
            method=RepaymentMethod(loan["method"]),
            frequency=Frequency(loan["frequency"]),
            repayment_day=loan["repayment_day"],
            grace_periods=loan["grace_periods"],
            balloon_share=Decimal(loan["balloon_share_ppm"]) / 1_000_000,
            weights=tuple(Decimal(w) for w in loan["weights"]),
            rounding=RoundingMode(loan["rounding"]),
            day_count=DayCount(loan["day_count"]),
            interest_basis=InterestBasis(loan["interest_basis"]),
        )
        rows.extend(
            (
                loan["loan_id"],
                i.number,
                i.start_date,
                i.due_date,
                fen(i.principal),
                fen(i.interest),
                fen(i.balance),
            )
            for i in generate_schedule(terms).installments
        )
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def random_loans(count: int, *, seed: int) -> list[dict[str, Any]]:
    """Valid loans over every method, frequency and batch option, with edge cases: one-fen
    amounts, zero rates, the 31st of the month, amounts too large for the integer path."""
    rng = np.random.default_rng(seed)
    loans = []
    for loan_id in range(count):
        method = RepaymentMethod(rng.choice([m.value for m in RepaymentMethod]))
        frequency = Frequency(rng.choice([f.value for f in Frequency]))
        months = frequency.months
        term = int(rng.integers(1, 25)) * months
        if method is RepaymentMethod.BULLET:
            term = int(rng.integers(1, 40))
        periods = 1 if method is RepaymentMethod.BULLET else term // months
        amortising = method in (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL)
        grace = int(rng.integers(0, periods)) if amortising and rng.random() < 0.3 else 0
        size = rng.random()
        principal = int(
            rng.integers(1, 1_000)
            if size < 0.15
            else rng.integers(10**13, 10**15)
            if size < 0.17
            else rng.integers(1_000_000, 300_000_000)
        )
        weights = (
            [int(w) for w in rng.integers(0, 4, periods - 1)] + [1]
            if method is RepaymentMethod.SEASONAL
            else []
        )
        start = date(2000, 1, 1) + timedelta(days=int(rng.integers(0, 36_500)))
        if rng.random() < 0.1:
            start = date(start.year, start.month, 28) + timedelta(days=3)
            start = start - timedelta(days=start.day)  # the month's last day
        loans.append(
            {
                "loan_id": loan_id,
                "principal_fen": principal,
                "rate_ppm": 0 if rng.random() < 0.05 else int(rng.integers(0, 1_000_001)),
                "term_months": term,
                "start_date": start,
                "method": method.value,
                "frequency": frequency.value,
                "grace_periods": grace,
                "repayment_day": int(rng.integers(1, 32)) if rng.random() < 0.4 else None,
                "balloon_share_ppm": (
                    int(rng.integers(1, 1_000_000)) if method is RepaymentMethod.BALLOON else 0
                ),
                "rounding": rng.choice([r.value for r in RoundingMode]),
                "day_count": rng.choice([d.value for d in DayCount]),
                "interest_basis": (
                    InterestBasis.ACTUAL_DAYS.value
                    if rng.random() < 0.03
                    else InterestBasis.PERIODIC.value
                ),
                "weights": weights,
            }
        )
    return loans


def loan_frame(loans: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(loans, schema=LOAN_SCHEMA)


def test_parity_with_the_scalar_path_on_random_loans() -> None:
    """Several thousand loans, every method and option: the whole frame equals the scalar
    path's, bit for bit."""
    loans = random_loans(4_000, seed=20260115)
    assert {loan["method"] for loan in loans} == {m.value for m in RepaymentMethod}
    assert_frame_equal(generate_schedules(loan_frame(loans)), expected_frame(loans))


@st.composite
def small_books(draw: st.DrawFn) -> list[dict[str, Any]]:
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    count = draw(st.integers(min_value=1, max_value=12))
    return random_loans(count, seed=seed)


@settings(max_examples=150, deadline=None)
@given(loans=small_books())
def test_parity_on_small_books(loans: list[dict[str, Any]]) -> None:
    assert_frame_equal(generate_schedules(loan_frame(loans)), expected_frame(loans))


def base_loan(**changes: Any) -> dict[str, Any]:
    loan: dict[str, Any] = {
        "loan_id": 1,
        "principal_fen": 10_000_000,
        "rate_ppm": 120_000,
        "term_months": 12,
        "start_date": date(2026, 1, 15),
        "method": RepaymentMethod.EQUAL_INSTALLMENT.value,
        "frequency": Frequency.MONTHLY.value,
        "grace_periods": 0,
        "repayment_day": None,
        "balloon_share_ppm": 0,
        "rounding": RoundingMode.HALF_UP.value,
        "day_count": DayCount.ACT_360.value,
        "interest_basis": InterestBasis.PERIODIC.value,
        "weights": [],
    }
    return {**loan, **changes}


def test_payment_on_a_rounding_boundary_matches_the_decimal_path() -> None:
    """5 fen at 0 % over 2 months is a level payment of exactly 2.5 fen: half-up pays 3 fen
    (四舍五入), half-even 2 fen, as the scalar Decimal path does."""
    loans = [
        base_loan(loan_id=1, principal_fen=5, rate_ppm=0, term_months=2),
        base_loan(loan_id=2, principal_fen=5, rate_ppm=0, term_months=2, rounding="half-even"),
    ]
    expected = pl.DataFrame(
        [
            (1, 1, date(2026, 1, 15), date(2026, 2, 15), 3, 0, 2),
            (1, 2, date(2026, 2, 15), date(2026, 3, 15), 2, 0, 0),
            (2, 1, date(2026, 1, 15), date(2026, 2, 15), 2, 0, 3),
            (2, 2, date(2026, 2, 15), date(2026, 3, 15), 3, 0, 0),
        ],
        schema=SCHEMA,
        orient="row",
    )
    result = generate_schedules(loan_frame(loans))
    assert_frame_equal(result, expected)
    assert_frame_equal(result, expected_frame(loans))


def test_interest_tie_rounds_half_up_or_half_even() -> None:
    """50 fen at 12 % accrues exactly 0.5 fen a month: 1 fen half-up, 0 fen half-even."""
    loans = [
        base_loan(loan_id=1, principal_fen=50, term_months=2, method="interest-only"),
        base_loan(
            loan_id=2, principal_fen=50, term_months=2, method="interest-only", rounding="half-even"
        ),
    ]
    expected = pl.DataFrame(
        [
            (1, 1, date(2026, 1, 15), date(2026, 2, 15), 0, 1, 50),
            (1, 2, date(2026, 2, 15), date(2026, 3, 15), 50, 1, 0),
            (2, 1, date(2026, 1, 15), date(2026, 2, 15), 0, 0, 50),
            (2, 2, date(2026, 2, 15), date(2026, 3, 15), 50, 0, 0),
        ],
        schema=SCHEMA,
        orient="row",
    )
    assert_frame_equal(generate_schedules(loan_frame(loans)), expected)


def test_end_of_month_rule_and_broken_first_period() -> None:
    """A loan disbursed on 31 January falls due on 29 February, 31 March, 30 April; one
    disbursed on 10 January with repayment day 31 accrues 50 days first (ACT/360)."""
    loans = [
        base_loan(loan_id=1, principal_fen=300_000, start_date=date(2024, 1, 31), term_months=3),
        base_loan(
            loan_id=2,
            principal_fen=360_000,
            start_date=date(2024, 1, 10),
            term_months=3,
            method="interest-only",
            repayment_day=31,
        ),
    ]
    result = generate_schedules(loan_frame(loans))
    assert (
        result["due_date"].to_list()
        == [
            date(2024, 2, 29),
            date(2024, 3, 31),
            date(2024, 4, 30),
        ]
        * 2
    )
    # 3,600.00 × 12 % / 360 × 50 days = 60.00, then 1 % a month
    assert result.filter(pl.col("loan_id") == 2)["interest_fen"].to_list() == [6_000, 3_600, 3_600]
    assert_frame_equal(result, expected_frame(loans))


def test_numpy_arrays_as_input() -> None:
    loans = {
        "loan_id": np.array([7, 8]),
        "principal_fen": np.array([10_000_000, 12_000_000]),
        "rate_ppm": np.array([120_000, 120_000]),
        "term_months": np.array([1, 12]),
        "start_date": np.array(["2026-01-15", "2026-01-15"], dtype="datetime64[D]"),
        "method": np.array(["equal-principal", "bullet"]),
        "frequency": np.array(["monthly", "monthly"]),
        "grace_periods": np.array([0, 0]),
    }
    expected = pl.DataFrame(
        [
            (7, 1, date(2026, 1, 15), date(2026, 2, 15), 10_000_000, 100_000, 0),
            (8, 1, date(2026, 1, 15), date(2027, 1, 15), 12_000_000, 1_440_000, 0),
        ],
        schema=SCHEMA,
        orient="row",
    )
    assert_frame_equal(generate_schedules(loans), expected)


def test_no_loans_no_installments() -> None:
    empty = loan_frame([])
    assert_frame_equal(generate_schedules(empty), pl.DataFrame(schema=SCHEMA))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"principal_fen": 0}, "principal_fen", id="zero-amount"),
        pytest.param({"rate_ppm": 1_000_001}, "rate_ppm", id="rate-above-one"),
        pytest.param({"rate_ppm": -1}, "rate_ppm", id="negative-rate"),
        pytest.param({"term_months": 0}, "term_months", id="zero-term"),
        pytest.param(
            {"term_months": 10, "frequency": "quarterly"}, "term_months", id="broken-quarters"
        ),
        pytest.param({"repayment_day": 32}, "repayment_day", id="day-32"),
        pytest.param({"grace_periods": -1}, "grace_periods", id="negative-grace"),
        pytest.param({"grace_periods": 12}, "grace_periods", id="grace-covers-the-term"),
        pytest.param(
            {"grace_periods": 1, "method": "bullet"}, "grace_periods", id="grace-on-bullet"
        ),
        pytest.param({"method": "balloon"}, "balloon_share_ppm", id="balloon-without-share"),
        pytest.param({"method": "annuity"}, "method", id="unknown-method"),
        pytest.param({"frequency": "weekly"}, "frequency", id="unknown-frequency"),
        pytest.param({"rounding": "up"}, "rounding", id="unknown-rounding"),
        pytest.param({"day_count": "ACT/366"}, "day_count", id="unknown-day-count"),
        pytest.param({"term_months": None}, "term_months", id="missing-term"),
    ],
)
def test_invalid_loans_name_the_column_and_the_loan(changes: dict[str, Any], field: str) -> None:
    loans = loan_frame([base_loan(loan_id=1), base_loan(loan_id=42, **changes)])
    with pytest.raises(InvalidInput, match=rf"^{field}: loan 42: ") as caught:
        generate_schedules(loans)
    assert caught.value.field == field


def test_missing_column_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"^rate_ppm: column is missing"):
        generate_schedules(loan_frame([base_loan()]).drop("rate_ppm"))


def test_round_quotient_half_up_and_half_even() -> None:
    numerator = np.array([5, 15, 25, 14, 16, 0], dtype=np.int64)
    half_up = round_quotient(numerator, 10, half_even=np.zeros(6, dtype=bool))
    half_even = round_quotient(numerator, 10, half_even=np.ones(6, dtype=bool))
    assert half_up.tolist() == [1, 2, 3, 1, 2, 0]
    assert half_even.tolist() == [0, 2, 2, 1, 2, 0]


def test_amounts_too_large_for_int64_products_go_to_the_scalar_path() -> None:
    """Amount × rate × days, or amount × balloon share, beyond int64 (6 × 10¹⁴ fen × 34 %
    overflowed before such loans were delegated): still equal to the scalar path."""
    loans = [
        base_loan(
            loan_id=1,
            principal_fen=621_017_004_276_546,
            rate_ppm=0,
            term_months=18,
            method="balloon",
            balloon_share_ppm=340_675,
        ),
        base_loan(loan_id=2, principal_fen=10**15, rate_ppm=1_000_000, repayment_day=31),
        base_loan(loan_id=3, principal_fen=10**15, term_months=36, method="bullet"),
    ]
    assert_frame_equal(generate_schedules(loan_frame(loans)), expected_frame(loans))
