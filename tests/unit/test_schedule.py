"""Money math of repayment schedules (还款计划): worked examples, published vectors, invariants.

Expected figures are derived independently of ``generate_schedule`` (by hand, or from a closed
formula written out in the test), or copied from the published vectors of Frappe Lending and
Apache Fineract collected in /work/shared/research/loan_management_systems.md §4.
"""

from __future__ import annotations

import decimal
import itertools
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.core.daycount import DayCount
from xiaowei.core.errors import InvalidInput
from xiaowei.core.money import FEN, RoundingMode
from xiaowei.lending.schedule import (
    Frequency,
    InterestBasis,
    RepaymentMethod,
    Schedule,
    ScheduleTerms,
    generate_schedule,
)

D = Decimal
Row = tuple[int, date, Decimal, Decimal, Decimal]


def rows(schedule: Schedule) -> list[Row]:
    """(number, due date, principal, interest, balance) of every installment."""
    return [
        (i.number, i.due_date, i.principal, i.interest, i.balance) for i in schedule.installments
    ]


def whole_yuan(value: Decimal) -> Decimal:
    """Rounded to 0 dp, as Frappe's tests compare (``flt(x, 0)``)."""
    return value.quantize(D(1), rounding=decimal.ROUND_HALF_UP)


def to_fen_exact(value: Decimal) -> Decimal:
    """Rounded half-up to the fen (四舍五入)."""
    return value.quantize(FEN, rounding=decimal.ROUND_HALF_UP)


def annuity(principal: Decimal, rate: Decimal, periods: int) -> Decimal:
    """Textbook annuity P·r / (1 − (1 + r)^−n), written out independently of schedule.py."""
    return principal * rate / (1 - (1 + rate) ** -periods)


# --- worked examples ------------------------------------------------------------------------


def test_equal_installment_issue_example() -> None:
    """等额本息: 100,000 at 12 % for 12 months from 2026-01-15 (the issue's example)."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("100000"),
            annual_rate=D("0.12"),
            term_months=12,
            start_date=date(2026, 1, 15),
        )
    )
    first = schedule.installments[0]
    assert (first.due_date, first.principal, first.interest, first.total, first.balance) == (
        date(2026, 2, 15),
        D("7884.88"),
        D("1000.00"),
        D("8884.88"),
        D("92115.12"),
    )
    assert to_fen_exact(annuity(D(100000), D("0.01"), 12)) == D("8884.88")
    assert all(i.total == D("8884.88") for i in schedule.installments[:-1])
    assert schedule.installments[-1].balance == 0
    assert schedule.total_principal == D("100000")
    assert schedule.apr == pytest.approx(0.12, abs=1e-6)
    assert schedule.effective_annual_rate == pytest.approx(1.01**12 - 1, abs=1e-6)
    assert schedule.effective_annual_rate == pytest.approx(0.126825, abs=1e-6)


def test_equal_principal_hand_computed() -> None:
    """等额本金: 120,000 at 12 %, 12 months: 10,000 a month, interest 1 % of the balance."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("120000"),
            annual_rate=D("0.12"),
            term_months=12,
            start_date=date(2026, 1, 15),
            method=RepaymentMethod.EQUAL_PRINCIPAL,
        )
    )
    expected = [
        (
            k,
            date(2026 + (k // 12), k % 12 + 1, 15),
            D("10000.00"),
            D(1200 - 100 * (k - 1)),
            D(120000 - 10000 * k),
        )
        for k in range(1, 13)
    ]
    assert rows(schedule) == expected
    assert schedule.total_interest == D("7800.00")


def test_equal_principal_rounding_goes_to_the_last_installment() -> None:
    """100,000 / 12 = 8,333.33 a month; the last installment takes the 0.04 left over."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("100000"),
            annual_rate=D("0.12"),
            term_months=12,
            start_date=date(2026, 1, 15),
            method=RepaymentMethod.EQUAL_PRINCIPAL,
        )
    )
    principals = [i.principal for i in schedule.installments]
    assert principals == [D("8333.33")] * 11 + [D("8333.37")]
    # 91,666.67 × 1 % = 916.6667 → 916.67; 8,333.37 × 1 % = 83.3337 → 83.33
    assert schedule.installments[1].interest == D("916.67")
    assert schedule.installments[-1].interest == D("83.33")


def test_interest_only_hand_computed() -> None:
    """按月付息到期还本: 1 % a month on the full amount, principal at maturity."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("100000"),
            annual_rate=D("0.12"),
            term_months=6,
            start_date=date(2026, 1, 15),
            method=RepaymentMethod.INTEREST_ONLY,
        )
    )
    expected = [
        (k, date(2026, 1 + k, 15), D(0), D("1000.00"), D("100000")) for k in range(1, 6)
    ] + [(6, date(2026, 7, 15), D("100000"), D("1000.00"), D(0))]
    assert rows(schedule) == expected


