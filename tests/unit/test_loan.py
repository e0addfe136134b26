"""The loan account (贷款账户): booking, daily accrual, delinquency, allocation, prepayment,
backdating, waivers, write-off and recovery, each against a worked example.

The reference loan: 12,000.00 at 12 % a year, 6 monthly equal installments (等额本息) from
1 January 2026, ACT/360, half-up, a 1 % upfront fee deducted from the proceeds, penalty rate
12 % × 1.5 = 18 % (PBOC markup for overdue loans). Its schedule, by hand:

    payment = 12,000 × 0.01 / (1 − 1.01⁻⁶) = 2,070.5785 → 2,070.58
    #  due     opening    interest (×0.01)     principal (payment − interest)
    1  1 Feb   12,000.00  120.00               1,950.58
    2  1 Mar   10,049.42  100.4942 → 100.49    1,970.09
    3  1 Apr    8,079.33   80.7933 →  80.79    1,989.79
    4  1 May    6,089.54   60.8954 →  60.90    2,009.68
    5  1 Jun    4,079.86   40.7986 →  40.80    2,029.78
    6  1 Jul    2,050.08   20.5008 →  20.50    2,050.08 (the rest)

Daily penalty on installment 1's principal: 1,950.58 × 0.18 / 360 = 0.97529 → 0.98; daily
compound interest on its unpaid interest: 120.00 × 0.18 / 360 = 0.06.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.core.errors import InvalidInput, InvalidState
from xiaowei.core.money import ZERO
from xiaowei.lending.ledger import Account, EntryType, LedgerEntry, trial_balance
from xiaowei.lending.loan import Loan, LoanStatus
from xiaowei.lending.product import LoanProduct, product_from_mapping
from xiaowei.lending.schedule import ScheduleTerms, generate_schedule

D = Decimal
START = date(2026, 1, 1)
TERMS = ScheduleTerms(principal=D("12000"), annual_rate=D("0.12"), term_months=6, start_date=START)


def make_product(**overrides: Any) -> LoanProduct:
    data: dict[str, Any] = {
        "code": "TEST-LOAN",
        "name_zh": "测试贷",
        "name_en": "test loan",
        "amount_min": "1000",
        "amount_max": "1000000",
        "term_min": 1,
        "term_max": 36,
        "rate_min": "0",
        "rate_max": "0.36",
        "methods": ["equal-installment", "equal-principal"],
        "overdue_grace_days": 0,
        "fees": [{"kind": "upfront-percent", "value": "0.01"}],
        "prepayment": {"allowed_after_months": 0, "fee_rate": "0.01", "mode": "lower-installment"},
    }
    data.update(overrides)
    return product_from_mapping(data)


@pytest.fixture
def product() -> LoanProduct:
    return make_product()


@pytest.fixture
def loan(product: LoanProduct) -> Loan:
    return Loan.book(product, TERMS, loan_id=1)


def book(**overrides: Any) -> Loan:
    return Loan.book(make_product(**overrides), TERMS, loan_id=1)


def accounts(loan: Loan) -> dict[Account, Decimal]:
    tb = trial_balance(loan.entries)
    return {account: tb.get(account, ZERO) for account in Account}


def of_type(
    entries: list[LedgerEntry] | tuple[LedgerEntry, ...], kind: EntryType
) -> list[LedgerEntry]:
    return [e for e in entries if e.entry_type is kind]


def components(e: LedgerEntry) -> tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]:
    return (e.installment, e.principal, e.interest, e.penalty, e.compound, e.fee)


# --- booking -------------------------------------------------------------------------------------


def test_booking_posts_disbursement_and_deducts_the_upfront_fee(loan: Loan) -> None:
    # Fee 1 % × 12,000 = 120.00, charged and deducted: the borrower receives 11,880.00.
    summary = [(e.entry_type, e.key, e.principal, e.fee, e.value_date) for e in loan.entries]
    assert summary == [
        (EntryType.DISBURSEMENT, "disbursement", D("12000"), ZERO, START),
        (EntryType.FEE, "upfront-fee", ZERO, D("120.00"), START),
        (EntryType.REPAYMENT, "upfront-fee-deducted", ZERO, D("-120.00"), START),
    ]
    assert sum(e.cash for e in loan.entries) == D("-11880.00")
    tb = accounts(loan)
    assert tb[Account.LOANS] == D("12000")
    assert tb[Account.CASH] == D("-11880.00")
    assert tb[Account.FEE_INCOME] == D("-120.00")
    assert tb[Account.FEE_RECEIVABLE] == ZERO
    assert sum(tb.values()) == ZERO
    b = loan.balances()
    assert (b.principal_outstanding, b.fees, b.credit_balance) == (D("12000"), ZERO, ZERO)
    assert (loan.status, loan.dpd, loan.bucket, loan.schedule_version) == (
        LoanStatus.ACTIVE,
        0,
        "M0",
        1,
    )


def test_booking_schedule_equals_generate_schedule(loan: Loan) -> None:
    expected = generate_schedule(TERMS).installments
    got = [(r.number, r.start_date, r.due_date, r.principal, r.interest) for r in loan.schedule]
    assert got == [(i.number, i.start_date, i.due_date, i.principal, i.interest) for i in expected]
    assert [r.opening_balance for r in loan.schedule] == [i.balance + i.principal for i in expected]
    # The hand-worked rows of the module docstring.
    rows = [(r.due_date, r.opening_balance, r.interest, r.principal) for r in loan.schedule]
    assert rows == [
        (date(2026, 2, 1), D("12000"), D("120.00"), D("1950.58")),
        (date(2026, 3, 1), D("10049.42"), D("100.49"), D("1970.09")),
        (date(2026, 4, 1), D("8079.33"), D("80.79"), D("1989.79")),
        (date(2026, 5, 1), D("6089.54"), D("60.90"), D("2009.68")),
        (date(2026, 6, 1), D("4079.86"), D("40.80"), D("2029.78")),
        (date(2026, 7, 1), D("2050.08"), D("20.50"), D("2050.08")),
    ]


def test_booking_without_fee_posts_only_the_disbursement() -> None:
    loan = book(fees=[])
    assert [e.entry_type for e in loan.entries] == [EntryType.DISBURSEMENT]


def test_booking_outside_the_product_is_refused(product: LoanProduct) -> None:
    with pytest.raises(InvalidInput, match="amount"):
        Loan.book(product, replace(TERMS, principal=D("500")))
    with pytest.raises(InvalidInput, match="annual_rate"):
        Loan.book(product, replace(TERMS, annual_rate=D("0.40")))


# --- daily accrual -------------------------------------------------------------------------------


def test_accrual_over_a_31_day_first_period(loan: Loan) -> None:
    # 12,000 × 0.12 / 360 = 4.00 a day: 30 days (1–30 Jan) reach the contractual 120.00; the
    # 31st day (31 Jan, due − 1) has nothing left to accrue and posts no entry.
    posted = loan.accrue_through(date(2026, 1, 31))
    assert [(e.value_date, e.interest) for e in posted] == [
        (START + timedelta(days=k), D("4.00")) for k in range(30)
    ]
    assert all(e.entry_type is EntryType.INTEREST_ACCRUAL and e.installment == 1 for e in posted)
    assert sum(e.interest for e in posted) == D("120.00") == loan.schedule[0].interest
    assert loan.last_eod == date(2026, 1, 31)
    b = loan.balances()
    assert (b.accrued_interest, b.interest_earned) == (D("120.00"), D("120.00"))
    assert accounts(loan)[Account.INTEREST_RECEIVABLE] == D("120.00")
    assert accounts(loan)[Account.INTEREST_INCOME] == D("-120.00")


def test_accrual_over_a_28_day_period_trues_up_on_the_last_day(loan: Loan) -> None:
    # Installment 2, [1 Feb, 1 Mar): 10,049.42 × 0.12 / 360 = 3.349807 a day.
    # By 27 Feb (27 days): 90.4448 → 90.44; 28 Feb (due − 1) trues up to 100.49: +10.05.
    posted = loan.accrue_through(date(2026, 2, 28))
    second = [
        e for e in posted if e.entry_type is EntryType.INTEREST_ACCRUAL and e.installment == 2
    ]
    assert len(second) == 28
    assert second[0].interest == D("3.35")
    assert sum(e.interest for e in second[:27]) == D("90.44")
    assert second[-1].value_date == date(2026, 2, 28)
    assert second[-1].interest == D("10.05")
    assert sum(e.interest for e in second) == D("100.49") == loan.schedule[1].interest


def test_accruals_of_the_whole_term_sum_to_the_schedule_interest(loan: Loan) -> None:
    # Paying each installment on its due date: no penalty, and the accruals of every period sum
    # to its contractual interest; total 120.00 + 100.49 + 80.79 + 60.90 + 40.80 + 20.50 = 423.48.
    for row in list(loan.schedule):
        loan.accrue_through(row.due_date - timedelta(days=1))
        loan.repay(row.principal + row.interest, value_date=row.due_date, key=f"R{row.number}")
    for st_ in loan.installments():
        assert st_.interest_accrued == st_.plan.interest
    assert loan.balances(as_of=date(2026, 7, 1)).interest_earned == D("423.48")
    assert loan.status is LoanStatus.CLOSED
    tb = accounts(loan)
    assert tb[Account.INTEREST_INCOME] == D("-423.48")
    assert tb[Account.PENALTY_INCOME] == ZERO
    # Cash: −11,880.00 paid out, 6 × 2,070.58 = 12,423.48 back.
    assert tb[Account.CASH] == D("543.48")
    assert all(tb[a] == ZERO for a in (Account.LOANS, Account.INTEREST_RECEIVABLE))


def test_accrue_through_is_idempotent(loan: Loan) -> None:
    first = loan.accrue_through(date(2026, 2, 10))
    assert first
    count = len(loan.entries)
    assert loan.accrue_through(date(2026, 2, 10)) == []
    assert loan.accrue_through(date(2026, 1, 20)) == []
    assert len(loan.entries) == count
    assert loan.last_eod == date(2026, 2, 10)


def test_accrue_through_in_steps_equals_one_run(loan: Loan) -> None:
    other = Loan.book(loan.product, TERMS, loan_id=2)
    for day in (date(2026, 1, 5), date(2026, 1, 31), date(2026, 2, 2), date(2026, 3, 20)):
        loan.accrue_through(day)
    other.accrue_through(date(2026, 3, 20))
    assert loan.entries == other.entries
    assert loan.balances() == other.balances()


# --- delinquency and penalty ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "dpd", "bucket"),
    [
        pytest.param(date(2026, 1, 31), 0, "M0", id="before-due"),
        pytest.param(date(2026, 2, 1), 0, "M0", id="due-date"),
        pytest.param(date(2026, 2, 2), 1, "M1", id="1-dpd"),
        pytest.param(date(2026, 3, 3), 30, "M1", id="30-dpd"),  # 1 Feb → 3 Mar = 30 days
        pytest.param(date(2026, 3, 4), 31, "M2", id="31-dpd"),
        pytest.param(date(2026, 5, 2), 90, "M3", id="90-dpd"),  # 28 + 31 + 30 + 1 = 90
        pytest.param(date(2026, 5, 3), 91, "M4", id="91-dpd"),
        pytest.param(date(2026, 7, 31), 180, "M6", id="180-dpd"),
        pytest.param(date(2026, 8, 1), 181, "M7", id="181-dpd"),
    ],
)
def test_unpaid_installment_ages_through_the_buckets(
    loan: Loan, day: date, dpd: int, bucket: str
) -> None:
    loan.accrue_through(day)
    assert (loan.dpd, loan.bucket) == (dpd, bucket)
    assert loan.days_past_due(day) == dpd


def test_penalty_and_compound_after_ten_days(loan: Loan) -> None:
    # Overdue from 2 Feb; by 11 Feb ten days: penalty 10 × 0.98 = 9.80, compound 10 × 0.06 = 0.60.
    loan.accrue_through(date(2026, 2, 11))
    penalties = of_type(loan.entries, EntryType.PENALTY_ACCRUAL)
    assert [(e.value_date, e.installment, e.penalty) for e in penalties] == [
        (date(2026, 2, 2) + timedelta(days=k), 1, D("0.98")) for k in range(10)
    ]
    b = loan.balances()
    assert (b.penalty, b.compound) == (D("9.80"), D("0.60"))
    assert (b.overdue_principal, b.overdue_interest) == (D("1950.58"), D("120.00"))
    tb = accounts(loan)
    assert tb[Account.PENALTY_RECEIVABLE] == D("9.80")
    assert tb[Account.PENALTY_INCOME] == D("-9.80")
    assert tb[Account.COMPOUND_RECEIVABLE] == D("0.60")


def test_penalty_with_two_overdue_installments(loan: Loan) -> None:
    # By 4 Mar: installment 1 overdue 2 Feb–4 Mar = 27 + 4 = 31 days: 31 × 0.98 = 30.38 and
    # 31 × 0.06 = 1.86; installment 2 (1,970.09 × 0.18 / 360 = 0.985045 → 0.99; 100.49 × 0.18 /
    # 360 = 0.050245 → 0.05) overdue 2–4 Mar = 3 days: 2.97 and 0.15.
    loan.accrue_through(date(2026, 3, 4))
    first, second = loan.installments()[:2]
    assert (first.penalty, first.compound) == (D("30.38"), D("1.86"))
    assert (second.penalty, second.compound) == (D("2.97"), D("0.15"))
    b = loan.balances()
    assert (b.penalty, b.compound) == (D("33.35"), D("2.01"))
    assert b.overdue_principal == D("1950.58") + D("1970.09")
    assert b.overdue_interest == D("220.49")


def test_grace_days_then_catch_up_on_the_first_overdue_day() -> None:
    loan = book(overdue_grace_days=3)
    loan.accrue_through(date(2026, 2, 4))  # 2–4 Feb: the grace days
    b = loan.balances()
    assert (loan.dpd, b.penalty, b.compound) == (0, ZERO, ZERO)
    assert (b.due_interest, b.overdue_interest, b.overdue_principal) == (D("120.00"), ZERO, ZERO)
    # 5 Feb: overdue; penalty from 2 Feb: 4 × 0.98 = 3.92, compound 4 × 0.06 = 0.24; DPD 4.
    loan.accrue_through(date(2026, 2, 5))
    b = loan.balances()
    assert (loan.dpd, loan.bucket, b.penalty, b.compound) == (4, "M1", D("3.92"), D("0.24"))
    assert (b.due_interest, b.overdue_interest) == (ZERO, D("120.00"))
    loan.accrue_through(date(2026, 2, 6))
    assert loan.balances().penalty == D("4.90")


def test_payment_within_grace_days_is_charged_no_penalty() -> None:
    loan = book(overdue_grace_days=3)
    loan.accrue_through(date(2026, 2, 3))
    loan.repay(D("2070.58"), value_date=date(2026, 2, 4), key="R1")
    loan.accrue_through(date(2026, 2, 20))
    assert loan.balances().penalty == ZERO
    assert loan.dpd == 0


def test_no_compound_interest_when_the_product_says_so() -> None:
    loan = book(compound_interest=False)
    loan.accrue_through(date(2026, 2, 11))
    b = loan.balances()
    assert (b.penalty, b.compound) == (D("9.80"), ZERO)
    assert not of_type(loan.entries, EntryType.COMPOUND_ACCRUAL)


# --- allocation -----------------------------------------------------------------------------------


def test_partial_payment_goes_penalty_compound_interest_principal(loan: Loan) -> None:
    # 11 Feb: penalty 9.80, compound 0.60, interest 120.00, principal 1,950.58 unpaid.
    # 1,000.00 on 12 Feb: 9.80 + 0.60 + 120.00 = 130.40, principal 1,000 − 130.40 = 869.60.
    loan.accrue_through(date(2026, 2, 11))
    result = loan.repay(D("1000"), value_date=date(2026, 2, 12), key="R1")
    assert [components(e) for e in result.entries] == [
        (1, D("-869.60"), D("-120.00"), D("-9.80"), D("-0.60"), ZERO)
    ]
    assert result.amount == D("1000")
    assert not result.duplicate
    first = loan.installments()[0]
    assert first.principal_unpaid == D("1080.98")  # 1,950.58 − 869.60
    # Next day's penalty on 1,080.98: × 0.18 / 360 = 0.54049 → 0.54; no compound left to charge.
    posted = loan.accrue_through(date(2026, 2, 12))
    assert [(e.entry_type, e.penalty, e.compound) for e in posted if e.installment == 1] == [
        (EntryType.PENALTY_ACCRUAL, D("0.54"), ZERO)
    ]
    assert loan.dpd == 11


def test_oldest_installment_is_paid_first(loan: Loan) -> None:
    # 5 Mar: installment 1 overdue 32 days: penalty 32 × 0.98 = 31.36, compound 32 × 0.06 = 1.92;
    # installment 2 overdue 4 days: penalty 4 × 0.99 = 3.96, compound 4 × 0.05 = 0.20.
    # 2,200.00 on 6 Mar: installment 1 takes 31.36 + 1.92 + 120.00 + 1,950.58 = 2,103.86; the
    # remaining 96.14 pays installment 2's 3.96 + 0.20 and 91.98 of its 100.49 interest.
    loan.accrue_through(date(2026, 3, 5))
    result = loan.repay(D("2200"), value_date=date(2026, 3, 6), key="R1")
    assert [components(e) for e in result.entries] == [
        (1, D("-1950.58"), D("-120.00"), D("-31.36"), D("-1.92"), ZERO),
        (2, ZERO, D("-91.98"), D("-3.96"), D("-0.20"), ZERO),
    ]
    first, second = loan.installments()[:2]
    assert first.settled
    assert second.interest_unpaid == D("8.51")  # 100.49 − 91.98
    assert second.principal_unpaid == D("1970.09")
    assert loan.dpd == 5  # now counted from installment 2, due 1 Mar


def test_principal_first_once_non_performing() -> None:
    # 3 May: installment 1 is 91 days past due (> 90, 不良): 3,000.00 goes to principal first,
    # oldest installment first: 1,950.58 on installment 1, 1,049.42 on installment 2.
    loan = book(allocation="principal-first-when-npl")
    loan.accrue_through(date(2026, 5, 2))
    result = loan.repay(D("3000"), value_date=date(2026, 5, 3), key="R1")
    assert [components(e) for e in result.entries] == [
        (1, D("-1950.58"), ZERO, ZERO, ZERO, ZERO),
        (2, D("-1049.42"), ZERO, ZERO, ZERO, ZERO),
    ]


def test_non_performing_order_is_principal_interest_fee_compound_penalty() -> None:
    # 3 May, EOD to 2 May. Due: principal 1,950.58 + 1,970.09 + 1,989.79 + 2,009.68 = 7,920.14;
    # interest 120.00 + 100.49 + 80.79 + 60.90 = 362.18; compound 90 × 0.06 = 5.40 (#1),
    # 62 × 0.05 = 3.10 (#2), …; penalty 88.20 (#1), … . 8,290.00 covers principal and interest
    # (8,282.32), no fees, then 7.68 of compound: 5.40 on #1, 2.28 on #2; no penalty.
    loan = book(allocation="principal-first-when-npl")
    loan.accrue_through(date(2026, 5, 2))
    result = loan.repay(D("8290"), value_date=date(2026, 5, 3), key="R1")
    assert [components(e) for e in result.entries] == [
        (1, D("-1950.58"), D("-120.00"), ZERO, D("-5.40"), ZERO),
        (2, D("-1970.09"), D("-100.49"), ZERO, D("-2.28"), ZERO),
        (3, D("-1989.79"), D("-80.79"), ZERO, ZERO, ZERO),
        (4, D("-2009.68"), D("-60.90"), ZERO, ZERO, ZERO),
    ]
    # 88.20 + 61.38 + 30.69 + 1.00, untouched by the payment
    assert loan.balances(as_of=date(2026, 5, 3)).penalty == D("181.27")


def test_due_order_at_exactly_90_days_past_due() -> None:
    # 2 May: 90 DPD is not yet non-performing. Installment 1 (89 days of penalty by 1 May:
    # 87.22, compound 5.34) takes 87.22 + 5.34 + 120.00 + 1,950.58 = 2,163.14; installment 2
    # (61 days: 61 × 0.99 = 60.39, 61 × 0.05 = 3.05) takes 60.39 + 3.05 + 100.49 and principal
    # 3,000 − 2,163.14 − 163.93 = 672.93.
    loan = book(allocation="principal-first-when-npl")
    loan.accrue_through(date(2026, 5, 1))
    result = loan.repay(D("3000"), value_date=date(2026, 5, 2), key="R1")
    assert [components(e) for e in result.entries] == [
        (1, D("-1950.58"), D("-120.00"), D("-87.22"), D("-5.34"), ZERO),
        (2, D("-672.93"), D("-100.49"), D("-60.39"), D("-3.05"), ZERO),
    ]


def test_due_order_product_ignores_npl() -> None:
    loan = book()
    loan.accrue_through(date(2026, 5, 2))
    result = loan.repay(D("3000"), value_date=date(2026, 5, 3), key="R1")
    assert result.entries[0].penalty == D("-88.20")  # 90 days × 0.98, penalty first


# --- idempotency and input checks -----------------------------------------------------------------


def test_same_key_twice_returns_the_first_result_and_posts_nothing(loan: Loan) -> None:
    loan.accrue_through(date(2026, 2, 11))
    first = loan.repay(D("1000"), value_date=date(2026, 2, 12), key="R1")
    before = list(loan.entries)
    again = loan.repay(D("1000"), value_date=date(2026, 2, 12), key="R1")
    assert again.duplicate
    assert again.entries == first.entries
    assert again.amount == first.amount
    assert loan.entries == before
    # Even with another amount or date: the key decides.
    assert loan.repay(D("5"), value_date=date(2026, 2, 13), key="R1").entries == first.entries
    assert loan.entries == before


def test_same_key_twice_after_a_backdated_repayment(loan: Loan) -> None:
    # A backdated repayment also posts reversals and re-accruals; the retry returns them all.
    loan.accrue_through(date(2026, 2, 11))
    first = loan.repay(D("1000"), value_date=date(2026, 2, 5), key="R1")
    assert of_type(first.entries, EntryType.REVERSAL)
    before = list(loan.entries)
    again = loan.repay(D("1000"), value_date=date(2026, 2, 5), key="R1")
    assert again.duplicate
    assert again.entries == first.entries
    assert loan.entries == before


@pytest.mark.parametrize(
    "amount",
    [
        pytest.param(D("0"), id="zero"),
        pytest.param(D("-100"), id="negative"),
        pytest.param(D("100.005"), id="sub-fen"),
        pytest.param(D("0.001"), id="sub-fen-small"),
    ],
)
def test_impossible_amounts_are_refused(loan: Loan, amount: Decimal) -> None:
    with pytest.raises(InvalidInput, match="amount"):
        loan.repay(amount, value_date=date(2026, 1, 5), key="R1")
    assert loan.posting("R1") is None


def test_repayment_before_the_start_is_refused(loan: Loan) -> None:
    with pytest.raises(InvalidInput, match="before the loan's start"):
        loan.repay(D("100"), value_date=date(2025, 12, 31), key="R1")


# --- overpayment and prepayment -------------------------------------------------------------------


def test_prepayment_lower_installment_reamortises(loan: Loan) -> None:
    # 5,000.00 on 11 Jan, nothing due. Interest accrued to 10 Jan: 10 × 4.00 = 40.00.
    # Principal = (5,000 − 40) / 1.01 = 4,910.891 → 4,910.89 (down); fee 1 % = 49.1089 → 49.11;
    # 40.00 + 4,910.89 + 49.11 = 5,000.00, no excess. Left: 12,000 − 4,910.89 = 7,089.11.
    loan.accrue_through(date(2026, 1, 10))
    result = loan.repay(D("5000"), value_date=date(2026, 1, 11), key="P1")
    (prepayment,) = of_type(result.entries, EntryType.PREPAYMENT)
    assert components(prepayment) == (1, D("-4910.89"), D("-40.00"), ZERO, ZERO, D("-49.11"))
    assert prepayment.credit == ZERO
    (fee,) = of_type(result.entries, EntryType.FEE)
    assert fee.fee == D("49.11")
    assert result.amount == D("5000")
    assert loan.schedule_version == 2
    # The cut period: [1 Jan, 11 Jan), the prepaid principal and the interest to date.
    cut = loan.schedule[0]
    assert (cut.due_date, cut.principal, cut.interest) == (
        date(2026, 1, 11),
        D("4910.89"),
        D("40.00"),
    )
    # Same maturity, lower installment: 7,089.11 × 0.01 / (1 − 1.01⁻⁶) = 1,223.2109 → 1,223.21.
    new = loan.schedule[1:]
    assert [r.due_date for r in new] == [date(2026, m, 1) for m in range(2, 8)]
    # First new period [11 Jan, 1 Feb) is broken: 21 days of interest, 7,089.11 × 0.12 × 21 /
    # 360 = 49.6238 → 49.62; its principal stays on the annuity track: 1,223.21 − 70.89
    # (7,089.11 × 0.01) = 1,152.32.
    assert (new[0].opening_balance, new[0].interest, new[0].principal) == (
        D("7089.11"),
        D("49.62"),
        D("1152.32"),
    )
    assert all(r.principal + r.interest == D("1223.21") for r in new[1:-1])
    assert all(r.principal + r.interest < D("2070.58") for r in new)
    assert sum(r.principal for r in loan.schedule) == D("12000")
    assert loan.balances(as_of=date(2026, 1, 11)).principal_outstanding == D("7089.11")


def test_prepayment_shorten_term_keeps_the_installment() -> None:
    # Same prepayment; the installment stays 2,070.58 and the last periods drop:
    #   11 Jan–1 Feb  7,089.11  interest 49.62 (21 days)  principal 2,070.58 − 70.89 = 1,999.69
    #   1 Mar         5,089.42  interest 50.89            principal 2,019.69
    #   1 Apr         3,069.73  interest 30.70            principal 2,039.88
    #   1 May         1,029.85  interest 10.2985 → 10.30  principal 1,029.85 (the rest)
    loan = book(prepayment={"allowed_after_months": 0, "fee_rate": "0.01", "mode": "shorten-term"})
    loan.accrue_through(date(2026, 1, 10))
    loan.repay(D("5000"), value_date=date(2026, 1, 11), key="P1")
    rows = [(r.due_date, r.opening_balance, r.interest, r.principal) for r in loan.schedule[1:]]
    assert rows == [
        (date(2026, 2, 1), D("7089.11"), D("49.62"), D("1999.69")),
        (date(2026, 3, 1), D("5089.42"), D("50.89"), D("2019.69")),
        (date(2026, 4, 1), D("3069.73"), D("30.70"), D("2039.88")),
        (date(2026, 5, 1), D("1029.85"), D("10.30"), D("1029.85")),
    ]
    assert loan.schedule[-1].due_date < TERMS.start_date.replace(month=7)
    assert len(loan.schedule) == 5  # the cut period and four left, against six before
    assert sum(r.principal for r in loan.schedule) == D("12000")
    assert loan.schedule_version == 2


def test_overpayment_with_credit_balance_mode_stays_as_credit() -> None:
    loan = book(prepayment={"allowed_after_months": 0, "mode": "credit-balance"})
    loan.accrue_through(date(2026, 1, 10))
    result = loan.repay(D("5000"), value_date=date(2026, 1, 11), key="P1")
    assert [(e.entry_type, e.credit, e.receivable_change) for e in result.entries] == [
        (EntryType.REPAYMENT, D("5000"), ZERO)
    ]
    assert loan.schedule_version == 1
    assert loan.schedule == Loan.book(loan.product, TERMS).schedule
    b = loan.balances(as_of=date(2026, 1, 11))
    assert (b.credit_balance, b.principal_outstanding) == (D("5000"), D("12000"))
    assert accounts(loan)[Account.CUSTOMER_CREDIT] == D("-5000")


def test_excess_over_the_due_installment_is_prepaid(loan: Loan) -> None:
    # On 1 Feb installment 1 (2,070.58) is due and paid; 1,000.00 more is a prepayment of
    # installment 2's period, cut on its first day: no interest accrued yet, principal
    # 1,000 / 1.01 = 990.099 → 990.09, fee 9.9009 → 9.90, excess 0.01 → credit balance.
    loan.accrue_through(date(2026, 1, 31))
    result = loan.repay(D("3070.58"), value_date=date(2026, 2, 1), key="R1")
    (prepayment,) = of_type(result.entries, EntryType.PREPAYMENT)
    assert components(prepayment) == (2, D("-990.09"), ZERO, ZERO, ZERO, D("-9.90"))
    assert prepayment.credit == D("0.01")
    assert loan.installments()[0].settled
    # The new first period [1 Feb, 1 Mar) is a whole month: periodic interest on
    # 10,049.42 − 990.09 = 9,059.33 → 90.5933 → 90.59.
    assert (loan.schedule[2].opening_balance, loan.schedule[2].interest) == (
        D("9059.33"),
        D("90.59"),
    )
    assert sum(r.principal for r in loan.schedule) == D("12000")


def test_prepayment_before_allowed_months_stays_as_credit() -> None:
    loan = book(prepayment={"allowed_after_months": 3, "fee_rate": "0.01"})
    loan.accrue_through(date(2026, 1, 10))
    loan.repay(D("5000"), value_date=date(2026, 1, 11), key="P1")
    assert loan.schedule_version == 1
    assert loan.balances(as_of=date(2026, 1, 11)).credit_balance == D("5000")


def test_prepayment_allowed_once_the_months_have_passed() -> None:
    loan = book(prepayment={"allowed_after_months": 1, "fee_rate": "0.01"})
    loan.accrue_through(date(2026, 1, 31))
    loan.repay(D("2070.58"), value_date=date(2026, 2, 1), key="R1")
    loan.accrue_through(date(2026, 2, 10))
    # Month 1: allowed. Interest to 10 Feb: 10,049.42 × 0.12 × 10 / 360 = 33.498 → 33.50;
    # principal (3,000 − 33.50) / 1.01 = 2,937.1287 → 2,937.12; fee 29.3712 → 29.37;
    # 33.50 + 2,937.12 + 29.37 = 2,999.99, so 0.01 is left as credit.
    result = loan.repay(D("3000"), value_date=date(2026, 2, 11), key="P1")
    (prepayment,) = of_type(result.entries, EntryType.PREPAYMENT)
    assert components(prepayment) == (2, D("-2937.12"), D("-33.50"), ZERO, ZERO, D("-29.37"))
    assert loan.schedule_version == 2
    assert loan.balances(as_of=date(2026, 2, 11)).credit_balance == D("0.01")


def test_overpayment_after_maturity_is_credit() -> None:
    loan = book()
    loan.accrue_through(date(2026, 7, 1))
    owed = loan.balances()
    total = (
        owed.principal_outstanding
        + owed.overdue_interest
        + owed.due_interest
        + owed.penalty
        + owed.compound
    )
    loan.repay(total + D("10"), value_date=date(2026, 7, 2), key="R1")
    assert loan.status is LoanStatus.CLOSED
    assert loan.balances(as_of=date(2026, 7, 2)).credit_balance == D("10")


def test_prepaying_everything_closes_the_loan(loan: Loan) -> None:
    # 40.00 interest to 10 Jan + 12,000.00 principal + 1 % fee 120.00 = 12,160.00 exactly.
    loan.accrue_through(date(2026, 1, 10))
    loan.repay(D("12160"), value_date=date(2026, 1, 11), key="P1")
    assert loan.status is LoanStatus.CLOSED
    assert loan.balances(as_of=date(2026, 1, 11)).principal_outstanding == ZERO
    assert loan.balances(as_of=date(2026, 1, 11)).credit_balance == ZERO
    assert [r.due_date for r in loan.schedule] == [date(2026, 1, 11)]
    with pytest.raises(InvalidState, match="closed"):
        loan.repay(D("1"), value_date=date(2026, 1, 12), key="R2")
    assert loan.accrue_through(date(2026, 3, 1)) == []


# --- backdated repayments -------------------------------------------------------------------------


def test_backdated_repayment_reverses_and_reaccrues_penalty(loan: Loan) -> None:
    # End of day ran to 11 Feb (10 days of penalty, 9.80). 1,000.00 arrives valued 5 Feb.
    # As of 5 Feb: penalty 2–4 Feb = 3 × 0.98 = 2.94, compound 3 × 0.06 = 0.18; principal
    # 1,000 − 2.94 − 0.18 − 120.00 = 876.88, leaving 1,073.70 unpaid. Penalty 5–11 Feb is
    # re-accrued on it: 1,073.70 × 0.18 / 360 = 0.53685 → 0.54 × 7 = 3.78.
    loan.accrue_through(date(2026, 2, 11))
    result = loan.repay(D("1000"), value_date=date(2026, 2, 5), key="R1")
    (repayment,) = of_type(result.entries, EntryType.REPAYMENT)
    assert components(repayment) == (1, D("-876.88"), D("-120.00"), D("-2.94"), D("-0.18"), ZERO)
    reversals = of_type(result.entries, EntryType.REVERSAL)
    reversed_penalty = sum(e.penalty for e in reversals)
    assert reversed_penalty == D("-6.86")  # 7 × 0.98 over 5–11 Feb
    assert sum(e.compound for e in reversals) == D("-0.42")  # 7 × 0.06
    assert all(e.value_date >= date(2026, 2, 5) for e in reversals)
    b = loan.balances()
    assert (b.penalty, b.compound) == (D("3.78"), ZERO)
    assert b.overdue_principal == D("1073.70")
    assert loan.last_eod == date(2026, 2, 11)
    assert loan.dpd == 10


def on_time_and_backdated(
    product: LoanProduct, amount: Decimal, value_date: date, eod: date, end: date
) -> tuple[Loan, Loan]:
    """The same repayment posted on time (end of day to the day before) and backdated."""
    on_time = Loan.book(product, TERMS, loan_id=1)
    on_time.accrue_through(value_date - timedelta(days=1))
    on_time.repay(amount, value_date=value_date, key="R1")
    on_time.accrue_through(end)
    late = Loan.book(product, TERMS, loan_id=1)
    late.accrue_through(eod)
    late.repay(amount, value_date=value_date, key="R1")
    late.accrue_through(end)
    return on_time, late


def assert_same_position(a: Loan, b: Loan, day: date) -> None:
    assert a.balances(as_of=day) == b.balances(as_of=day)
    assert a.schedule == b.schedule
    assert (a.status, a.dpd, a.bucket) == (b.status, b.dpd, b.bucket)
    state = [
        (s.number, s.penalty, s.compound, s.fee, s.principal_paid, s.interest_paid)
        for s in a.installments(as_of=day)
    ]
    assert state == [
        (s.number, s.penalty, s.compound, s.fee, s.principal_paid, s.interest_paid)
        for s in b.installments(as_of=day)
    ]
    assert accounts(a) == accounts(b)


@pytest.mark.parametrize(
    ("grace", "amount", "value_date", "eod"),
    [
        pytest.param(0, "1000", date(2026, 2, 5), date(2026, 2, 11), id="partial"),
        pytest.param(0, "2500", date(2026, 3, 6), date(2026, 4, 20), id="two-overdue-months"),
        pytest.param(3, "2000", date(2026, 2, 3), date(2026, 2, 20), id="within-grace"),
        pytest.param(3, "5000", date(2026, 2, 10), date(2026, 3, 10), id="with-prepayment"),
        pytest.param(0, "20000", date(2026, 3, 20), date(2026, 5, 1), id="closes-the-loan"),
        pytest.param(0, "500", date(2026, 2, 11), date(2026, 2, 11), id="same-day-as-eod"),
    ],
)
def test_backdated_repayment_equals_on_time_fineract_2081_frappe_1150(
    grace: int, amount: str, value_date: date, eod: date
) -> None:
    # The regression against replayed accruals (FINERACT-2081) and lost or doubled penal
    # interest (Frappe Lending #1150): a late-posted repayment ends where a timely one does.
    product = make_product(overdue_grace_days=grace)
    end = date(2026, 8, 15)
    on_time, late = on_time_and_backdated(product, D(amount), value_date, eod, end)
    assert_same_position(on_time, late, end)


@settings(max_examples=40, deadline=None)
@given(
    grace=st.integers(min_value=0, max_value=5),
    compound=st.booleans(),
    amount_fen=st.integers(min_value=1, max_value=1_500_000),
    value_offset=st.integers(min_value=0, max_value=150),
    eod_lag=st.integers(min_value=0, max_value=45),
    mode=st.sampled_from(["lower-installment", "shorten-term", "credit-balance"]),
)
def test_backdated_repayment_equals_on_time_property(
    grace: int, compound: bool, amount_fen: int, value_offset: int, eod_lag: int, mode: str
) -> None:
    product = make_product(
        overdue_grace_days=grace,
        compound_interest=compound,
        prepayment={"allowed_after_months": 0, "fee_rate": "0.02", "mode": mode},
    )
    value_date = START + timedelta(days=value_offset)
    eod = value_date + timedelta(days=eod_lag)
    end = eod + timedelta(days=10)
    on_time, late = on_time_and_backdated(product, D(amount_fen) / 100, value_date, eod, end)
    assert_same_position(on_time, late, end)


def test_repayment_valued_after_a_lagging_end_of_day_equals_on_time(loan: Loan) -> None:
    # End of day last ran on 5 Feb; a repayment valued 12 Feb must still see the penalty of
    # 6–11 Feb before allocation, and must not accrue the days between twice.
    other = Loan.book(loan.product, TERMS, loan_id=2)
    loan.accrue_through(date(2026, 2, 5))
    loan.repay(D("1000"), value_date=date(2026, 2, 12), key="R1")
    other.accrue_through(date(2026, 2, 11))
    other.repay(D("1000"), value_date=date(2026, 2, 12), key="R1")
    loan.accrue_through(date(2026, 3, 31))
    other.accrue_through(date(2026, 3, 31))
    assert_same_position(loan, other, date(2026, 3, 31))


def test_prepayment_valued_after_a_lagging_end_of_day_accrues_once(loan: Loan) -> None:
    # End of day last ran on 5 Jan; 3,000.00 valued 11 Jan prepays. The cut period's interest
    # is 10 days × 4.00 = 40.00, accrued once (not once by the prepayment and again by the end
    # of day of 6–10 Jan).
    loan.accrue_through(date(2026, 1, 5))
    loan.repay(D("3000"), value_date=date(2026, 1, 11), key="P1")
    loan.accrue_through(date(2026, 2, 5))
    cut = loan.installments()[0]
    assert (cut.plan.interest, cut.interest_accrued, cut.interest_paid) == (
        D("40.00"),
        D("40.00"),
        D("40.00"),
    )
    tb = accounts(loan)
    b = loan.balances()
    assert (
        tb[Account.INTEREST_RECEIVABLE] == b.accrued_interest + b.due_interest + b.overdue_interest
    )


def test_backdating_before_a_later_repayment_is_refused(loan: Loan) -> None:
    # Replaying the later repayment is not supported: allocating 3 Mar's money before 20 Mar's
    # would leave the penalty 20 Mar already collected larger than what was accrued.
    loan.accrue_through(date(2026, 3, 20))
    loan.repay(D("10"), value_date=date(2026, 3, 20), key="R1")
    before = list(loan.entries)
    with pytest.raises(InvalidState, match="valued"):
        loan.repay(D("2000"), value_date=date(2026, 3, 2), key="R2")
    assert loan.entries == before
    # The same value date, or a later one, is fine.
    loan.repay(D("5"), value_date=date(2026, 3, 20), key="R3")
    assert all(s.penalty >= 0 for s in loan.installments())


def test_waiving_before_a_later_repayment_is_refused(loan: Loan) -> None:
    loan.accrue_through(date(2026, 3, 20))
    loan.repay(D("30"), value_date=date(2026, 3, 20), key="R1")
    with pytest.raises(InvalidState, match="valued"):
        loan.waive(value_date=date(2026, 3, 1), key="W1")


def test_repayment_backdated_to_the_day_of_a_waiver_that_took_its_accruals_is_refused(
    loan: Loan,
) -> None:
    # End of day ran to 11 Feb, then the penalty (9.80, including 11 Feb's 0.98) was waived.
    # A repayment valued 11 Feb would reverse that day's 0.98 the waiver already took.
    loan.accrue_through(date(2026, 2, 11))
    loan.waive(value_date=date(2026, 2, 11), key="W1")
    with pytest.raises(InvalidState, match="waiver"):
        loan.repay(D("1000"), value_date=date(2026, 2, 11), key="R1")
    # Valued the next day (on time), it is fine and the penalty stays at zero until then.
    loan.repay(D("1000"), value_date=date(2026, 2, 12), key="R1")
    assert min(s.penalty for s in loan.installments()) == ZERO


def test_waiver_before_the_end_of_day_then_repayment_backdated_to_it(loan: Loan) -> None:
    # Waived on 11 Feb before that day's end of day: 9 days, 8.82 penalty and 0.54 compound.
    # The end of day of 11 Feb then accrues 0.98 and 0.06, and a repayment valued 11 Feb is
    # posted after it: those are reversed; 1,000 pays 120.00 interest and 880.00 principal,
    # leaving 1,070.58; 11 Feb is re-accrued on it: × 0.18 / 360 = 0.53529 → 0.54.
    loan.accrue_through(date(2026, 2, 10))
    loan.waive(value_date=date(2026, 2, 11), key="W1")
    loan.accrue_through(date(2026, 2, 11))
    loan.repay(D("1000"), value_date=date(2026, 2, 11), key="R1")
    assert loan.installments()[0].principal_unpaid == D("1070.58")
    assert loan.balances().penalty == D("0.54")


# --- waiver, write-off, recovery ------------------------------------------------------------------


def test_waive_penalty_and_compound(loan: Loan) -> None:
    loan.accrue_through(date(2026, 2, 11))  # penalty 9.80, compound 0.60
    result = loan.waive(value_date=date(2026, 2, 11), key="W1")
    assert [components(e) for e in result.entries] == [
        (1, ZERO, ZERO, D("-9.80"), D("-0.60"), ZERO)
    ]
    b = loan.balances()
    assert (b.penalty, b.compound, b.overdue_principal) == (ZERO, ZERO, D("1950.58"))
    tb = accounts(loan)
    # A waiver gives up recognised income: the income accounts go back to zero.
    assert (tb[Account.PENALTY_INCOME], tb[Account.COMPOUND_INCOME]) == (ZERO, ZERO)
    assert (tb[Account.PENALTY_RECEIVABLE], tb[Account.COMPOUND_RECEIVABLE]) == (ZERO, ZERO)
    assert loan.waive(value_date=date(2026, 2, 11), key="W1").duplicate
    with pytest.raises(InvalidState, match="no penalty or compound"):
        loan.waive(value_date=date(2026, 2, 11), key="W2")


def test_waive_penalty_only_keeps_compound(loan: Loan) -> None:
    loan.accrue_through(date(2026, 2, 11))
    loan.waive(value_date=date(2026, 2, 11), key="W1", compound=False)
    b = loan.balances()
    assert (b.penalty, b.compound) == (ZERO, D("0.60"))


def test_write_off_takes_every_receivable_to_zero(loan: Loan) -> None:
    loan.accrue_through(date(2026, 3, 4))  # penalty 33.35, compound 2.01 (worked above)
    tb = accounts(loan)
    receivable = (
        Account.LOANS,
        Account.INTEREST_RECEIVABLE,
        Account.PENALTY_RECEIVABLE,
        Account.COMPOUND_RECEIVABLE,
        Account.FEE_RECEIVABLE,
    )
    # 12,000.00 + interest 120.00 + 100.49 + 1–4 Mar of installment 3 (8,079.33 × 0.12 / 360 ×
    # 4 = 10.77244 → 10.77) + penalty 33.35 + compound 2.01 = 12,266.62.
    assert sum(tb[a] for a in receivable) == D("12266.62")
    result = loan.write_off(value_date=date(2026, 3, 4), key="WO")
    assert loan.status is LoanStatus.WRITTEN_OFF
    assert sum(e.receivable_change for e in result.entries) == D("-12266.62")
    tb = accounts(loan)
    assert all(tb[a] == ZERO for a in receivable)
    assert tb[Account.LOSS_RESERVE] == D("12266.62")
    assert sum(tb.values()) == ZERO
    b = loan.balances()
    assert (b.principal_outstanding, b.penalty, b.compound, b.fees) == (ZERO, ZERO, ZERO, ZERO)
    assert loan.accrue_through(date(2026, 6, 1)) == []
    with pytest.raises(InvalidState, match="written-off"):
        loan.repay(D("100"), value_date=date(2026, 3, 5), key="R1")
    with pytest.raises(InvalidState):
        loan.write_off(value_date=date(2026, 3, 5), key="WO2")
    assert loan.write_off(value_date=date(2026, 3, 4), key="WO").duplicate


def test_backdated_write_off_leaves_no_receivable(loan: Loan) -> None:
    loan.accrue_through(date(2026, 3, 10))
    loan.write_off(value_date=date(2026, 3, 4), key="WO")
    tb = accounts(loan)
    for account in (
        Account.LOANS,
        Account.INTEREST_RECEIVABLE,
        Account.PENALTY_RECEIVABLE,
        Account.COMPOUND_RECEIVABLE,
    ):
        assert tb[account] == ZERO, account
    b = loan.balances(as_of=date(2026, 3, 10))
    assert (b.penalty, b.compound, b.accrued_interest) == (ZERO, ZERO, ZERO)


def test_recovery_only_after_write_off(loan: Loan) -> None:
    loan.accrue_through(date(2026, 3, 4))
    with pytest.raises(InvalidState, match="recoveries follow a write-off"):
        loan.recover(D("500"), value_date=date(2026, 3, 5), key="REC1")
    loan.write_off(value_date=date(2026, 3, 4), key="WO")
    reserve = accounts(loan)[Account.LOSS_RESERVE]
    result = loan.recover(D("500"), value_date=date(2026, 4, 1), key="REC1")
    assert result.amount == D("500")
    tb = accounts(loan)
    assert tb[Account.LOSS_RESERVE] == reserve - D("500")
    assert loan.balances(as_of=date(2026, 4, 1)).recovered == D("500")
    assert loan.recover(D("500"), value_date=date(2026, 4, 1), key="REC1").duplicate
    assert accounts(loan)[Account.LOSS_RESERVE] == reserve - D("500")
    for amount in (D("0"), D("-1"), D("1.001")):
        with pytest.raises(InvalidInput):
            loan.recover(amount, value_date=date(2026, 4, 2), key="REC2")
