"""Repayment schedules (还款计划) for every repayment method (还款方式) of the course.

Conventions (see docs/architecture.md, "Schedules"):

* A regular period's interest is opening balance × annual rate / 12 (monthly) or / 4
  (quarterly): the PBOC monthly-rate convention (月利率 = 年利率 / 12).
* A broken first period (a fixed repayment day that is not the disbursement day) accrues
  opening balance × annual rate / 360 × actual days (ACT/360, or the product's day count).
* With ``interest_basis=ACTUAL_DAYS`` every period accrues by actual days (Fineract's DAILY
  interest calculation; reproduces its progressive-engine vectors).
* Interest and principal of each installment are rounded to the fen; a level payment is rounded
  to the fen (or to a multiple); the last installment takes the remaining principal, so the
  principal sums to the amount exactly.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from xiaowei.core.daycount import DayCount, add_months, days_between
from xiaowei.core.errors import InvalidInput
from xiaowei.core.money import ZERO, RoundingMode, round_to_multiple, to_fen

_CTX = decimal.Context(prec=34)


class RepaymentMethod(StrEnum):
    """还款方式."""

    EQUAL_INSTALLMENT = "equal-installment"  # 等额本息
    EQUAL_PRINCIPAL = "equal-principal"  # 等额本金
    INTEREST_ONLY = "interest-only"  # 按月付息到期还本 / 先息后本
    BULLET = "bullet"  # 到期一次还本付息 / 利随本清
    BALLOON = "balloon"  # 气球贷: a share of principal at maturity
    SEASONAL = "seasonal"  # 季节性还款: principal by weights

    @property
    def name_zh(self) -> str:
        return _METHOD_ZH[self]


_METHOD_ZH = {
    RepaymentMethod.EQUAL_INSTALLMENT: "等额本息",
    RepaymentMethod.EQUAL_PRINCIPAL: "等额本金",
    RepaymentMethod.INTEREST_ONLY: "按月付息到期还本",
    RepaymentMethod.BULLET: "到期一次还本付息",
    RepaymentMethod.BALLOON: "气球贷",
    RepaymentMethod.SEASONAL: "季节性还款",
}


class Frequency(StrEnum):
    """还款频率."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"

    @property
    def months(self) -> int:
        return 1 if self is Frequency.MONTHLY else 3

    @property
    def per_year(self) -> int:
        return 12 // self.months


class InterestBasis(StrEnum):
    """How a regular period's interest is computed."""

    PERIODIC = "periodic"  # balance × annual / 12 (or / 4): 月利率 = 年利率 / 12
    ACTUAL_DAYS = "actual-days"  # balance × annual × days / year days, every period


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleTerms:
    """Everything that fixes a schedule. Amounts are Decimal; ``term_months`` counts months."""

    principal: Decimal
    annual_rate: Decimal
    term_months: int
    start_date: date
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT
    frequency: Frequency = Frequency.MONTHLY
    repayment_day: int | None = None
    grace_periods: int = 0
    balloon_share: Decimal = ZERO
    weights: tuple[Decimal, ...] = ()
    rounding: RoundingMode = RoundingMode.HALF_UP
    day_count: DayCount = DayCount.ACT_360
    interest_basis: InterestBasis = InterestBasis.PERIODIC
    installment_multiple: Decimal | None = None
    multiple_rounding: str = decimal.ROUND_HALF_UP
    fixed_installment: Decimal | None = None
    upfront_fee: Decimal = ZERO

    def __post_init__(self) -> None:
        validate_terms(self)

    @property
    def periods(self) -> int:
        if self.method is RepaymentMethod.BULLET:
            return 1
        return self.term_months // self.frequency.months


@dataclass(frozen=True, slots=True)
class Installment:
    """One installment (期供) of a schedule; ``balance`` is principal outstanding after it."""

    number: int
    start_date: date
    due_date: date
    principal: Decimal
    interest: Decimal
    balance: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