def test_bullet_one_installment_of_a_years_interest() -> None:
    """到期一次还本付息 / 利随本清: 100,000 at 12 % over 12 months → interest 12,000 once."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("100000"),
            annual_rate=D("0.12"),
            term_months=12,
            start_date=date(2026, 1, 15),
            method=RepaymentMethod.BULLET,
        )
    )
    assert rows(schedule) == [(1, date(2027, 1, 15), D("100000"), D("12000.00"), D(0))]
    assert schedule.apr == pytest.approx(0.12, abs=1e-9)


def test_balloon_share_stays_until_the_last_installment() -> None:
    """气球贷: 40 % of 100,000 at maturity; the rest amortises, and the level payment is the
    annuity of 60,000 plus the interest on the 40,000 that stays outstanding."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("100000"),
            annual_rate=D("0.12"),
            term_months=12,
            start_date=date(2026, 1, 15),
            method=RepaymentMethod.BALLOON,
            balloon_share=D("0.4"),
        )
    )
    payment = to_fen_exact(annuity(D(60000), D("0.01"), 12) + D(400))
    assert payment == D("5730.93")
    *regular, last = schedule.installments
    assert all(i.total == payment for i in regular)
    assert all(i.balance > D(40000) for i in regular)
    assert last.principal > D(40000)
    assert last.balance == 0
    assert schedule.total_principal == D(100000)


def test_seasonal_weights() -> None:
    """季节性还款: principal by weights (0, 0, 1, 1, 0, 2) of 120,000; interest 1 % a month."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("120000"),
            annual_rate=D("0.12"),
            term_months=6,
            start_date=date(2026, 1, 15),
            method=RepaymentMethod.SEASONAL,
            weights=(D(0), D(0), D(1), D(1), D(0), D(2)),
        )
    )
    assert [(i.principal, i.interest, i.balance) for i in schedule.installments] == [
        (D(0), D("1200.00"), D(120000)),
        (D(0), D("1200.00"), D(120000)),
        (D("30000.00"), D("1200.00"), D(90000)),
        (D("30000.00"), D("900.00"), D(60000)),
        (D(0), D("600.00"), D(60000)),
        (D("60000.00"), D("600.00"), D(0)),
    ]


def test_grace_period_then_equal_principal() -> None:
    """宽限期: two interest-only months, then 120,000 / 10 a month."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("120000"),
            annual_rate=D("0.12"),
            term_months=12,
            start_date=date(2026, 1, 15),
            method=RepaymentMethod.EQUAL_PRINCIPAL,
            grace_periods=2,
        )
    )
    expected_principal = [D(0), D(0)] + [D(12000)] * 10
    expected_interest = [D(1200), D(1200)] + [D(1200 - 120 * j) for j in range(10)]
    assert [i.principal for i in schedule.installments] == expected_principal
    assert [i.interest for i in schedule.installments] == expected_interest
    assert schedule.installments[-1].balance == 0


def test_grace_period_then_equal_installment() -> None:
    """Three interest-only months, then the 9-month annuity of the whole amount."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("100000"),
            annual_rate=D("0.12"),
            term_months=12,
            start_date=date(2026, 1, 15),
            grace_periods=3,
        )
    )
    payment = to_fen_exact(annuity(D(100000), D("0.01"), 9))
    grace, amortising = schedule.installments[:3], schedule.installments[3:]
    assert [(i.principal, i.interest) for i in grace] == [(D(0), D("1000.00"))] * 3
    assert all(i.total == payment for i in amortising[:-1])
    assert amortising[0].interest == D("1000.00")
    assert amortising[0].principal == payment - D("1000.00")
    assert amortising[-1].balance == 0


def test_quarterly_frequency() -> None:
    """按季还款: 3 % a quarter (年利率 / 4), due every three months."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("100000"),
            annual_rate=D("0.12"),
            term_months=12,
            start_date=date(2026, 1, 15),
            method=RepaymentMethod.EQUAL_PRINCIPAL,
            frequency=Frequency.QUARTERLY,
        )
    )
    assert rows(schedule) == [
        (1, date(2026, 4, 15), D("25000.00"), D("3000.00"), D(75000)),
        (2, date(2026, 7, 15), D("25000.00"), D("2250.00"), D(50000)),
        (3, date(2026, 10, 15), D("25000.00"), D("1500.00"), D(25000)),
        (4, date(2027, 1, 15), D("25000.00"), D("750.00"), D(0)),
    ]


