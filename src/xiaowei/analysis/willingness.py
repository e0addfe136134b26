"""Willingness to repay, monetised (还款意愿货币化).

Capacity (还款能力) asks whether the borrower *can* repay; willingness (还款意愿) asks whether they
*will*. The course's phrase "还款意愿货币化" is not found in any code or page of the research
(``shared/research/credit_analysis_methods.md`` §1 marks the reading as unverified), so what
follows is **the platform's stated method**, not a cited standard: a rational borrower repays
while defaulting costs them more money than it saves. The money cost of default
(违约成本) is the sum of

* **seizable business assets** (可执行经营资产): the officer's business assets × (1 − haircut);
* **seizable household assets** (可执行家庭资产): household assets × (1 − haircut); the
  haircuts stand for forced-sale discounts and exempt assets;
* **guarantors' exposure** (保证人代偿): the share of the loan the guarantors cover (capped at
  100 %) × the loan, weighted — a default makes friends and partners pay, a social debt the
  owner bears;
* **future access to credit** (未来融资机会的现值): the annual value of being able to borrow
  (given, or the loan × an expected margin of borrowed capital over its interest) over the
  years a default shuts the borrower out, discounted as an annuity:
  value × (1 − (1 + r)^−n) / r (n × value when r = 0);
* **reputation in the network** (商誉/圈子声誉): monthly revenue × the share coming from customers
  in the borrower's network × the months of that revenue a default would cost.

It is set against the **exposure** (风险敞口) = the new loan + existing debts outstanding:
willingness margin = cost of default − exposure; willingness ratio = cost of default /
exposure. The notes' reading asks the cost to be at least the exposure (ratio ≥ 1). Next to it
sits the **behavioural evidence** (行为证据): the credit history (overdue months in 24) and the
deviation rate of the asymmetric-information analysis (:mod:`xiaowei.analysis.soft`), and the
repayment capacity the financial analysis computed (installment ratio, maximum affordable
loan), so a committee reads will and can side by side.

Money is :class:`~decimal.Decimal` yuan for a single application, rounded to the fen
(ROUND_HALF_UP) per component; every parameter is in :class:`WillingnessConfig`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field

from xiaowei.analysis.flags import Flag, Severity
from xiaowei.core.errors import InvalidInput

__all__ = [
    "BehaviouralEvidence",
    "CostOfDefault",
    "WillingnessConfig",
    "WillingnessInput",
    "WillingnessResult",
    "annuity_factor",
    "willingness",
]

_FEN = Decimal("0.01")


class WillingnessConfig(BaseModel):
    """Parameters of the monetised willingness, each with its default and reason."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    business_asset_haircut: Decimal = Field(
        Decimal("0.5"),
        ge=0,
        le=1,
        description="share of business assets lost in a forced sale (stock, equipment sell at "
        "about half); design choice",
    )
    household_asset_haircut: Decimal = Field(
        Decimal("0.3"),
        ge=0,
        le=1,
        description="share of household assets out of reach (exempt home, sale costs); design",
    )
    guarantor_weight: Decimal = Field(
        Decimal("1"),
        ge=0,
        le=1,
        description="how much of the guarantors' payment the owner feels as their own cost; 1 = "
        "in full (close-knit networks)",
    )
    credit_margin: Decimal = Field(
        Decimal("0.10"),
        ge=0,
        description="annual value of credit access as a share of the loan when not given: return "
        "on borrowed working capital above its interest (design choice)",
    )
    years_access_lost: int = Field(
        5, ge=0, description="years a default shuts the borrower out: PBOC records stay 5 years"
    )
    discount_rate: Decimal = Field(
        Decimal("0.10"), ge=0, description="annual rate discounting future access (design)"
    )
    reputation_months: Decimal = Field(
        Decimal("6"),
        ge=0,
        description="months of network customers' revenue a default would cost (design choice)",
    )
    min_ratio: Decimal = Field(
        Decimal("1"),
        gt=0,
        description="notes §1 reading: cost of default should be ≥ the exposure (ratio ≥ 1)",
    )
    overdue_months_warning: int = Field(
        1, ge=1, description="overdue months in 24 from which the credit history is flagged"
    )
    deviation_rate_warning: float = Field(
        0.25,
        ge=0,
        le=1,
        description="deviation rate from which declared facts are flagged (1 in 4 deviating)",
    )