@dataclass(frozen=True, slots=True)
class Schedule:
    terms: ScheduleTerms
    installments: tuple[Installment, ...]
    apr: float = field(default=0.0)
    effective_annual_rate: float = field(default=0.0)

    @property
    def total_interest(self) -> Decimal:
        return sum((i.interest for i in self.installments), ZERO)

    @property
    def total_principal(self) -> Decimal:
        return sum((i.principal for i in self.installments), ZERO)

    @property
    def maturity_date(self) -> date:
        return self.installments[-1].due_date

    def to_json(self) -> dict[str, object]:
        return {
            "installments": [
                {
                    "number": i.number,
                    "due_date": i.due_date.isoformat(),
                    "principal": str(i.principal),
                    "interest": str(i.interest),
                    "total": str(i.total),
                    "balance": str(i.balance),
                }
                for i in self.installments
            ],
            "total_interest": str(self.total_interest),
            "total_principal": str(self.total_principal),
            "upfront_fee": str(self.terms.upfront_fee),
            "apr": round(self.apr, 6),
            "effective_annual_rate": round(self.effective_annual_rate, 6),
        }


def validate_terms(t: ScheduleTerms) -> None:
    """Reject impossible terms with an error naming the field."""
    if t.principal <= 0 or t.principal != to_fen(t.principal):
        raise InvalidInput("amount", f"{t.principal} must be positive and in whole fen")
    if not ZERO <= t.annual_rate <= Decimal(1):
        raise InvalidInput("annual_rate", f"{t.annual_rate} must be between 0 and 1 (a fraction)")
    if t.term_months < 1:
        raise InvalidInput("term", f"{t.term_months} must be at least one month")
    if t.method is not RepaymentMethod.BULLET and t.term_months % t.frequency.months:
        raise InvalidInput(
            "term", f"{t.term_months} months is not a whole number of {t.frequency} periods"
        )
    if t.repayment_day is not None and not 1 <= t.repayment_day <= 31:
        raise InvalidInput("repayment_day", f"{t.repayment_day} must be 1..31")
    if t.grace_periods < 0:
        raise InvalidInput("grace", "must not be negative")
    if t.grace_periods and t.method not in (
        RepaymentMethod.EQUAL_INSTALLMENT,
        RepaymentMethod.EQUAL_PRINCIPAL,
    ):
        raise InvalidInput("grace", f"a grace period applies to amortising methods, not {t.method}")
    if t.grace_periods >= max(t.periods, 1) and t.grace_periods:
        raise InvalidInput("grace", f"{t.grace_periods} periods leaves nothing to amortise")
    if t.method is RepaymentMethod.BALLOON and not ZERO < t.balloon_share < Decimal(1):
        raise InvalidInput("balloon", f"{t.balloon_share} must be a share strictly between 0 and 1")
    if t.method is RepaymentMethod.SEASONAL:
        if len(t.weights) != t.periods:
            raise InvalidInput("weights", f"{len(t.weights)} weights given for {t.periods} periods")
        if any(w < 0 for w in t.weights) or sum(t.weights) <= 0:
            raise InvalidInput("weights", "weights must be non-negative with a positive sum")
    if t.fixed_installment is not None and t.fixed_installment <= 0:
        raise InvalidInput("fixed_installment", "must be positive")
    # The fixed amount replaces the level payment of 等额本息 and its rows accrue period by
    # period; with another method (a bullet would charge its whole term's rate every month)
    # or a grace period the method's own terms would be silently ignored.
    if t.fixed_installment is not None and (
        t.method is not RepaymentMethod.EQUAL_INSTALLMENT or t.grace_periods
    ):
        raise InvalidInput(
            "fixed_installment", "applies to equal-installment repayment without a grace period"
        )
    if t.upfront_fee < 0:
        raise InvalidInput("upfront_fee", "must not be negative")


def due_dates(t: ScheduleTerms, periods: int | None = None) -> list[date]:
    """Due dates: every ``frequency`` from the start day, or on the fixed repayment day.

    With a fixed repayment day the first due date is that day in the first period's month, and
    the first period is broken (longer or shorter than a regular one).
    """
    n = t.periods if periods is None else periods
    step = t.term_months if t.method is RepaymentMethod.BULLET else t.frequency.months
    if t.repayment_day is None:
        return [add_months(t.start_date, step * k) for k in range(1, n + 1)]
    first = add_months(t.start_date, step, day=t.repayment_day)
    return [add_months(first, step * k, day=t.repayment_day) for k in range(n)]


def _regular_rate(t: ScheduleTerms) -> Decimal:
    months = t.term_months if t.method is RepaymentMethod.BULLET else t.frequency.months
    return _CTX.divide(t.annual_rate * months, Decimal(12))


def _broken(t: ScheduleTerms) -> bool:
    return t.repayment_day is not None and t.repayment_day != t.start_date.day


