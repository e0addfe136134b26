"""Re-amortisation after a prepayment (提前还款后重新计算还款计划).

The prepaid period is cut at the prepayment date; what is left is spread over the remaining
due dates of the loan. ``shorten-term`` (缩短期限) keeps the installment (equal installment) or
the principal part (equal principal) and drops the last periods; ``lower-installment`` (减少月供)
keeps the maturity and lowers the installment. Other methods keep their shape over the remaining
periods (interest-only and bullet still repay at maturity; seasonal weights are rescaled).
The first new period runs from the prepayment date to the next due date and earns interest by
actual days (the broken-period rule of ``schedule.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from xiaowei.core.daycount import days_between
from xiaowei.core.money import ZERO, to_fen
from xiaowei.lending.product import PrepaymentMode
from xiaowei.lending.schedule import (
    Installment,
    InterestBasis,
    RepaymentMethod,
    ScheduleTerms,
    level_payment,
)


def reamortize(
    terms: ScheduleTerms,
    *,
    balance: Decimal,
    from_date: date,
    due_dates: Sequence[date],
    mode: PrepaymentMode,
    previous_payment: Decimal,
    previous_principal: Decimal,
) -> list[Installment]:
    """New installments for ``balance`` from ``from_date`` over ``due_dates``."""
    if balance <= 0:
        return []
    if not due_dates:
        raise ValueError("no due dates left to re-amortise over")
    months = (
        terms.frequency.months if terms.method is not RepaymentMethod.BULLET else terms.term_months
    )
    regular_rate = terms.annual_rate * months / 12
    m = len(due_dates)
    method = terms.method

    def interest(bal: Decimal, start: date, due: date, *, first: bool) -> Decimal:
        regular = start != from_date or _is_regular_period(from_date, due, months)
        if terms.interest_basis is InterestBasis.ACTUAL_DAYS or (first and not regular):
            days = days_between(start, due, terms.day_count)
            return to_fen(
                bal * terms.annual_rate * days / terms.day_count.year_days, rounding=terms.rounding
            )
        return to_fen(bal * regular_rate, rounding=terms.rounding)

    shorten = mode is PrepaymentMode.SHORTEN_TERM
    payment: Decimal | None = None
    per_period: list[Decimal] | None = None
    if method in (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.BALLOON):
        if shorten and method is RepaymentMethod.EQUAL_INSTALLMENT:
            payment = previous_payment
        else:
            residual = ZERO
            if method is RepaymentMethod.BALLOON:
                residual = min(to_fen(terms.principal * terms.balloon_share), balance)
            payment = to_fen(
                level_payment(balance, regular_rate, m, residual=residual), rounding=terms.rounding
            )
    elif method is RepaymentMethod.EQUAL_PRINCIPAL:
        part = previous_principal if shorten else to_fen(balance / m, rounding=terms.rounding)
        per_period = [part] * m
    elif method is RepaymentMethod.SEASONAL:
        weights = list(terms.weights[-m:])
        total = sum(weights) or Decimal(1)
        per_period = (
            [to_fen(balance * w / total, rounding=terms.rounding) for w in weights]
            if sum(weights)
            else [ZERO] * m
        )
    else:
        per_period = [ZERO] * m

    rows: list[Installment] = []
    start = from_date
    bal = balance
    for k, due in enumerate(due_dates):
        i = interest(bal, start, due, first=k == 0)
        if k == m - 1:
            p = bal
        elif payment is not None:
            regular_i = to_fen(bal * regular_rate, rounding=terms.rounding)
            p = min(max(payment - regular_i, ZERO), bal)
        else:
            assert per_period is not None
            p = min(per_period[k], bal)
        bal -= p
        rows.append(Installment(k + 1, start, due, p, i, bal))
        start = due
        if bal == 0:
            break
    return rows


def _is_regular_period(start: date, due: date, months: int) -> bool:
    from xiaowei.core.daycount import add_months

    # Regular only when ``start`` is a whole period before ``due`` (counted either way, for the
    # end-of-month rule: 28 Feb → 31 Mar is a month). Moving ``start`` by a month *onto
    # due.day* would call any start in the previous month regular (11 Jan → 1 Feb, 21 days).
    return add_months(start, months) == due or add_months(due, -months) == start
