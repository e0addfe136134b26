"""Daily accrual rules (按日计提), shared by the per-loan reference path and the vectorised end
of day (which re-implements them on integers and is checked against these in the tests).

* Interest days follow 算头不算尾 (count the first day, not the last): the period
  [start, due) earns interest on every day from ``start`` to ``due − 1``.
* Regular interest accrued by the end of day D of a period is
  round(scheduled opening balance × annual rate × interest days / year days), capped at the
  installment's contractual interest, and trued up to exactly that interest on the period's last
  day (due − 1). Accruals therefore sum to the schedule's interest to the fen, whatever the
  month's length, and the day's accrual is the difference of two cumulative figures (no drift).
* Penalty interest (罚息) on overdue principal and compound interest (复利) on overdue interest
  accrue per day at the penalty rate (contract rate × (1 + markup), PBOC rule for overdue loans
  (《人民币利率管理规定》第二十五条)), each day's amount rounded to the fen. An installment is
  overdue once its grace days are over; the first overdue day also accrues the grace days, so
  that penalty runs from the day after the due date
  (宽限期内还款不计罚息; 逾期则自到期日次日起计收).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from xiaowei.core.daycount import DayCount, days_between
from xiaowei.core.money import ZERO, RoundingMode, to_fen


def interest_accrued_to(
    *,
    as_of: date,
    start: date,
    due: date,
    opening_balance: Decimal,
    annual_rate: Decimal,
    contractual_interest: Decimal,
    day_count: DayCount,
    rounding: RoundingMode,
) -> Decimal:
    """Cumulative regular interest of the period [start, due) by the end of ``as_of``."""
    if as_of < start:
        return ZERO
    if as_of >= due - timedelta(days=1):
        return contractual_interest
    days = days_between(start, as_of + timedelta(days=1), day_count)
    accrued = to_fen(opening_balance * annual_rate * days / day_count.year_days, rounding=rounding)
    return min(accrued, contractual_interest)


def overdue_days_to_charge(as_of: date, due: date, *, grace_days: int) -> int:
    """Days of penalty the end of day ``as_of`` charges for an installment due on ``due``."""
    late = (as_of - due).days
    if late <= grace_days:
        return 0
    return late if late - 1 <= grace_days else 1


def daily_penalty(
    base: Decimal, penalty_rate: Decimal, *, day_count: DayCount, rounding: RoundingMode
) -> Decimal:
    """One day's penalty (or compound) interest on ``base``, rounded to the fen."""
    return to_fen(base * penalty_rate / day_count.year_days, rounding=rounding)
