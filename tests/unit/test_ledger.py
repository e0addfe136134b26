"""The loan ledger (贷款分户账): double entries of each entry type, reversals, and invariants of
random loan histories (debits = credits, sub-ledger = general ledger, nothing negative).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from xiaowei.core.daycount import DayCount
from xiaowei.core.errors import InvalidState
from xiaowei.core.money import FEN, ZERO
from xiaowei.lending.ledger import (
    COMPONENTS,
    Account,
    EntryType,
    JournalLine,
    LedgerEntry,
    journal_lines,
    trial_balance,
)
from xiaowei.lending.loan import Loan, LoanStatus
from xiaowei.lending.product import product_from_mapping
from xiaowei.lending.schedule import RepaymentMethod, ScheduleTerms

D = Decimal
DAY = date(2026, 3, 1)


def entry(kind: EntryType, **amounts: Any) -> LedgerEntry:
    return LedgerEntry(entry_type=kind, value_date=DAY, booking_date=DAY, key="k", **amounts)


def lines(e: LedgerEntry) -> list[tuple[Account, Decimal, Decimal]]:
    return [(ln.account, ln.debit, ln.credit) for ln in journal_lines(e)]


# --- double entries of each kind (借贷记账) ------------------------------------------------------


@pytest.mark.parametrize(
    ("e", "expected"),
    [
        pytest.param(
            entry(EntryType.DISBURSEMENT, principal=D("12000.00")),
            [(Account.LOANS, D("12000.00"), ZERO), (Account.CASH, ZERO, D("12000.00"))],
            id="disbursement: Dr loans, Cr cash",
        ),
        pytest.param(
            entry(EntryType.INTEREST_ACCRUAL, interest=D("4.00")),
            [
                (Account.INTEREST_RECEIVABLE, D("4.00"), ZERO),
                (Account.INTEREST_INCOME, ZERO, D("4.00")),
            ],
            id="interest accrual: Dr receivable, Cr income",
        ),
        pytest.param(
            entry(EntryType.PENALTY_ACCRUAL, penalty=D("0.98")),
            [
                (Account.PENALTY_RECEIVABLE, D("0.98"), ZERO),
                (Account.PENALTY_INCOME, ZERO, D("0.98")),
            ],
            id="penalty accrual",
        ),
        pytest.param(
            entry(EntryType.COMPOUND_ACCRUAL, compound=D("0.06")),
            [
                (Account.COMPOUND_RECEIVABLE, D("0.06"), ZERO),
                (Account.COMPOUND_INCOME, ZERO, D("0.06")),
            ],
            id="compound accrual",
        ),
        pytest.param(
            entry(EntryType.FEE, fee=D("120.00")),
            [(Account.FEE_RECEIVABLE, D("120.00"), ZERO), (Account.FEE_INCOME, ZERO, D("120.00"))],
            id="fee charged",
        ),
        pytest.param(
            # 1,000.00 received: 9.80 penalty, 0.60 compound, 120.00 interest, 869.60 principal.
            entry(
                EntryType.REPAYMENT,
                principal=D("-869.60"),
                interest=D("-120.00"),
                penalty=D("-9.80"),
                compound=D("-0.60"),
            ),
            [
                (Account.CASH, D("869.60"), ZERO),
                (Account.LOANS, ZERO, D("869.60")),
                (Account.CASH, D("120.00"), ZERO),
                (Account.INTEREST_RECEIVABLE, ZERO, D("120.00")),
                (Account.CASH, D("9.80"), ZERO),
                (Account.PENALTY_RECEIVABLE, ZERO, D("9.80")),
                (Account.CASH, D("0.60"), ZERO),
                (Account.COMPOUND_RECEIVABLE, ZERO, D("0.60")),
            ],
            id="repayment: Dr cash, Cr receivables",
        ),
        pytest.param(
            entry(EntryType.REPAYMENT, credit=D("50.00")),
            [(Account.CASH, D("50.00"), ZERO), (Account.CUSTOMER_CREDIT, ZERO, D("50.00"))],
            id="overpayment: Dr cash, Cr customer credit",
        ),
        pytest.param(
            entry(EntryType.REPAYMENT, interest=D("-20.00"), credit=D("-20.00")),
            [
                (Account.CASH, D("20.00"), ZERO),
                (Account.INTEREST_RECEIVABLE, ZERO, D("20.00")),
                (Account.CUSTOMER_CREDIT, D("20.00"), ZERO),
                (Account.CASH, ZERO, D("20.00")),
            ],
            id="credit balance applied: cash nets out",
        ),
        pytest.param(
            entry(EntryType.WAIVER, penalty=D("-9.80")),
            [
                (Account.PENALTY_INCOME, D("9.80"), ZERO),
                (Account.PENALTY_RECEIVABLE, ZERO, D("9.80")),
            ],
            id="waiver: Dr income, Cr receivable",
        ),
        pytest.param(
            entry(EntryType.WRITE_OFF, principal=D("-1000.00"), interest=D("-10.00")),
            [
                (Account.LOSS_RESERVE, D("1000.00"), ZERO),
                (Account.LOANS, ZERO, D("1000.00")),
                (Account.LOSS_RESERVE, D("10.00"), ZERO),
                (Account.INTEREST_RECEIVABLE, ZERO, D("10.00")),
            ],
            id="write-off: Dr loss reserve, Cr receivables",
        ),
        pytest.param(
            entry(EntryType.RECOVERY, recovered=D("500.00")),
            [(Account.CASH, D("500.00"), ZERO), (Account.LOSS_RESERVE, ZERO, D("500.00"))],
            id="recovery: Dr cash, Cr loss reserve",
        ),
    ],
)
def test_journal_lines_of_each_entry_type(
    e: LedgerEntry, expected: list[tuple[Account, Decimal, Decimal]]
) -> None:
    assert lines(e) == expected


def test_reversal_negates_and_posts_the_opposite_lines() -> None:
    original = LedgerEntry(
        entry_type=EntryType.PENALTY_ACCRUAL,
        value_date=DAY,
        booking_date=DAY,
        key="eod:2026-03-01:penalty",
        line=2,
        installment=3,
        penalty=D("0.98"),
    )
    rev = original.reversal(key="R1:reversal", line=0, booking_date=date(2026, 3, 10))
    assert (rev.entry_type, rev.reversed_type, rev.reverses) == (
        EntryType.REVERSAL,
        EntryType.PENALTY_ACCRUAL,
        "eod:2026-03-01:penalty#2",
    )
    assert (rev.value_date, rev.booking_date, rev.installment) == (DAY, date(2026, 3, 10), 3)
    assert rev.penalty == D("-0.98")
    assert lines(rev) == [
        (Account.PENALTY_INCOME, D("0.98"), ZERO),
        (Account.PENALTY_RECEIVABLE, ZERO, D("0.98")),
    ]
    assert trial_balance([original, rev]) == {
        Account.PENALTY_RECEIVABLE: ZERO,
        Account.PENALTY_INCOME: ZERO,
    }


def test_reversal_without_its_type_is_refused() -> None:
    bad = entry(EntryType.REVERSAL, interest=D("-1.00"))
    with pytest.raises(ValueError, match="does not say what it reverses"):
        list(journal_lines(bad))


def test_cash_of_entries() -> None:
    assert entry(EntryType.DISBURSEMENT, principal=D("100.00")).cash == D("-100.00")
    assert entry(EntryType.REPAYMENT, principal=D("-60.00"), credit=D("5.00")).cash == D("65.00")
    assert entry(EntryType.PREPAYMENT, principal=D("-60.00"), fee=D("-0.60")).cash == D("60.60")
    assert entry(EntryType.RECOVERY, recovered=D("7.00")).cash == D("7.00")
    assert entry(EntryType.INTEREST_ACCRUAL, interest=D("4.00")).cash == ZERO
    assert entry(EntryType.WAIVER, penalty=D("-1.00")).cash == ZERO


FIELDS = {
    EntryType.DISBURSEMENT: ("principal",),
    EntryType.INTEREST_ACCRUAL: ("interest",),
    EntryType.PENALTY_ACCRUAL: ("penalty",),
    EntryType.COMPOUND_ACCRUAL: ("compound",),
    EntryType.FEE: ("fee",),
    EntryType.REPAYMENT: (*COMPONENTS, "credit"),
    EntryType.PREPAYMENT: (*COMPONENTS, "credit"),
    EntryType.WAIVER: ("interest", "penalty", "compound", "fee"),
    EntryType.WRITE_OFF: COMPONENTS,
    EntryType.RECOVERY: ("recovered",),
}


@settings(max_examples=100, deadline=None)
@given(
    kind=st.sampled_from(sorted(FIELDS)),
    fen=st.lists(st.integers(min_value=-(10**9), max_value=10**9), min_size=6, max_size=6),
)
def test_every_entry_and_its_reversal_balance(kind: EntryType, fen: list[int]) -> None:
    e = entry(kind, **{name: D(f) / 100 for name, f in zip(FIELDS[kind], fen, strict=False)})
    posted = list(journal_lines(e))
    assert sum(ln.debit for ln in posted) == sum(ln.credit for ln in posted)
    assert all(ln.debit >= 0 and ln.credit >= 0 for ln in posted)
    rev = e.reversal(key="x", line=0, booking_date=DAY)
    assert all(v == ZERO for v in trial_balance([e, rev]).values())


# --- random loan histories ------------------------------------------------------------------------

RECEIVABLE = {
    "principal": Account.LOANS,
    "interest": Account.INTEREST_RECEIVABLE,
    "penalty": Account.PENALTY_RECEIVABLE,
    "compound": Account.COMPOUND_RECEIVABLE,
    "fee": Account.FEE_RECEIVABLE,
}


METHODS = [
    RepaymentMethod.EQUAL_INSTALLMENT,
    RepaymentMethod.EQUAL_PRINCIPAL,
    RepaymentMethod.INTEREST_ONLY,
    RepaymentMethod.BULLET,
]


@st.composite
def loans(draw: st.DrawFn) -> Loan:
    grace = draw(st.integers(min_value=0, max_value=5))
    fee = draw(st.sampled_from(["0", "0.005", "0.01", "0.03"]))
    product = product_from_mapping(
        {
            "code": "PROP",
            "name_zh": "性质测试贷",
            "name_en": "property loan",
            "amount_min": "100",
            "amount_max": "5000000",
            "term_min": 1,
            "term_max": 12,
            "rate_min": "0",
            "rate_max": "0.36",
            "methods": [m.value for m in METHODS],
            "overdue_grace_days": grace,
            "compound_interest": draw(st.booleans()),
            "penalty_markup": draw(st.sampled_from(["0", "0.3", "0.5"])),
            "allocation": draw(st.sampled_from(["due-order", "principal-first-when-npl"])),
            "rounding": draw(st.sampled_from(["half-up", "half-even"])),
            "fees": [{"kind": "upfront-percent", "value": fee}] if fee != "0" else [],
            "prepayment": {
                "allowed_after_months": draw(st.integers(min_value=0, max_value=2)),
                "fee_rate": draw(st.sampled_from(["0", "0.01", "0.02"])),
                "mode": draw(
                    st.sampled_from(["lower-installment", "shorten-term", "credit-balance"])
                ),
            },
        }
    )
    terms = ScheduleTerms(
        principal=D(draw(st.integers(min_value=10_000, max_value=500_000_000))) / 100,
        annual_rate=D(draw(st.integers(min_value=0, max_value=360))) / 1000,
        term_months=draw(st.integers(min_value=1, max_value=6)),
        start_date=draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))),
        method=draw(st.sampled_from(METHODS)),
        # A fixed repayment day makes the first period broken (longer or shorter than a month).
        repayment_day=draw(st.none() | st.integers(min_value=1, max_value=31)),
        rounding=product.rounding,
        day_count=draw(st.sampled_from(list(DayCount))),
    )
    return Loan.book(product, terms, loan_id=1)


amounts = st.one_of(
    st.integers(min_value=1, max_value=300_000),  # up to 3,000.00: partial payments
    st.integers(min_value=1, max_value=50_000_000),  # up to 500,000.00: prepayments, payoffs
).map(lambda fen: D(fen) / 100)

OPERATION_ARGUMENTS: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
    "eod": st.tuples(st.integers(min_value=1, max_value=60)),
    "repay": st.tuples(amounts, st.integers(min_value=-30, max_value=3)),
    "waive": st.tuples(st.integers(min_value=-10, max_value=0), st.booleans()),
    "write_off": st.tuples(st.integers(min_value=-10, max_value=1)),
    "recover": st.tuples(amounts, st.integers(min_value=0, max_value=30)),
}
# End of day and repayments dominate a loan's life; waivers, write-offs and recoveries are rare.
KINDS = ["eod"] * 6 + ["repay"] * 6 + ["waive", "write_off", "recover"]
operations = st.sampled_from(KINDS).flatmap(
    lambda kind: OPERATION_ARGUMENTS[kind].map(lambda args: (kind, *args))
)


def latest_movement(loan: Loan) -> date | None:
    moving = (EntryType.REPAYMENT, EntryType.PREPAYMENT, EntryType.WAIVER, EntryType.WRITE_OFF)
    return max((e.value_date for e in loan.entries if e.entry_type in moving), default=None)


def waiver_took_the_days_accruals(loan: Loan, day: date) -> bool:
    """A waiver valued ``day`` posted after an accrual valued ``day`` (after its end of day)."""
    on_day = [(i, e.entry_type) for i, e in enumerate(loan.entries) if e.value_date == day]
    accruals = [i for i, kind in on_day if kind.is_accrual]
    waivers = [i for i, kind in on_day if kind is EntryType.WAIVER]
    return bool(accruals and waivers) and max(waivers) > min(accruals)


def apply(loan: Loan, op: tuple[Any, ...], key: str) -> None:
    """Run one operation, checking it is refused exactly when it must be."""
    today = loan.last_eod or loan.terms.start_date
    kind = op[0]
    if kind == "eod":
        loan.accrue_through(today + timedelta(days=op[1]))
        return
    if kind == "recover":
        if loan.status is LoanStatus.WRITTEN_OFF:
            loan.recover(op[1], value_date=today + timedelta(days=op[2]), key=key)
        else:
            with pytest.raises(InvalidState):
                loan.recover(op[1], value_date=today + timedelta(days=op[2]), key=key)
        return
    day = max(today + timedelta(days=op[-1] if kind != "waive" else op[1]), loan.terms.start_date)
    later = latest_movement(loan)
    refused = later is not None and day < later
    backdated = loan.last_eod is not None and day <= loan.last_eod
    event(f"{kind} {loan.status}{' backdated' if backdated else ''}{' refused' if refused else ''}")
    if kind == "repay":
        refused = refused or (backdated and waiver_took_the_days_accruals(loan, day))
        if loan.status is not LoanStatus.ACTIVE or refused:
            with pytest.raises(InvalidState):
                loan.repay(op[1], value_date=day, key=key)
        else:
            result = loan.repay(op[1], value_date=day, key=key)
            assert result.amount == op[1]
            assert not result.duplicate
            again = loan.repay(op[1], value_date=day, key=key)
            assert again.duplicate
            assert again.entries == result.entries
    elif kind == "waive":
        states = loan.installments(as_of=day) if not refused else []
        owed = any(s.penalty or (op[2] and s.compound) for s in states)
        if refused or not owed:
            with pytest.raises(InvalidState):
                loan.waive(value_date=day, key=key, compound=op[2])
        else:
            loan.waive(value_date=day, key=key, compound=op[2])
    elif kind == "write_off":
        if loan.status is not LoanStatus.ACTIVE or refused:
            with pytest.raises(InvalidState):
                loan.write_off(value_date=day, key=key)
        else:
            loan.write_off(value_date=day, key=key)
            assert loan.status is LoanStatus.WRITTEN_OFF


def check_ledger(loan: Loan) -> None:
    entries = loan.entries
    # Every amount is whole fen.
    for e in entries:
        for name in (*COMPONENTS, "credit", "recovered"):
            value = getattr(e, name)
            assert value == value.quantize(FEN), (e, name)
    # Posting references are unique (the store's key) …
    refs = Counter(e.ref for e in entries)
    assert max(refs.values()) == 1, refs.most_common(3)
    # … and each reversal exactly negates one standing entry, reversed once.
    by_ref = {e.ref: e for e in entries}
    reversed_refs = Counter(e.reverses for e in entries if e.entry_type is EntryType.REVERSAL)
    assert all(n == 1 for n in reversed_refs.values())
    for e in entries:
        if e.entry_type is not EntryType.REVERSAL:
            continue
        assert e.reverses is not None
        original = by_ref[e.reverses]
        assert original.entry_type is not EntryType.REVERSAL
        assert e.reversed_type is original.entry_type
        assert (e.value_date, e.installment) == (original.value_date, original.installment)
        for name in (*COMPONENTS, "credit", "recovered"):
            assert getattr(e, name) == -getattr(original, name)
    # Debits equal credits, line by line and in the trial balance.
    posted: list[JournalLine] = [ln for e in entries for ln in journal_lines(e)]
    assert sum(ln.debit for ln in posted) == sum(ln.credit for ln in posted)
    tb = trial_balance(entries)
    assert sum(tb.values()) == ZERO
    account = {a: tb.get(a, ZERO) for a in Account}
    assert account[Account.CASH] == sum((e.cash for e in entries), ZERO)
    # The general ledger agrees with the sub-ledger (分户账与总账核对).
    horizon = max(loan.last_eod or loan.terms.start_date, max(e.value_date for e in entries))
    b = loan.balances(as_of=horizon)
    assert account[Account.LOANS] == b.principal_outstanding
    assert account[Account.PENALTY_RECEIVABLE] == b.penalty
    assert account[Account.COMPOUND_RECEIVABLE] == b.compound
    assert account[Account.FEE_RECEIVABLE] == b.fees
    assert account[Account.CUSTOMER_CREDIT] == -b.credit_balance
    states = loan.installments(as_of=horizon)
    unpaid_interest = sum((s.interest_accrued - s.interest_paid for s in states), ZERO)
    assert account[Account.INTEREST_RECEIVABLE] == unpaid_interest
    if loan.status is not LoanStatus.WRITTEN_OFF:
        # Installments that fell due are fully accrued: the balances' split of the interest
        # receivable covers all of it.
        assert account[Account.INTEREST_RECEIVABLE] == (
            b.accrued_interest + b.due_interest + b.overdue_interest
        )
    # Nothing is owed below zero, and the schedule still repays exactly what was lent.
    assert b.principal_outstanding >= 0
    assert b.credit_balance >= 0
    for s in states:
        assert s.principal_unpaid >= 0, s
        assert min(s.penalty, s.compound, s.fee) >= 0, s
        assert s.interest_accrued >= s.interest_paid >= 0, s
        assert s.interest_accrued <= s.plan.interest, s
    assert sum((r.principal for r in loan.schedule), ZERO) == loan.terms.principal
    # Outcome states.
    if loan.status is LoanStatus.WRITTEN_OFF:
        assert all(account[a] == ZERO for a in RECEIVABLE.values())
        written_off = -sum(
            (e.receivable_change for e in entries if e.entry_type is EntryType.WRITE_OFF), ZERO
        )
        assert account[Account.LOSS_RESERVE] == written_off - b.recovered
    elif loan.status is LoanStatus.CLOSED:
        assert all(account[a] == ZERO for a in RECEIVABLE.values())
        assert all(s.settled for s in loan.installments())
    assert loan.bucket in {"M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7"}


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(loan=loans(), ops=st.lists(operations, min_size=3, max_size=20))
def test_random_histories_keep_the_ledger_balanced(loan: Loan, ops: list[tuple[Any, ...]]) -> None:
    check_ledger(loan)
    for i, op in enumerate(ops):
        apply(loan, op, key=f"op{i}")
        check_ledger(loan)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loan=loans(), data=st.data())
def test_paying_through_maturity_closes_the_loan(loan: Loan, data: st.DataObject) -> None:
    # Pay every installment (with a random shortfall or excess) a few days after it falls due,
    # then settle what is left after maturity: the loan closes and every receivable is zero.
    for i, row in enumerate(list(loan.schedule)):
        if loan.status is not LoanStatus.ACTIVE or i >= len(loan.schedule):
            break
        late = data.draw(st.integers(min_value=0, max_value=10), label="late")
        pay_day = max(row.due_date + timedelta(days=late), (loan.last_eod or row.due_date))
        loan.accrue_through(pay_day - timedelta(days=1))
        share = data.draw(st.integers(min_value=50, max_value=150), label="share")
        amount = ((row.principal + row.interest) * share / 100).quantize(FEN)
        if amount > 0 and loan.status is LoanStatus.ACTIVE:
            loan.repay(amount, value_date=pay_day, key=f"R{i}")
        check_ledger(loan)
    if loan.status is LoanStatus.ACTIVE:
        end = max(loan.schedule[-1].due_date, loan.last_eod or loan.terms.start_date)
        loan.accrue_through(end + timedelta(days=3))
        b = loan.balances()
        owed = (
            b.principal_outstanding
            + b.overdue_interest
            + b.due_interest
            + b.accrued_interest
            + b.penalty
            + b.compound
            + b.fees
        )
        if owed > 0:
            loan.repay(owed + D("1000"), value_date=end + timedelta(days=4), key="payoff")
    check_ledger(loan)
    assert loan.status is LoanStatus.CLOSED