def _interest(
    t: ScheduleTerms, balance: Decimal, start: date, due: date, *, first: bool
) -> Decimal:
    if t.interest_basis is InterestBasis.ACTUAL_DAYS or (first and _broken(t)):
        days = days_between(start, due, t.day_count)
        return to_fen(balance * t.annual_rate * days / t.day_count.year_days, rounding=t.rounding)
    return to_fen(balance * _regular_rate(t), rounding=t.rounding)


def level_payment(
    principal: Decimal, rate: Decimal, periods: int, *, residual: Decimal = ZERO
) -> Decimal:
    """Unrounded annuity payment that takes ``principal`` down to ``residual`` in ``periods``."""
    if periods <= 0:
        raise ValueError("periods must be positive")
    if rate == 0:
        return _CTX.divide(principal - residual, Decimal(periods))
    growth = _CTX.power(1 + rate, periods)
    return _CTX.divide((principal * growth - residual) * rate, growth - 1)


def level_payment_by_factors(
    principal: Decimal, factors: Sequence[Decimal], *, residual: Decimal = ZERO
) -> Decimal:
    """Unrounded level payment when period ``i`` accrues at its own rate ``factors[i]``.

    The generalised annuity P·Π(1+fᵢ) = EMI·Σₖ Πᵢ₍>ₖ₎(1+fᵢ) + residual of Fineract's
    progressive engine (``ProgressiveEMICalculator``), where each factor is
    annual rate × actual days / year days; equal factors give :func:`level_payment`.
    """
    if not factors:
        raise ValueError("factors must not be empty")
    growth = Decimal(1)
    annuity = Decimal(0)
    for factor in reversed(factors):
        annuity = _CTX.add(annuity, growth)
        growth = _CTX.multiply(growth, 1 + factor)
    return _CTX.divide(_CTX.multiply(principal, growth) - residual, annuity)


def _rounded_payment(t: ScheduleTerms, raw: Decimal) -> Decimal:
    if t.installment_multiple is not None:
        return round_to_multiple(raw, t.installment_multiple, rounding=t.multiple_rounding)
    return to_fen(raw, rounding=t.rounding)


def principal_plan(t: ScheduleTerms) -> list[Decimal | None]:
    """Scheduled principal per period for methods whose principal does not depend on interest.

    ``None`` marks periods whose principal is the payment minus interest (annuity periods).
    """
    n, g = t.periods, t.grace_periods
    if t.method in (RepaymentMethod.INTEREST_ONLY, RepaymentMethod.BULLET):
        return [*([ZERO] * (n - 1)), t.principal]
    if t.method is RepaymentMethod.EQUAL_PRINCIPAL:
        part = to_fen(t.principal / (n - g), rounding=t.rounding)
        plan: list[Decimal | None] = [*([ZERO] * g), *([part] * (n - g))]
        plan[-1] = t.principal - part * (n - g - 1)
        return plan
    if t.method is RepaymentMethod.SEASONAL:
        total_w = sum(t.weights)
        parts = [to_fen(t.principal * w / total_w, rounding=t.rounding) for w in t.weights]
        parts[-1] = t.principal - sum(parts[:-1], ZERO)
        return list[Decimal | None](parts)
    return [ZERO] * g + [None] * (n - g)


def generate_schedule(t: ScheduleTerms) -> Schedule:
    """The schedule of ``t``: installments, then its APR and effective annual rate."""
    dates = due_dates(t)
    rows = _fixed_installment_rows(t) if t.fixed_installment is not None else _rows(t, dates)
    apr, ear = annualised_rates(
        [r.total for r in rows],
        t.principal - t.upfront_fee,
        t.frequency.per_year
        if t.method is not RepaymentMethod.BULLET
        else Decimal(12) / t.term_months,
    )
    return Schedule(t, tuple(rows), apr=apr, effective_annual_rate=ear)


