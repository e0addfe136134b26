"""Loans through the repository and unit of work, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from xiaowei.adapters import orm
from xiaowei.core.errors import ConcurrencyConflict, InvalidInput, NotFound
from xiaowei.lending.ledger import trial_balance
from xiaowei.lending.schedule import RepaymentMethod, ScheduleTerms
from xiaowei.services import loans as svc
from xiaowei.services.eod import run_until
from xiaowei.services.unit_of_work import UnitOfWork


def _terms(amount: str = "120000", start: date = date(2026, 1, 15), **kw: object) -> ScheduleTerms:
    return ScheduleTerms(
        principal=Decimal(amount),
        annual_rate=Decimal("0.12"),
        term_months=12,
        start_date=start,
        repayment_day=20,
        **kw,  # type: ignore[arg-type]
    )


def _count(engine: Engine, table: orm.Table) -> int:  # type: ignore[name-defined]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def test_book_and_load_round_trip(catalogue_db: Engine) -> None:
    loan_id = svc.book_loan(catalogue_db, product_code="SME-OP", terms=_terms(), customer_id="C1")
    loan = svc.get_loan(catalogue_db, loan_id, full_history=True)
    assert loan.customer_id == "C1"
    assert loan.product.code == "SME-OP"
    assert loan.product.version == 1
    assert sum(r.principal for r in loan.schedule) == Decimal("120000.00")
    assert loan.balances().principal_outstanding == Decimal("120000.00")
    assert loan.schedule[0].due_date == date(2026, 2, 20)  # the product's repayment day


def test_booking_outside_the_product_is_refused_and_writes_nothing(catalogue_db: Engine) -> None:
    with pytest.raises(InvalidInput, match="amount"):
        svc.book_loan(catalogue_db, product_code="SME-OP", terms=_terms(amount="5000000"))
    assert _count(catalogue_db, orm.loans) == 0
    assert _count(catalogue_db, orm.ledger_entries) == 0


def test_unknown_loan_and_product(catalogue_db: Engine) -> None:
    with pytest.raises(NotFound, match="no loan 999"):
        svc.get_loan(catalogue_db, 999)
    with pytest.raises(NotFound, match="no product NOPE"):
        svc.book_loan(catalogue_db, product_code="NOPE", terms=_terms())


def test_repayment_is_idempotent_by_key(catalogue_db: Engine) -> None:
    loan_id = svc.book_loan(catalogue_db, product_code="SME-OP", terms=_terms())
    run_until(catalogue_db, date(2026, 2, 25))
    first = svc.repay(
        catalogue_db,
        loan_id=loan_id,
        amount=Decimal("5000"),
        value_date=date(2026, 2, 25),
        key="R1",
    )
    entries_after_first = _count(catalogue_db, orm.ledger_entries)
    again = svc.repay(
        catalogue_db,
        loan_id=loan_id,
        amount=Decimal("5000"),
        value_date=date(2026, 2, 25),
        key="R1",
    )
    assert not first.duplicate
    assert again.duplicate
    assert again.amount == first.amount == Decimal("5000.00")
    assert _count(catalogue_db, orm.ledger_entries) == entries_after_first


def test_duplicate_key_found_even_when_older_than_the_loaded_history(catalogue_db: Engine) -> None:
    loan_id = svc.book_loan(catalogue_db, product_code="SME-OP", terms=_terms())
    run_until(catalogue_db, date(2026, 2, 20))
    svc.repay(
        catalogue_db,
        loan_id=loan_id,
        amount=Decimal("100"),
        value_date=date(2026, 2, 20),
        key="OLD",
    )
    run_until(catalogue_db, date(2026, 4, 1))
    again = svc.repay(
        catalogue_db, loan_id=loan_id, amount=Decimal("100"), value_date=date(2026, 4, 1), key="OLD"
    )
    assert again.duplicate
    assert again.entries[0].value_date == date(2026, 2, 20)


def test_snapshot_loading_matches_full_history(catalogue_db: Engine) -> None:
    loan_id = svc.book_loan(catalogue_db, product_code="SME-OP", terms=_terms())
    run_until(catalogue_db, date(2026, 3, 10))
    svc.repay(
        catalogue_db, loan_id=loan_id, amount=Decimal("3000"), value_date=date(2026, 3, 1), key="B"
    )
    run_until(catalogue_db, date(2026, 5, 31))
    full = svc.get_loan(catalogue_db, loan_id, full_history=True)
    snap = svc.get_loan(catalogue_db, loan_id)
    assert snap.snapshot is not None
    assert len(snap.entries) < len(full.entries)
    assert snap.balances() == full.balances()
    assert [
        (s.principal_paid, s.interest_paid, s.interest_accrued, s.penalty, s.compound)
        for s in snap.installments()
    ] == [
        (s.principal_paid, s.interest_paid, s.interest_accrued, s.penalty, s.compound)
        for s in full.installments()
    ]


def test_stored_projection_equals_replay_of_the_ledger(catalogue_db: Engine) -> None:
    """The installments table (the projection) can always be rebuilt from the ledger."""
    ids = [
        svc.book_loan(catalogue_db, product_code="SME-OP", terms=_terms(method=m))
        for m in (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL)
    ]
    run_until(catalogue_db, date(2026, 4, 10))
    svc.repay(
        catalogue_db, loan_id=ids[0], amount=Decimal("9000"), value_date=date(2026, 3, 25), key="X"
    )
    run_until(catalogue_db, date(2026, 6, 10))
    with catalogue_db.connect() as conn:
        stored = conn.execute(
            select(
                orm.installments.c.loan_id,
                orm.installments.c.number,
                orm.installments.c.principal_paid_fen,
                orm.installments.c.interest_paid_fen,
                orm.installments.c.interest_accrued_fen,
                orm.installments.c.penalty_fen,
                orm.installments.c.compound_fen,
            ).order_by(orm.installments.c.loan_id, orm.installments.c.number)
        ).all()
    replayed = []
    for loan_id in ids:
        loan = svc.get_loan(catalogue_db, loan_id, full_history=True)
        for st in loan.installments():
            replayed.append(
                (
                    loan_id,
                    st.number,
                    int(st.principal_paid * 100),
                    int(st.interest_paid * 100),
                    int(st.interest_accrued * 100),
                    int(st.penalty * 100),
                    int(st.compound * 100),
                )
            )
    assert [tuple(r) for r in stored] == replayed


def test_stale_version_is_caught(catalogue_db: Engine) -> None:
    """test_concurrent_updates_to_version_are_not_allowed, for a loan."""
    loan_id = svc.book_loan(catalogue_db, product_code="SME-OP", terms=_terms())
    run_until(catalogue_db, date(2026, 2, 21))
    with UnitOfWork(catalogue_db) as uow1:
        first = uow1.loans.get(loan_id)
        stale_version = first.version
        first.repay(Decimal("100"), value_date=date(2026, 2, 21), key="A")
        uow1.loans.save(first)
        uow1.commit()
    with UnitOfWork(catalogue_db) as uow2:
        second = uow2.loans.get(loan_id)
        second.version = stale_version
        second.repay(Decimal("100"), value_date=date(2026, 2, 21), key="B")
        with pytest.raises(ConcurrencyConflict, match="stale"):
            uow2.loans.save(second)
    loan = svc.get_loan(catalogue_db, loan_id, full_history=True)
    assert loan.posting("A") is not None
    assert loan.posting("B") is None


def test_ledger_balances_and_reconciles_with_the_loans(catalogue_db: Engine) -> None:
    from xiaowei.services.portfolio import ledger_trial_balance

    ids = [
        svc.book_loan(catalogue_db, product_code="MED-AES", terms=_terms(amount="50000"))
        for _ in range(3)
    ]
    run_until(catalogue_db, date(2026, 5, 1))
    svc.repay(
        catalogue_db, loan_id=ids[0], amount=Decimal("60000"), value_date=date(2026, 4, 1), key="P"
    )
    tb = ledger_trial_balance(catalogue_db)
    assert sum(tb.values()) == 0
    loans = [svc.get_loan(catalogue_db, i, full_history=True) for i in ids]
    expected = trial_balance([e for loan in loans for e in loan.entries])
    assert {k: v for k, v in tb.items() if v} == {k: v for k, v in expected.items() if v}
    from xiaowei.lending.ledger import Account

    outstanding = sum((loan.balances().principal_outstanding for loan in loans), Decimal(0))
    assert tb[Account.LOANS] == outstanding