@pytest.mark.parametrize(
    ("repayment_day", "first_due", "broken_interest"),
    [
        # 15 Jan → 20 Feb: 36 days; 100,000 × 12 % / 360 × 36 = 1,200.00
        pytest.param(20, date(2026, 2, 20), D("1200.00"), id="longer-first-period"),
        # 15 Jan → 5 Feb: 21 days; 100,000 × 12 % / 360 × 21 = 700.00
        pytest.param(5, date(2026, 2, 5), D("700.00"), id="shorter-first-period"),
    ],
)
def test_fixed_repayment_day_broken_first_period(
    repayment_day: int, first_due: date, broken_interest: Decimal
) -> None:
    """固定还款日: the broken first period accrues balance × rate / 360 × actual days."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("100000"),
            annual_rate=D("0.12"),
            term_months=3,
            start_date=date(2026, 1, 15),
            method=RepaymentMethod.INTEREST_ONLY,
            repayment_day=repayment_day,
        )
    )
    assert [i.due_date for i in schedule.installments] == [
        first_due,
        first_due.replace(month=3),
        first_due.replace(month=4),
    ]
    assert [i.interest for i in schedule.installments] == [
        broken_interest,
        D("1000.00"),
        D("1000.00"),
    ]


def test_fixed_repayment_day_equal_installment_charges_broken_days_on_top() -> None:
    """With periodic interest the broken period's extra days are added to the first
    installment; its principal stays on the annuity track (7,884.88, as without the day)."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("100000"),
            annual_rate=D("0.12"),
            term_months=12,
            start_date=date(2026, 1, 15),
            repayment_day=20,
        )
    )
    first = schedule.installments[0]
    assert (first.due_date, first.principal, first.interest, first.total) == (
        date(2026, 2, 20),
        D("7884.88"),
        D("1200.00"),
        D("9084.88"),
    )


@pytest.mark.parametrize(
    "repayment_day", [pytest.param(None, id="start-day"), pytest.param(31, id="day-31")]
)
def test_end_of_month_rule(repayment_day: int | None) -> None:
    """月末规则: a day the month lacks becomes its last day, without drifting."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("3000"),
            annual_rate=D("0.12"),
            term_months=3,
            start_date=date(2024, 1, 31),
            repayment_day=repayment_day,
        )
    )
    assert [i.due_date for i in schedule.installments] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]


# --- published vectors (research notes §4) --------------------------------------------------


def test_vector_a_frappe_emi_rounded_up() -> None:
    """Vector A, Frappe Lending ``lending/loan_management/doctype/loan/test_loan.py::test_loan``:
    280,000 at 8.4 % over 20 months, EMI always rounded up to the yuan (ROUND_CEILING)."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("280000"),
            annual_rate=D("0.084"),
            term_months=20,
            start_date=date(2026, 1, 15),
            installment_multiple=D(1),
            multiple_rounding=decimal.ROUND_CEILING,
        )
    )
    assert schedule.installments[0].total == D(15052)
    assert whole_yuan(schedule.total_interest) == D(21034)
    assert whole_yuan(schedule.total_interest + schedule.total_principal) == D(301034)
    # Frappe's rows are indexed from 0: idx 3 is installment 4
    for idx, expected in (
        (3, (13369, 1683, 227080)),
        (17, (14740, 312, 29785)),
        (19, (14941, 105, 0)),
    ):
        row = schedule.installments[idx]
        assert (whole_yuan(row.principal), whole_yuan(row.interest), whole_yuan(row.balance)) == (
            tuple(D(x) for x in expected)
        )


