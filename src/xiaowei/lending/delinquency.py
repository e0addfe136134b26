"""Days past due (逾期天数) and delinquency buckets (逾期账龄).

Buckets follow the M-scale used by Chinese lenders: M0 current; M1 1–30 days; M2 31–60;
M3 61–90; M4 91–120; M5 121–150; M6 151–180; M7 more than 180 days past due.
"""

from __future__ import annotations

from datetime import date

BUCKETS = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7")


def bucket_of(dpd: int) -> str:
    if dpd < 0:
        raise ValueError("days past due cannot be negative")
    if dpd == 0:
        return "M0"
    return BUCKETS[min((dpd - 1) // 30 + 1, 7)]


def days_past_due(as_of: date, oldest_unpaid_due: date | None, *, grace_days: int) -> int:
    """as-of date − due date of the oldest unpaid installment, once the grace days are over.

    Within the grace days (宽限期) an unpaid installment is not yet overdue and counts 0; after
    them the count runs from the due date itself.
    """
    if oldest_unpaid_due is None:
        return 0
    late = (as_of - oldest_unpaid_due).days
    return late if late > grace_days else 0
