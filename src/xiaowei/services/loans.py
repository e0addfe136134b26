"""Loan use cases: book, repay, waive, write off, recover, show; with retries on conflicts."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from xiaowei.core.errors import ConcurrencyConflict
from xiaowei.lending.loan import Loan, PostingResult
from xiaowei.lending.schedule import ScheduleTerms
from xiaowei.services.unit_of_work import UnitOfWork

T = TypeVar("T")
MAX_ATTEMPTS = 50


def with_retries(engine: Engine, work: Callable[[UnitOfWork], T]) -> T:
    """Run ``work`` in a fresh unit of work, retrying when another writer won the race.

    A lost optimistic lock (``ConcurrencyConflict``), a duplicate idempotency key written by a
    concurrent request (``IntegrityError``) or a busy SQLite file are retried on fresh state;
    the retry of a duplicate key then finds the first posting and returns it unchanged.
    """
    for attempt in range(MAX_ATTEMPTS):
        try:
            with UnitOfWork(engine) as uow:
                result = work(uow)
                uow.commit()
                return result
        except (ConcurrencyConflict, IntegrityError, OperationalError) as exc:
            if isinstance(exc, OperationalError) and "locked" not in str(exc).lower():
                raise
            time.sleep(min(0.002 * (attempt + 1), 0.05))
    raise ConcurrencyConflict(f"gave up after {MAX_ATTEMPTS} attempts")


def book_loan(
    engine: Engine,
    *,
    product_code: str,
    terms: ScheduleTerms,
    customer_id: str = "",
    product_version: int | None = None,
) -> int:
    """Book and disburse a loan under the product's current (or given) version."""
    with UnitOfWork(engine) as uow:
        product = uow.products.get(product_code, product_version)
        loan = Loan.book(product, terms, customer_id=customer_id)
        loan_id = uow.loans.add(loan)
        uow.commit()
        return loan_id


def _post(
    engine: Engine,
    *,
    loan_id: int,
    value_date: date,
    key: str,
    action: Callable[[Loan], PostingResult],
) -> PostingResult:
    """Load the loan from ``value_date`` on (with ``key``'s earlier posting, if any), apply
    ``action``, save unless it was a duplicate; retried on a lost race."""

    def work(uow: UnitOfWork) -> PostingResult:
        loan = uow.loans.get(loan_id, for_update=True, history_from=value_date, keys=[key])
        result = action(loan)
        if not result.duplicate:
            uow.loans.save(loan, effective_date=value_date)
        return result

    return with_retries(engine, work)


def repay(
    engine: Engine, *, loan_id: int, amount: Decimal, value_date: date, key: str
) -> PostingResult:
    """Post a repayment; the same ``key`` twice returns the first result (idempotent)."""
    return _post(
        engine,
        loan_id=loan_id,
        value_date=value_date,
        key=key,
        action=lambda loan: loan.repay(amount, value_date=value_date, key=key),
    )


def waive(engine: Engine, *, loan_id: int, value_date: date, key: str) -> PostingResult:
    """Waive unpaid penalty and compound interest (罚息减免)."""
    return _post(
        engine,
        loan_id=loan_id,
        value_date=value_date,
        key=key,
        action=lambda loan: loan.waive(value_date=value_date, key=key),
    )


def write_off(engine: Engine, *, loan_id: int, value_date: date, key: str) -> PostingResult:
    """Write the loan off (核销)."""
    return _post(
        engine,
        loan_id=loan_id,
        value_date=value_date,
        key=key,
        action=lambda loan: loan.write_off(value_date=value_date, key=key),
    )


def recover(
    engine: Engine, *, loan_id: int, amount: Decimal, value_date: date, key: str
) -> PostingResult:
    """Cash recovered after a write-off (核销后收回)."""
    return _post(
        engine,
        loan_id=loan_id,
        value_date=value_date,
        key=key,
        action=lambda loan: loan.recover(amount, value_date=value_date, key=key),
    )


def get_loan(engine: Engine, loan_id: int, *, full_history: bool = False) -> Loan:
    """A loan as of its last end of day (older entries as a snapshot unless asked for)."""
    with UnitOfWork(engine) as uow:
        if full_history:
            return uow.loans.get(loan_id)
        return uow.loans.get(loan_id, history_from=date.max)