def test_vector_a_frappe_fixed_amount_per_period() -> None:
    """Vector A, Frappe ``test_loan.py``: repaying a fixed 14,000 a period takes 22 periods and
    costs 22,712 of interest."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("280000"),
            annual_rate=D("0.084"),
            term_months=20,
            start_date=date(2026, 1, 15),
            fixed_installment=D(14000),
        )
    )
    assert len(schedule.installments) == 22
    assert whole_yuan(schedule.total_interest) == D(22712)
    assert schedule.total_principal == D(280000)


def test_vector_b_fineract_rs02_multiples_of_one() -> None:
    """Vector B, Fineract ``fineract-e2e-tests-runner/src/test/resources/features/
    LoanRepayment.feature`` RS02: 5,000 at 12 %, 18 months, installment in multiples of 1,
    HALF_EVEN (Fineract's default rounding mode)."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("5000"),
            annual_rate=D("0.12"),
            term_months=18,
            start_date=date(2026, 1, 15),
            installment_multiple=D(1),
            rounding=RoundingMode.HALF_EVEN,
        )
    )
    by_number = {i.number: (i.principal, i.interest, i.balance) for i in schedule.installments}
    assert by_number[1] == (D("255.00"), D("50.00"), D("4745.00"))
    assert by_number[2] == (D("257.55"), D("47.45"), D("4487.45"))
    assert by_number[17] == (D("299.01"), D("5.99"), D("300.22"))
    assert by_number[18] == (D("300.22"), D("3.00"), D("0.00"))
    assert schedule.installments[-1].total == D("303.22")
    assert all(i.total == D("305.00") for i in schedule.installments[:-1])
    assert schedule.total_interest == D("488.22")
    assert schedule.total_interest + schedule.total_principal == D("5488.22")


