"""Day-count conventions (计息基准) and dates with the end-of-month rule.

ACT/360 is the default: the PBOC's interest rules (《人民币利率管理规定》, 1999) set the daily
rate at annual rate / 360 and the monthly rate at annual rate / 12, and count actual days.
ACT/365 and 30/360 (ISDA 2006 §4.16(f), the "30/360 US" variant without the February rule)
are available as product settings.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from enum import StrEnum


class DayCount(StrEnum):
    ACT_360 = "ACT/360"
    ACT_365 = "ACT/365"
    THIRTY_360 = "30/360"

    @property
    def year_days(self) -> int:
        return 365 if self is DayCount.ACT_365 else 360


def days_between(start: date, end: date, convention: DayCount) -> int:
    """Days from ``start`` to ``end`` counted under ``convention`` (end exclusive of start)."""
    if convention is DayCount.THIRTY_360:
        d1 = min(start.day, 30)
        d2 = end.day
        if d2 == 31 and d1 == 30:
            d2 = 30
        return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
    return (end - start).days


def year_fraction(start: date, end: date, convention: DayCount) -> Decimal:
    return Decimal(days_between(start, end, convention)) / Decimal(convention.year_days)


def add_months(start: date, months: int, *, day: int | None = None) -> date:
    """``start`` moved by ``months`` calendar months, keeping ``day`` (default: start's day).

    End-of-month rule: a day the target month lacks becomes its last day, so a loan disbursed
    on 31 January falls due on 28/29 February, 31 March, 30 April …
    """
    anchor = start.day if day is None else day
    if not 1 <= anchor <= 31:
        raise ValueError(f"day must be 1..31, got {anchor}")
    month_index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(month_index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(anchor, last))