def _money(field: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidInput(field, f"must be Decimal yuan (or int), got {value!r}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise InvalidInput(field, f"must be finite, got {value!r}")
    if amount < 0:
        raise InvalidInput(field, f"must not be negative, got {value!r}")
    return amount


def _share(field: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidInput(field, f"must be a Decimal share in [0, 1], got {value!r}")
    share = Decimal(value)
    if not share.is_finite() or not 0 <= share <= 1:
        raise InvalidInput(field, f"must lie in [0, 1], got {value!r}")
    return share


@dataclass(frozen=True)
class WillingnessInput:
    """What the willingness analysis needs for one application (money in Decimal yuan).

    ``guarantor_shares``: the share of the loan each guarantor covers (保证比例);
    ``annual_credit_value``: the yearly value of access to credit if the officer estimated it
    (None: loan × ``credit_margin``); ``network_revenue_share``: share of the monthly revenue
    from customers in the borrower's network (圈子客户占比). Behavioural and capacity fields are
    optional: they are shown, not priced.
    """

    loan_amount: Decimal
    existing_debts: Decimal
    business_assets: Decimal
    household_assets: Decimal
    monthly_revenue: Decimal
    guarantor_shares: tuple[Decimal, ...] = ()
    network_revenue_share: Decimal = Decimal("0")
    annual_credit_value: Decimal | None = None
    overdue_months_24m: int | None = None
    deviation_rate: float | None = None
    installment_ratio: float | None = None
    max_affordable_loan: Decimal | None = None

    def __post_init__(self) -> None:
        loan = _money("loan_amount", self.loan_amount)
        if loan == 0:
            raise InvalidInput("loan_amount", "must be positive")
        for name in ("existing_debts", "business_assets", "household_assets", "monthly_revenue"):
            _money(name, getattr(self, name))
        if not isinstance(self.guarantor_shares, tuple):
            raise InvalidInput("guarantor_shares", "must be a tuple of Decimal shares")
        for i, share in enumerate(self.guarantor_shares):
            _share(f"guarantor_shares[{i}]", share)
        _share("network_revenue_share", self.network_revenue_share)
        if self.annual_credit_value is not None:
            _money("annual_credit_value", self.annual_credit_value)
        if self.max_affordable_loan is not None:
            _money("max_affordable_loan", self.max_affordable_loan)
        if self.overdue_months_24m is not None and (
            isinstance(self.overdue_months_24m, bool)
            or not isinstance(self.overdue_months_24m, int)
            or not 0 <= self.overdue_months_24m <= 24
        ):
            raise InvalidInput("overdue_months_24m", "must be an integer in [0, 24]")
        for name in ("deviation_rate", "installment_ratio"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(name, f"must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise InvalidInput(name, f"must be finite and non-negative, got {value!r}")
            if name == "deviation_rate" and value > 1:
                raise InvalidInput(name, f"is a share in [0, 1], got {value!r}")


@dataclass(frozen=True)
class CostOfDefault:
    """The borrower's money cost of default (违约成本), by component, in yuan."""

    business_assets: Decimal
    household_assets: Decimal
    guarantors: Decimal
    future_credit: Decimal
    reputation: Decimal

    @property
    def total(self) -> Decimal:
        return (
            self.business_assets
            + self.household_assets
            + self.guarantors
            + self.future_credit
            + self.reputation
        )


@dataclass(frozen=True)
class BehaviouralEvidence:
    """Behaviour shown next to the money (行为证据) and the capacity figures (还款能力)."""

    overdue_months_24m: int | None
    deviation_rate: float | None
    installment_ratio: float | None
    max_affordable_loan: Decimal | None


@dataclass(frozen=True)
class WillingnessResult:
    """Monetised willingness of one application."""

    cost: CostOfDefault
    exposure: Decimal
    margin: Decimal
    ratio: float
    evidence: BehaviouralEvidence
    flags: tuple[Flag, ...]

    def features(self) -> dict[str, float]:
        """Flat features for scoring (yuan as float; NaN where not available)."""
        ev = self.evidence
        return {
            "cost_of_default": float(self.cost.total),
            "willingness_exposure": float(self.exposure),
            "willingness_margin": float(self.margin),
            "willingness_ratio": self.ratio,
            "overdue_months_24m": (
                math.nan if ev.overdue_months_24m is None else float(ev.overdue_months_24m)
            ),
            "deviation_rate": math.nan if ev.deviation_rate is None else ev.deviation_rate,
        }


def annuity_factor(rate: Decimal, years: int) -> Decimal:
    """Present value of 1 a year for ``years`` years at ``rate``: (1 − (1 + r)^−n) / r."""
    if years < 0 or rate < 0:
        raise InvalidInput("annuity", f"rate and years must not be negative ({rate}, {years})")
    if rate == 0:
        return Decimal(years)
    return (1 - (1 + rate) ** -years) / rate


def _fen(amount: Decimal) -> Decimal:
    return amount.quantize(_FEN, rounding=ROUND_HALF_UP)


def willingness(
    inputs: WillingnessInput, config: WillingnessConfig | None = None
) -> WillingnessResult:
    """Cost of default against exposure: margin, ratio, behavioural evidence and flags."""
    cfg = config or WillingnessConfig()
    loan = inputs.loan_amount
    covered = min(sum(inputs.guarantor_shares, Decimal("0")), Decimal("1"))
    annual = (
        inputs.annual_credit_value
        if inputs.annual_credit_value is not None
        else loan * cfg.credit_margin
    )
    cost = CostOfDefault(
        business_assets=_fen(inputs.business_assets * (1 - cfg.business_asset_haircut)),
        household_assets=_fen(inputs.household_assets * (1 - cfg.household_asset_haircut)),
        guarantors=_fen(covered * loan * cfg.guarantor_weight),
        future_credit=_fen(annual * annuity_factor(cfg.discount_rate, cfg.years_access_lost)),
        reputation=_fen(
            inputs.monthly_revenue * inputs.network_revenue_share * cfg.reputation_months
        ),
    )
    exposure = _fen(loan + inputs.existing_debts)
    margin = cost.total - exposure
    ratio = float(cost.total / exposure)
    flags: list[Flag] = []
    if cost.total < exposure * cfg.min_ratio:
        flags.append(
            Flag(
                code="low_willingness",
                severity=Severity.WARNING,
                message=(
                    f"cost of default 违约成本 {cost.total} yuan is {ratio:.2f}× the exposure "
                    f"风险敞口 {exposure} yuan (below {cfg.min_ratio}×)"
                ),
                evidence={"margin": str(margin), "ratio": ratio},
            )
        )
    overdue = inputs.overdue_months_24m
    if overdue is not None and overdue >= cfg.overdue_months_warning:
        flags.append(
            Flag(
                code="credit_history_overdue",
                severity=Severity.WARNING,
                message=f"{overdue} overdue months in 24 in the credit report 征信逾期",
                evidence={"overdue_months_24m": overdue},
            )
        )
    dev = inputs.deviation_rate
    if dev is not None and dev >= cfg.deviation_rate_warning:
        flags.append(
            Flag(
                code="high_deviation_rate",
                severity=Severity.WARNING,
                message=f"{dev:.0%} of declared facts deviate from verification 申报偏差",
                evidence={"deviation_rate": dev},
            )
        )
    return WillingnessResult(
        cost=cost,
        exposure=exposure,
        margin=margin,
        ratio=ratio,
        evidence=BehaviouralEvidence(
            overdue_months_24m=overdue,
            deviation_rate=dev,
            installment_ratio=inputs.installment_ratio,
            max_affordable_loan=inputs.max_affordable_loan,
        ),
        flags=tuple(flags),
    )