def test_vector_c_fineract_progressive_360_30() -> None:
    """Vector C, Fineract ``fineract-progressive-loan/src/test/java/org/apache/fineract/
    portfolio/loanproduct/calc/ProgressiveEMICalculatorTest.java``,
    ``testEMICalculation_disbursedAmt100_dayInYears360_daysInMonth30_repayEvery1Month``."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("100"),
            annual_rate=D("0.094822"),
            term_months=6,
            start_date=date(2024, 1, 1),
        )
    )
    assert [(i.interest, i.principal, i.balance) for i in schedule.installments] == [
        (D("0.79"), D("16.34"), D("83.66")),
        (D("0.66"), D("16.47"), D("67.19")),
        (D("0.53"), D("16.60"), D("50.59")),
        (D("0.40"), D("16.73"), D("33.86")),
        (D("0.27"), D("16.86"), D("17.00")),
        (D("0.13"), D("17.00"), D("0.00")),
    ]
    assert {i.total for i in schedule.installments} == {D("17.13")}


def test_vector_d_fineract_progressive_actual_days_365() -> None:
    """Vector D, Fineract ``ProgressiveEMICalculatorTest.java``,
    ``testEMICalculation_CheckEmiButNewEmiNotBetterThanOriginal``: 100 at 15.678 %, actual days
    over a 365-day year, January–June 2024. The level payment follows from each period's own
    rate (actual days / 365) and the principal is the payment less the interest charged."""
    schedule = generate_schedule(
        ScheduleTerms(
            principal=D("100"),
            annual_rate=D("0.15678"),
            term_months=6,
            start_date=date(2024, 1, 1),
            interest_basis=InterestBasis.ACTUAL_DAYS,
            day_count=DayCount.ACT_365,
        )
    )
    assert [i.interest for i in schedule.installments] == [
        D(x) for x in ("1.33", "1.05", "0.90", "0.66", "0.46", "0.22")
    ]
    assert [i.balance for i in schedule.installments] == [
        D(x) for x in ("83.90", "67.52", "50.99", "34.22", "17.25", "0")
    ]
    assert [i.total for i in schedule.installments] == [D("17.43")] * 5 + [D("17.47")]


# --- invariants -----------------------------------------------------------------------------

RATES = st.integers(min_value=0, max_value=1_000_000).map(lambda ppm: D(ppm) / D(1_000_000))


@st.composite
def schedule_terms(draw: st.DrawFn, *, upfront_fee: bool = False) -> ScheduleTerms:
    """Valid terms over every method, frequency and option of ``ScheduleTerms``."""
    method = draw(st.sampled_from(RepaymentMethod))
    frequency = draw(st.sampled_from(Frequency))
    months = frequency.months
    term = draw(st.integers(min_value=1, max_value=48 // months)) * months
    if method is RepaymentMethod.BULLET:
        term = draw(st.integers(min_value=1, max_value=60))
    periods = 1 if method is RepaymentMethod.BULLET else term // months
    # an upfront fee is at least one fen and at most half of the amount
    smallest = 2 if upfront_fee else 1
    principal = draw(
        st.one_of(
            st.integers(min_value=smallest, max_value=1_000),
            st.integers(min_value=smallest, max_value=10_000_000_000),
        )
    )
    grace = 0
    if method in (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL):
        grace = draw(st.integers(min_value=0, max_value=periods - 1))
    share = D(0)
    if method is RepaymentMethod.BALLOON:
        share = D(draw(st.integers(min_value=1, max_value=99))) / 100
    weights: tuple[Decimal, ...] = ()
    if method is RepaymentMethod.SEASONAL:
        weights = tuple(
            D(w) for w in draw(st.lists(st.integers(0, 5), min_size=periods, max_size=periods))
        )
        if sum(weights) == 0:
            weights = (*weights[:-1], D(1))
    annual_rate = draw(RATES)
    fixed_installment = None
    if method is RepaymentMethod.EQUAL_INSTALLMENT and not grace and draw(st.booleans()):
        # covers the longest first period (a broken one: up to 31 days more than a quarter)
        # and repays within the term
        bound = annual_rate * (31 * months + 31) / 360 + D(1) / periods
        fixed_installment = (D(principal) / 100 * bound).quantize(FEN, decimal.ROUND_CEILING)
    installment_multiple = draw(st.sampled_from([None, None, D(1), D(100), D("0.5")]))
    fee = D(0)
    if upfront_fee:
        fee = D(draw(st.integers(min_value=1, max_value=principal // 2))) / 100
    return ScheduleTerms(
        principal=D(principal) / 100,
        annual_rate=annual_rate,
        term_months=term,
        start_date=draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1))),
        method=method,
        frequency=frequency,
        repayment_day=draw(st.one_of(st.none(), st.integers(min_value=1, max_value=31))),
        grace_periods=grace,
        balloon_share=share,
        weights=weights,
        rounding=draw(st.sampled_from(RoundingMode)),
        day_count=draw(st.sampled_from(DayCount)),
        interest_basis=draw(st.sampled_from(InterestBasis)),
        installment_multiple=installment_multiple,
        multiple_rounding=draw(
            st.sampled_from([decimal.ROUND_HALF_UP, decimal.ROUND_HALF_EVEN, decimal.ROUND_CEILING])
        ),
        fixed_installment=fixed_installment,
        upfront_fee=fee,
    )


def is_fen(value: Decimal) -> bool:
    return value == value.quantize(FEN)


@settings(max_examples=200, deadline=None)
@given(terms=schedule_terms())
def test_schedule_invariants(terms: ScheduleTerms) -> None:
    """Principal sums to the amount exactly; balances never increase and end at zero; no
    negative amount; every amount in whole fen; due dates strictly increasing, each period
    starting where the previous one ended."""
    schedule = generate_schedule(terms)
    installments = schedule.installments
    assert schedule.total_principal == terms.principal
    balances = [terms.principal, *(i.balance for i in installments)]
    assert all(later <= earlier for earlier, later in itertools.pairwise(balances))
    assert balances[-1] == 0
    for i in installments:
        assert i.principal >= 0
        assert i.interest >= 0
        assert is_fen(i.principal)
        assert is_fen(i.interest)
        assert is_fen(i.balance)
    assert [i.number for i in installments] == list(range(1, len(installments) + 1))
    starts = [terms.start_date, *(i.due_date for i in installments)]
    assert all(a < b for a, b in itertools.pairwise(starts))
    assert [i.start_date for i in installments] == starts[:-1]


@settings(max_examples=200, deadline=None)
@given(terms=schedule_terms(upfront_fee=True))
def test_upfront_fee_raises_the_apr(terms: ScheduleTerms) -> None:
    """An upfront fee (砍头息-like deduction) raises the APR (年化利率, IRR method) above that
    of the same schedule without it, under every option."""
    with_fee = generate_schedule(terms)
    without_fee = generate_schedule(replace(terms, upfront_fee=D(0)))
    assert with_fee.installments == without_fee.installments
    assert with_fee.apr > without_fee.apr


@settings(max_examples=200, deadline=None)
@given(
    terms=schedule_terms(),
    fee_share=st.integers(min_value=5, max_value=500).map(lambda permille: D(permille) / 1000),
)
def test_apr_at_least_nominal_rate_with_an_upfront_fee(
    terms: ScheduleTerms, fee_share: Decimal
) -> None:
    """APR ≥ nominal rate when an upfront fee is charged.

    The IRR counts installment periods as equal, so the claim is made where each period accrues
    the periodic rate: periodic interest basis and no broken first period (a short broken
    period or a 29-day February accrues less than a period's rate, and the APR then falls
    below the nominal rate). Rounding each period's interest to the fen can also lower the IRR
    (the issue's example has an APR of 0.1199997 without a fee), by at most about 0.12 / amount
    a year, so the fee is at least 0.5 % of an amount of at least 1,000.
    """
    terms = replace(
        terms,
        principal=max(terms.principal, D("1000.00")),
        interest_basis=InterestBasis.PERIODIC,
        repayment_day=None,
        fixed_installment=None,
    )
    terms = replace(terms, upfront_fee=(terms.principal * fee_share).quantize(FEN))
    schedule = generate_schedule(terms)
    assert schedule.apr >= float(terms.annual_rate)


# --- invalid terms --------------------------------------------------------------------------

VALID = {
    "principal": D("100000"),
    "annual_rate": D("0.12"),
    "term_months": 12,
    "start_date": date(2026, 1, 15),
}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"principal": D(0)}, "amount", id="zero-amount"),
        pytest.param({"principal": D("-5")}, "amount", id="negative-amount"),
        pytest.param({"principal": D("100.005")}, "amount", id="sub-fen-amount"),
        pytest.param({"annual_rate": D("1.2")}, "annual_rate", id="rate-above-one"),
        pytest.param({"annual_rate": D("-0.01")}, "annual_rate", id="negative-rate"),
        pytest.param({"term_months": 0}, "term", id="zero-term"),
        pytest.param(
            {"term_months": 10, "frequency": Frequency.QUARTERLY}, "term", id="broken-quarters"
        ),
        pytest.param({"repayment_day": 32}, "repayment_day", id="day-32"),
        pytest.param({"repayment_day": 0}, "repayment_day", id="day-0"),
        pytest.param({"grace_periods": -1}, "grace", id="negative-grace"),
        pytest.param({"grace_periods": 12}, "grace", id="grace-covers-the-term"),
        pytest.param(
            {"grace_periods": 1, "method": RepaymentMethod.INTEREST_ONLY},
            "grace",
            id="grace-on-interest-only",
        ),
        pytest.param({"method": RepaymentMethod.BALLOON}, "balloon", id="balloon-without-share"),
        pytest.param(
            {"method": RepaymentMethod.BALLOON, "balloon_share": D(1)},
            "balloon",
            id="balloon-whole-amount",
        ),
        pytest.param(
            {"method": RepaymentMethod.SEASONAL, "weights": (D(1),) * 11},
            "weights",
            id="too-few-weights",
        ),
        pytest.param(
            {"method": RepaymentMethod.SEASONAL, "weights": (D(-1),) + (D(1),) * 11},
            "weights",
            id="negative-weight",
        ),
        pytest.param(
            {"method": RepaymentMethod.SEASONAL, "weights": (D(0),) * 12},
            "weights",
            id="zero-weights",
        ),
        pytest.param({"fixed_installment": D(0)}, "fixed_installment", id="zero-fixed"),
        pytest.param(
            {"fixed_installment": D(9000), "method": RepaymentMethod.BULLET},
            "fixed_installment",
            id="fixed-on-bullet",
        ),
        pytest.param(
            {"fixed_installment": D(9000), "grace_periods": 2},
            "fixed_installment",
            id="fixed-with-grace",
        ),
        pytest.param({"upfront_fee": D("-1")}, "upfront_fee", id="negative-fee"),
    ],
)
def test_invalid_terms_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{field}: ") as caught:
        ScheduleTerms(**{**VALID, **changes})  # type: ignore[arg-type]
    assert caught.value.field == field


def test_fixed_installment_below_the_interest_is_refused() -> None:
    terms = ScheduleTerms(**VALID, fixed_installment=D("999.99"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"^fixed_installment: does not cover"):
        generate_schedule(terms)
