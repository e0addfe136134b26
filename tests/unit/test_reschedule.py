"""Re-amortisation after a prepayment (提前还款后重新计算还款计划): worked examples and invariants.

Worked examples re-amortise 7,089.11 left on 11 January 2026 of a 12 % loan whose remaining
due dates are the 1st of February … July (the prepayment example of test_loan.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.core.daycount import add_months
from xiaowei.core.money import FEN, ZERO
from xiaowei.lending.product import PrepaymentMode
from xiaowei.lending.reschedule import reamortize
from xiaowei.lending.schedule import Installment, RepaymentMethod, ScheduleTerms

D = Decimal
PREPAID_ON = date(2026, 1, 11)
DUES = [date(2026, m, 1) for m in range(2, 8)]


def terms(method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT) -> ScheduleTerms:
    return ScheduleTerms(
        principal=D("12000"),
        annual_rate=D("0.12"),
        term_months=6,
        start_date=date(2026, 1, 1),
        method=method,
    )


def rows(installments: list[Installment]) -> list[tuple[date, Decimal, Decimal, Decimal]]:
    return [(i.due_date, i.principal, i.interest, i.balance) for i in installments]


def test_lower_installment_keeps_maturity_and_lowers_the_payment() -> None:
    # Payment 7,089.11 × 0.01 / (1 − 1.01⁻⁶) = 1,223.2109 → 1,223.21 over the same six dates.
    # [11 Jan, 1 Feb) is 21 days: interest 7,089.11 × 0.12 × 21 / 360 = 49.6238 → 49.62; the
    # principal stays on the annuity track, 1,223.21 − 70.89 (a regular month) = 1,152.32.
    new = reamortize(
        terms(),
        balance=D("7089.11"),
        from_date=PREPAID_ON,
        due_dates=DUES,
        mode=PrepaymentMode.LOWER_INSTALLMENT,
        previous_payment=D("2070.58"),
        previous_principal=D("1950.58"),
    )
    assert rows(new) == [
        (date(2026, 2, 1), D("1152.32"), D("49.62"), D("5936.79")),
        (date(2026, 3, 1), D("1163.84"), D("59.37"), D("4772.95")),  # 59.3679
        (date(2026, 4, 1), D("1175.48"), D("47.73"), D("3597.47")),  # 47.7295
        (date(2026, 5, 1), D("1187.24"), D("35.97"), D("2410.23")),  # 35.9747
        (date(2026, 6, 1), D("1199.11"), D("24.10"), D("1211.12")),  # 24.1023
        (date(2026, 7, 1), D("1211.12"), D("12.11"), ZERO),  # 12.1112, the rest
    ]
    assert new[0].start_date == PREPAID_ON
    assert [i.number for i in new] == [1, 2, 3, 4, 5, 6]


def test_first_period_shorter_than_a_month_accrues_actual_days_regression() -> None:
    # Regression: 11 Jan → 1 Feb used to count as a regular month (70.89) because moving
    # 11 Jan one month onto the due day (the 1st) lands on 1 Feb. It is 21 days: 49.62.
    new = reamortize(
        terms(),
        balance=D("7089.11"),
        from_date=PREPAID_ON,
        due_dates=DUES,
        mode=PrepaymentMode.LOWER_INSTALLMENT,
        previous_payment=D("2070.58"),
        previous_principal=D("1950.58"),
    )
    assert new[0].interest == D("49.62")
    # 10 Feb → 1 Mar: 19 days, 5,000 × 0.12 × 19 / 360 = 31.666… → 31.67, not 50.00.
    later = reamortize(
        terms(),
        balance=D("5000"),
        from_date=date(2026, 2, 10),
        due_dates=DUES[1:],
        mode=PrepaymentMode.LOWER_INSTALLMENT,
        previous_payment=D("2070.58"),
        previous_principal=D("1970.09"),
    )
    assert later[0].interest == D("31.67")


@pytest.mark.parametrize(
    ("start", "from_date", "dues", "expected"),
    [
        # Prepaid on a due date: the first new period is a whole month, periodic interest
        # 5,000 × 0.01 = 50.00 (ACT/360 would give 28 days: 46.67).
        pytest.param(
            date(2026, 1, 1),
            date(2026, 2, 1),
            [date(2026, 3, 1), date(2026, 4, 1)],
            "50.00",
            id="on-a-due-date",
        ),
        # End-of-month loan: 28 Feb → 31 Mar is a month too (31 days by ACT/360: 51.67).
        pytest.param(
            date(2026, 1, 31),
            date(2026, 2, 28),
            [date(2026, 3, 31), date(2026, 4, 30)],
            "50.00",
            id="end-of-month-rule",
        ),
        # 30 Apr → 31 May likewise.
        pytest.param(
            date(2026, 1, 31),
            date(2026, 4, 30),
            [date(2026, 5, 31), date(2026, 6, 30)],
            "50.00",
            id="end-of-month-30-to-31",
        ),
        # Not a whole month: 27 → 28 Feb is one day, 5,000 × 0.12 / 360 = 1.666… → 1.67.
        pytest.param(
            date(2026, 1, 31),
            date(2026, 2, 27),
            [date(2026, 2, 28), date(2026, 3, 31)],
            "1.67",
            id="one-day-period",
        ),
    ],
)
def test_first_period_interest_whole_month_or_actual_days(
    start: date, from_date: date, dues: list[date], expected: str
) -> None:
    t = ScheduleTerms(principal=D("12000"), annual_rate=D("0.12"), term_months=6, start_date=start)
    new = reamortize(
        t,
        balance=D("5000"),
        from_date=from_date,
        due_dates=dues,
        mode=PrepaymentMode.LOWER_INSTALLMENT,
        previous_payment=D("2070.58"),
        previous_principal=D("1950.58"),
    )
    assert new[0].interest == D(expected)


def test_shorten_term_keeps_the_payment_and_drops_periods() -> None:
    # Payment stays 2,070.58: principal = 2,070.58 − regular interest of the balance.
    #   1 Feb: 7,089.11 → interest 49.62 (21 days), principal 2,070.58 − 70.89 = 1,999.69
    #   1 Mar: 5,089.42 → 50.8942 → 50.89, principal 2,019.69
    #   1 Apr: 3,069.73 → 30.6973 → 30.70, principal 2,039.88
    #   1 May: 1,029.85 → 10.2985 → 10.30, principal the rest 1,029.85; June and July dropped.
    new = reamortize(
        terms(),
        balance=D("7089.11"),
        from_date=PREPAID_ON,
        due_dates=DUES,
        mode=PrepaymentMode.SHORTEN_TERM,
        previous_payment=D("2070.58"),
        previous_principal=D("1950.58"),
    )
    assert rows(new) == [
        (date(2026, 2, 1), D("1999.69"), D("49.62"), D("5089.42")),
        (date(2026, 3, 1), D("2019.69"), D("50.89"), D("3069.73")),
        (date(2026, 4, 1), D("2039.88"), D("30.70"), D("1029.85")),
        (date(2026, 5, 1), D("1029.85"), D("10.30"), ZERO),
    ]


def test_equal_principal_shorten_term_keeps_the_principal_part() -> None:
    # 7,000 at 2,000 a period: 2,000, 2,000, 2,000, 1,000. Interest: 21 days on 7,000 = 49.00,
    # then 5,000 × 0.01 = 50.00, 3,000 × 0.01 = 30.00, 1,000 × 0.01 = 10.00.
    new = reamortize(
        terms(RepaymentMethod.EQUAL_PRINCIPAL),
        balance=D("7000"),
        from_date=PREPAID_ON,
        due_dates=DUES,
        mode=PrepaymentMode.SHORTEN_TERM,
        previous_payment=D("2120.00"),
        previous_principal=D("2000.00"),
    )
    assert rows(new) == [
        (date(2026, 2, 1), D("2000.00"), D("49.00"), D("5000.00")),
        (date(2026, 3, 1), D("2000.00"), D("50.00"), D("3000.00")),
        (date(2026, 4, 1), D("2000.00"), D("30.00"), D("1000.00")),
        (date(2026, 5, 1), D("1000.00"), D("10.00"), ZERO),
    ]


def test_equal_principal_lower_installment_spreads_over_every_date() -> None:
    # 7,000 / 6 = 1,166.666… → 1,166.67 five times; the last takes 7,000 − 5 × 1,166.67 = 1,166.65.
    new = reamortize(
        terms(RepaymentMethod.EQUAL_PRINCIPAL),
        balance=D("7000"),
        from_date=PREPAID_ON,
        due_dates=DUES,
        mode=PrepaymentMode.LOWER_INSTALLMENT,
        previous_payment=D("2120.00"),
        previous_principal=D("2000.00"),
    )
    assert [i.principal for i in new] == [D("1166.67")] * 5 + [D("1166.65")]
    assert new[0].interest == D("49.00")
    assert new[1].interest == D("58.33")  # 5,833.33 × 0.01 = 58.3333


def test_interest_only_still_repays_at_maturity() -> None:
    new = reamortize(
        terms(RepaymentMethod.INTEREST_ONLY),
        balance=D("7000"),
        from_date=PREPAID_ON,
        due_dates=DUES,
        mode=PrepaymentMode.LOWER_INSTALLMENT,
        previous_payment=D("120.00"),
        previous_principal=ZERO,
    )
    assert [i.principal for i in new] == [ZERO] * 5 + [D("7000")]
    assert [i.interest for i in new] == [D("49.00")] + [D("70.00")] * 5


def test_bullet_accrues_the_broken_term_by_actual_days() -> None:
    # 11 Jan → 1 Jul: 21 + 28 + 31 + 30 + 31 + 30 = 171 days; 7,000 × 0.12 × 171 / 360 = 399.00.
    new = reamortize(
        terms(RepaymentMethod.BULLET),
        balance=D("7000"),
        from_date=PREPAID_ON,
        due_dates=[date(2026, 7, 1)],
        mode=PrepaymentMode.LOWER_INSTALLMENT,
        previous_payment=D("12720"),
        previous_principal=D("12000"),
    )
    assert rows(new) == [(date(2026, 7, 1), D("7000"), D("399.00"), ZERO)]


def test_nothing_left_gives_no_rows_and_no_dates_is_an_error() -> None:
    def run(balance: Decimal, dues: list[date]) -> list[Installment]:
        return reamortize(
            terms(),
            balance=balance,
            from_date=PREPAID_ON,
            due_dates=dues,
            mode=PrepaymentMode.LOWER_INSTALLMENT,
            previous_payment=D("2070.58"),
            previous_principal=D("1950.58"),
        )

    assert run(ZERO, DUES) == []
    assert run(D("-1"), DUES) == []
    with pytest.raises(ValueError, match="no due dates"):
        run(D("100"), [])


METHODS = [
    RepaymentMethod.EQUAL_INSTALLMENT,
    RepaymentMethod.EQUAL_PRINCIPAL,
    RepaymentMethod.INTEREST_ONLY,
    RepaymentMethod.BALLOON,
]


@settings(max_examples=100, deadline=None)
@given(
    method=st.sampled_from(METHODS),
    mode=st.sampled_from([PrepaymentMode.SHORTEN_TERM, PrepaymentMode.LOWER_INSTALLMENT]),
    balance_fen=st.integers(min_value=1, max_value=100_000_000),
    rate_ppm=st.integers(min_value=0, max_value=360_000),
    periods=st.integers(min_value=1, max_value=24),
    offset=st.integers(min_value=0, max_value=30),
    payment_share=st.integers(min_value=1, max_value=200),
)
def test_reamortised_principal_sums_to_the_balance(
    method: RepaymentMethod,
    mode: PrepaymentMode,
    balance_fen: int,
    rate_ppm: int,
    periods: int,
    offset: int,
    payment_share: int,
) -> None:
    balance = D(balance_fen) / 100
    t = ScheduleTerms(
        principal=max(balance, D("1.00")) * 2,
        annual_rate=D(rate_ppm) / 1_000_000,
        term_months=24,
        start_date=date(2025, 12, 31),
        method=method,
        balloon_share=D("0.3") if method is RepaymentMethod.BALLOON else ZERO,
    )
    dues = [add_months(date(2026, 1, 31), k + 1) for k in range(periods)]
    from_date = date(2026, 1, 31 - offset)
    previous = (balance / periods * payment_share / 100).quantize(FEN) + FEN
    new = reamortize(
        t,
        balance=balance,
        from_date=from_date,
        due_dates=dues,
        mode=mode,
        previous_payment=previous,
        previous_principal=previous,
    )
    assert sum(i.principal for i in new) == balance
    assert new[-1].balance == ZERO
    assert all(i.principal >= 0 and i.interest >= 0 and i.balance >= 0 for i in new)
    assert all(v == v.quantize(FEN) for i in new for v in (i.principal, i.interest, i.balance))
    assert [i.due_date for i in new] == dues[: len(new)]
    assert new[0].start_date == from_date
    assert all(a.due_date == b.start_date for a, b in pairwise(new))
