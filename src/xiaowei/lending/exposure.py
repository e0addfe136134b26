"""Exposure and expected loss of a repayment schedule (风险敞口与预期损失).

"Risk control from the product's view" (产品视角下的信贷风控): the repayment method fixes how
much the lender has at stake at every date, and so how much it expects to lose for the same
borrower.  Pure functions of a :class:`~xiaowei.lending.schedule.Schedule`; no I/O.

Definitions (period ``i`` runs from due date ``i − 1``, or disbursement, to due date ``i``):

* **Exposure at default** (违约风险敞口, EAD) of period ``i``: what the borrower owes on due date
  ``i`` just before paying it, i.e. the principal outstanding during the period plus the
  interest accrued in it, ``EAD_i = B_{i−1} + I_i``.  A default in period ``i`` is read as
  "installment ``i`` is never paid".  This follows IRB practice, where the exposure value of
  an on-balance-sheet loan is its carrying amount, accrued interest included (Regulation (EU)
  No 575/2013, Art. 166(1)); ``include_interest=False`` gives the principal-only variant.
* **Average exposure**: the time-weighted mean of ``EAD_i`` over the loan's life (each period
  weighted by its length in months); **peak exposure**: the largest ``EAD_i``.
* **Weighted average life** (加权平均期限, WAL) of principal: ``Σ t_i · P_i / Σ P_i`` in years,
  where ``t_i`` is the time from disbursement to due date ``i`` and ``P_i`` the principal repaid
  then (the usual securities convention, e.g. Fabozzi, *Handbook of Fixed Income Securities*).
* **Default timing**: a constant hazard calibrated to the annual probability of default,
  survival ``S(t) = (1 − PD)^(t / 12)`` with ``t`` in months, so that ``S(12) = 1 − PD``; the
  marginal (unconditional) probability of defaulting in period ``i`` is
  ``S(t_{i−1}) − S(t_i)`` and the cumulative PD to maturity is ``1 − S(t_n)``.  This is the
  discrete-time hazard model of survival analysis (Singer & Willett, *Applied Longitudinal
  Data Analysis*, 2003, ch. 10) with a flat hazard, the same flat-hazard term structure IFRS 9
  lifetime-ECL models use when only a 12-month PD is known.
* **Expected loss** (预期损失): the Basel IRB expected loss amount ``EL = PD × LGD × EAD``
  (BCBS, *International Convergence of Capital Measurement and Capital Standards*, 2006;
  Regulation (EU) No 575/2013, Art. 158), summed over the periods of the schedule:
  ``EL = Σ_i [S(t_{i−1}) − S(t_i)] × LGD × EAD_i``.
* **Expected net income**: contractual interest less EL, a first-order margin that ignores
  funding and operating costs and the interest the lender would not earn after a default.

Money inputs stay Decimal; the analytics are floats (probabilities have no fen).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from xiaowei.core.daycount import add_months
from xiaowei.core.errors import InvalidInput
from xiaowei.lending.schedule import Schedule


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposurePoint:
    """Exposure of one period: what is owed on its due date before the installment is paid."""

    number: int
    due_date: date
    months: float  # from disbursement to the due date
    period_months: float  # length of the period
    principal_outstanding: Decimal  # B_{i−1}, outstanding during the period
    accrued_interest: Decimal  # I_i, accrued in the period
    principal_repaid: Decimal  # P_i, repaid on the due date

    @property
    def ead(self) -> Decimal:
        return self.principal_outstanding + self.accrued_interest


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposureProfile:
    """The exposure of a schedule over its life (风险敞口曲线)."""

    amount: Decimal
    points: tuple[ExposurePoint, ...]
    average_exposure: float
    peak_exposure: Decimal
    average_life_years: float

    @property
    def life_months(self) -> float:
        return self.points[-1].months

    def to_json(self) -> dict[str, object]:
        return {
            "amount": str(self.amount),
            "average_exposure": round(self.average_exposure, 2),
            "peak_exposure": str(self.peak_exposure),
            "average_life_years": round(self.average_life_years, 6),
            "points": [
                {
                    "number": p.number,
                    "due_date": p.due_date.isoformat(),
                    "months": round(p.months, 6),
                    "principal_outstanding": str(p.principal_outstanding),
                    "accrued_interest": str(p.accrued_interest),
                    "ead": str(p.ead),
                }
                for p in self.points
            ],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectedLoss:
    """Expected credit loss of one loan under a flat annual PD and an LGD."""

    pd_annual: float
    lgd: float
    marginal_pd: tuple[float, ...]  # probability of defaulting in period i
    cumulative_pd: float  # probability of defaulting before maturity
    expected_loss: float
    amount: Decimal
    total_interest: Decimal

    @property
    def loss_rate(self) -> float:
        """EL / amount (预期损失率)."""
        return self.expected_loss / float(self.amount)

    @property
    def expected_net_income(self) -> float:
        """Contractual interest less expected loss."""
        return float(self.total_interest) - self.expected_loss

    def to_json(self) -> dict[str, object]:
        return {
            "pd_annual": self.pd_annual,
            "lgd": self.lgd,
            "cumulative_pd": round(self.cumulative_pd, 8),
            "expected_loss": round(self.expected_loss, 2),
            "loss_rate": round(self.loss_rate, 8),
            "expected_net_income": round(self.expected_net_income, 2),
        }


def months_between(start: date, end: date) -> float:
    """Calendar months from ``start`` to ``end``: whole months by :func:`add_months` (so a
    regular schedule's due dates are exactly 1, 2, 3 … months out), plus the remaining days as
    a fraction of the following month (a broken first period)."""
    if end < start:
        raise ValueError(f"{end} is before {start}")
    whole = (end.year - start.year) * 12 + end.month - start.month
    while whole > 0 and add_months(start, whole) > end:
        whole -= 1
    anchor = add_months(start, whole)
    if anchor == end:
        return float(whole)
    following = add_months(start, whole + 1)
    return whole + (end - anchor).days / (following - anchor).days


def exposure_profile(schedule: Schedule) -> ExposureProfile:
    """EAD per period, average and peak exposure and the weighted average life of principal."""
    start = schedule.terms.start_date
    points: list[ExposurePoint] = []
    previous = 0.0
    for row in schedule.installments:
        months = months_between(start, row.due_date)
        points.append(
            ExposurePoint(
                number=row.number,
                due_date=row.due_date,
                months=months,
                period_months=months - previous,
                principal_outstanding=row.balance + row.principal,
                accrued_interest=row.interest,
                principal_repaid=row.principal,
            )
        )
        previous = months
    life = points[-1].months
    amount = schedule.terms.principal
    average = sum(float(p.ead) * p.period_months for p in points) / life
    wal_months = sum(p.months * float(p.principal_repaid) for p in points) / float(amount)
    return ExposureProfile(
        amount=amount,
        points=tuple(points),
        average_exposure=average,
        peak_exposure=max(p.ead for p in points),
        average_life_years=wal_months / 12,
    )


def _check_probability(value: float, field: str) -> None:
    if not 0.0 <= value <= 1.0:
        raise InvalidInput(field, f"{value} must be a probability between 0 and 1")


def survival(months: float, pd_annual: float) -> float:
    """Probability of not having defaulted ``months`` after disbursement: (1 − PD)^(t/12)."""
    _check_probability(pd_annual, "pd")
    if months == 0:
        return 1.0
    return float((1.0 - pd_annual) ** (months / 12.0))


def marginal_default_probabilities(months: Sequence[float], pd_annual: float) -> tuple[float, ...]:
    """Unconditional probability of defaulting in each period ending at ``months[i]``:
    S(t_{i−1}) − S(t_i), with t_{−1} = 0."""
    survivals = [1.0, *(survival(m, pd_annual) for m in months)]
    return tuple(a - b for a, b in itertools.pairwise(survivals))


def expected_loss(
    schedule: Schedule,
    *,
    pd_annual: float,
    lgd: float,
    include_interest: bool = True,
    profile: ExposureProfile | None = None,
) -> ExpectedLoss:
    """EL = Σ_i marginal PD_i × LGD × EAD_i over the periods of ``schedule``.

    ``include_interest=False`` counts principal only (EAD_i = B_{i−1}); then
    EL ≤ LGD × amount × cumulative PD.
    """
    _check_probability(pd_annual, "pd")
    _check_probability(lgd, "lgd")
    profile = profile or exposure_profile(schedule)
    marginal = marginal_default_probabilities([p.months for p in profile.points], pd_annual)
    eads = [float(p.ead if include_interest else p.principal_outstanding) for p in profile.points]
    loss = sum(q * lgd * e for q, e in zip(marginal, eads, strict=True))
    return ExpectedLoss(
        pd_annual=pd_annual,
        lgd=lgd,
        marginal_pd=marginal,
        cumulative_pd=1.0 - survival(profile.life_months, pd_annual),
        expected_loss=loss,
        amount=schedule.terms.principal,
        total_interest=schedule.total_interest,
    )