def _rows(t: ScheduleTerms, dates: Sequence[date]) -> list[Installment]:
    n, g = t.periods, t.grace_periods
    plan = principal_plan(t)
    payment = ZERO
    if t.method in (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.BALLOON):
        residual = (
            to_fen(t.principal * t.balloon_share) if t.method is RepaymentMethod.BALLOON else ZERO
        )
        if t.interest_basis is InterestBasis.ACTUAL_DAYS:
            starts = [t.start_date, *dates[:-1]]
            factors = [
                t.annual_rate * days_between(a, b, t.day_count) / t.day_count.year_days
                for a, b in zip(starts[g:], dates[g:], strict=True)
            ]
            raw = level_payment_by_factors(t.principal, factors, residual=residual)
        else:
            raw = level_payment(t.principal, _regular_rate(t), n - g, residual=residual)
        payment = _rounded_payment(t, raw)
    rows: list[Installment] = []
    balance = t.principal
    start = t.start_date
    for k, due in enumerate(dates):
        interest = _interest(t, balance, start, due, first=k == 0)
        if k == n - 1:
            principal = balance
        elif plan[k] is not None:
            principal = min(plan[k] or ZERO, balance)
        else:
            # With actual-day interest the principal is the level payment less the interest
            # actually charged (Fineract's progressive engine, vector D of the research notes);
            # with periodic interest a broken first period's extra days are charged on top of
            # the payment and the principal stays on the annuity track.
            accrued = (
                interest
                if t.interest_basis is InterestBasis.ACTUAL_DAYS
                else to_fen(balance * _regular_rate(t), rounding=t.rounding)
            )
            principal = min(max(payment - accrued, ZERO), balance)
        balance -= principal
        rows.append(Installment(k + 1, start, due, principal, interest, balance))
        start = due
    return rows


def _fixed_installment_rows(t: ScheduleTerms) -> list[Installment]:
    """Repay a fixed amount per period until the balance is gone (Frappe's "Repay Fixed
    Amount per Period"); the term follows from the amount."""
    assert t.fixed_installment is not None
    rows: list[Installment] = []
    balance = t.principal
    start = t.start_date
    k = 0
    while balance > 0:
        if k >= 1200:
            raise InvalidInput("fixed_installment", "too small to ever repay the loan")
        due = (
            add_months(t.start_date, t.frequency.months * (k + 1))
            if t.repayment_day is None
            else add_months(
                add_months(t.start_date, t.frequency.months, day=t.repayment_day),
                t.frequency.months * k,
                day=t.repayment_day,
            )
        )
        interest = _interest(t, balance, start, due, first=k == 0)
        principal = min(t.fixed_installment - interest, balance)
        if principal <= 0:
            raise InvalidInput("fixed_installment", "does not cover the period's interest")
        balance -= principal
        rows.append(Installment(k + 1, start, due, principal, interest, balance))
        start = due
        k += 1
    return rows


def annualised_rates(
    payments: Sequence[Decimal], net_disbursed: Decimal, per_year: Decimal | int
) -> tuple[float, float]:
    """Nominal APR (periodic IRR × periods per year) and effective annual rate
    ((1 + periodic IRR)^periods − 1) of the borrower's cash flows, fees included.

    The 2021 PBOC announcement on showing annualised rates (中国人民银行公告〔2021〕第3号)
    requires the IRR method; periods are counted as installment periods.
    """
    flows = [float(p) for p in payments]
    pv0 = float(net_disbursed)
    ppy = float(per_year)

    def npv(r: float) -> float:
        return sum(f / (1.0 + r) ** (k + 1) for k, f in enumerate(flows)) - pv0

    def npv_and_slope(r: float) -> tuple[float, float]:
        value, slope, v = -pv0, 0.0, 1.0 / (1.0 + r)
        discount = v
        for k, f in enumerate(flows):
            value += f * discount
            slope -= (k + 1) * f * discount * v
            discount *= v
        return value, slope

    lo, hi = -0.99, 1.0
    while npv(hi) > 0 and hi < 1e6:
        hi *= 2
    if npv(lo) < 0 or npv(hi) > 0:
        return 0.0, 0.0
    # Newton's method kept inside the bracket [lo, hi] (npv falls as r rises); a step that
    # leaves the bracket, or a flat slope, falls back to bisection. Converges in a handful of
    # steps where plain bisection needed about fifty.
    r = 0.01 if lo < 0.01 < hi else (lo + hi) / 2
    for _ in range(200):
        value, slope = npv_and_slope(r)
        if value > 0:
            lo = r
        else:
            hi = r
        nxt = r - value / slope if slope < 0 else (lo + hi) / 2
        if not lo < nxt < hi:
            nxt = (lo + hi) / 2
        converged = abs(nxt - r) < 1e-15 or hi - lo < 1e-15
        r = nxt
        if converged:
            break
    return r * ppy, (1.0 + r) ** ppy - 1.0
