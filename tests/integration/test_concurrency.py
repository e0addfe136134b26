"""Concurrent writers on one loan: nothing lost, nothing applied twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from xiaowei.lending.schedule import ScheduleTerms
from xiaowei.services import loans as svc
from xiaowei.services.eod import run_until


def _loan(engine: Engine) -> int:
    loan_id = svc.book_loan(
        engine,
        product_code="SME-OP",
        terms=ScheduleTerms(
            principal=Decimal("300000"),
            annual_rate=Decimal("0.10"),
            term_months=24,
            start_date=date(2026, 1, 10),
        ),
    )
    run_until(engine, date(2026, 6, 30))  # several installments overdue, penalties running
    return loan_id


@pytest.mark.slow
def test_twenty_threads_post_different_repayments_to_one_loan(catalogue_db: Engine) -> None:
    loan_id = _loan(catalogue_db)
    amounts = [Decimal(100 + 37 * i) for i in range(20)]

    def pay(i: int) -> bool:
        result = svc.repay(
            catalogue_db,
            loan_id=loan_id,
            amount=amounts[i],
            value_date=date(2026, 6, 30),
            key=f"T{i}",
        )
        return result.duplicate

    with ThreadPoolExecutor(max_workers=20) as pool:
        duplicates = list(pool.map(pay, range(20)))
    assert not any(duplicates)
    loan = svc.get_loan(catalogue_db, loan_id, full_history=True)
    for i, amount in enumerate(amounts):
        posting = loan.posting(f"T{i}")
        assert posting is not None, f"repayment T{i} was lost"
        assert posting.amount == amount
    received = sum((e.cash for e in loan.entries if e.key.startswith("T")), Decimal(0))
    assert received == sum(amounts)
    # The version moves once per end of day and once per repayment: every write was seen.
    eod_days = (date(2026, 6, 30) - date(2026, 1, 10)).days + 1
    assert loan.version == 1 + eod_days + len(amounts)


@pytest.mark.slow
def test_the_same_key_from_many_threads_is_applied_once(catalogue_db: Engine) -> None:
    loan_id = _loan(catalogue_db)

    def pay(_: int) -> bool:
        return svc.repay(
            catalogue_db,
            loan_id=loan_id,
            amount=Decimal("999.99"),
            value_date=date(2026, 6, 30),
            key="SAME",
        ).duplicate

    with ThreadPoolExecutor(max_workers=10) as pool:
        duplicates = list(pool.map(pay, range(10)))
    assert duplicates.count(False) == 1
    loan = svc.get_loan(catalogue_db, loan_id, full_history=True)
    posted = [e for e in loan.entries if e.key == "SAME"]
    assert sum((e.cash for e in posted), Decimal(0)) == Decimal("999.99")
