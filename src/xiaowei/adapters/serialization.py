"""Plain-JSON forms of domain objects (Decimals as strings, dates in ISO format)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from xiaowei.core.daycount import DayCount
from xiaowei.core.money import RoundingMode
from xiaowei.lending.schedule import Frequency, InterestBasis, RepaymentMethod, ScheduleTerms


def terms_to_json(t: ScheduleTerms) -> dict[str, Any]:
    return {
        "principal": str(t.principal),
        "annual_rate": str(t.annual_rate),
        "term_months": t.term_months,
        "start_date": t.start_date.isoformat(),
        "method": t.method.value,
        "frequency": t.frequency.value,
        "repayment_day": t.repayment_day,
        "grace_periods": t.grace_periods,
        "balloon_share": str(t.balloon_share),
        "weights": [str(w) for w in t.weights],
        "rounding": t.rounding.value,
        "day_count": t.day_count.value,
        "interest_basis": t.interest_basis.value,
        "installment_multiple": None
        if t.installment_multiple is None
        else str(t.installment_multiple),
        "multiple_rounding": t.multiple_rounding,
        "fixed_installment": None if t.fixed_installment is None else str(t.fixed_installment),
        "upfront_fee": str(t.upfront_fee),
    }


def terms_from_json(d: dict[str, Any]) -> ScheduleTerms:
    return ScheduleTerms(
        principal=Decimal(d["principal"]),
        annual_rate=Decimal(d["annual_rate"]),
        term_months=int(d["term_months"]),
        start_date=date.fromisoformat(d["start_date"]),
        method=RepaymentMethod(d["method"]),
        frequency=Frequency(d["frequency"]),
        repayment_day=d["repayment_day"],
        grace_periods=int(d["grace_periods"]),
        balloon_share=Decimal(d["balloon_share"]),
        weights=tuple(Decimal(w) for w in d["weights"]),
        rounding=RoundingMode(d["rounding"]),
        day_count=DayCount(d["day_count"]),
        interest_basis=InterestBasis(d["interest_basis"]),
        installment_multiple=None
        if d["installment_multiple"] is None
        else Decimal(d["installment_multiple"]),
        multiple_rounding=d["multiple_rounding"],
        fixed_installment=None
        if d["fixed_installment"] is None
        else Decimal(d["fixed_installment"]),
        upfront_fee=Decimal(d["upfront_fee"]),
    )
