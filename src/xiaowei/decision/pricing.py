"""Risk-based pricing (风险定价 / 贷款定价): a loan's annual rate built from its costs and risk.

The rate is the sum of five annual components, each a fraction of the amount outstanding:

    rate = funding (资金成本, FTP) + operating cost (运营成本) + expected loss (预期损失)
           + cost of capital (资本成本) + margin (目标利润)

* **Expected loss** = annual PD × LGD.  Convention: the PD is the probability of default within
  ``pd_horizon_months`` (12 by default: the horizon of the scorecards' master scale); a PD over
  another horizon H is turned into a one-year PD at a constant default intensity,
  PD₁₂ = 1 − (1 − PD_H)^(12 / H).  The loss is charged every year of the term on the balance
  then outstanding, as interest is, so the term needs no other annualisation.
* **Capital** C per unit of exposure (经济资本占用) is either the Basel IRB requirement K
  (:mod:`xiaowei.decision.capital`; corporate with the SME adjustment, or other retail) or a
  risk weight × a target capital ratio (the IRB risk weight, or a standardised weight such as
  75 % for regulatory retail, × e.g. 10.5 % = 8 % minimum + 2.5 % conservation buffer of
  《商业银行资本管理办法》, 2023).  For corporate exposures the effective maturity is the
  contractual term, the conservative choice §320 of Basel II allows, clamped to [1, 5] years.
* **Cost of capital** = C × (hurdle − risk-free rate): the shareholders want the hurdle rate on
  C, and C, being equity rather than borrowed money, already earns the risk-free rate where it
  is invested, so only the excess is charged.
* **RAROC** (风险调整资本收益率) = (interest + C × risk-free − funding − operating − EL) / C.
  Why it equals the hurdle h when the margin is zero and no bound binds: then
  interest − funding − operating − EL = C × (h − r_f), so the numerator is C × (h − r_f) + C × r_f
  = C × h.  Each margin point adds 1 / C points of RAROC.

The rate is clamped to the product's [rate_min, rate_max] (产品利率区间) and to a legal cap
(利率上限).  The default cap is the judicial protection ceiling for private lending of the
Supreme People's Court, four times the one-year Loan Prime Rate at the contract date
(《最高人民法院关于审理民间借贷案件适用法律若干问题的规定》, 2020 revision, 法释〔2020〕17号,
art. 25); the LPR is a parameter (default 3.00 %, the one-year LPR announced from 20 May 2025),
and so is the multiple.  Licensed lenders are outside that interpretation (法释〔2020〕27号) and
are held to their regulators' lines instead: pass their cap as ``legal_cap``.

All rates are ``Decimal`` with six decimals (1e-6 = 0.0001 %), rounded half-up, as products and
loan contracts carry them (:mod:`xiaowei.lending.product`); each component is rounded and the
rate is their exact sum, so the breakdown adds up.  RAROC is a float.
"""

from __future__ import annotations

import decimal
import math
import numbers
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from xiaowei.core.errors import InvalidInput
from xiaowei.decision.capital import AssetClass, IrbResult, irb_capital
from xiaowei.lending.product import LoanProduct

RATE_QUANTUM = Decimal("0.000001")
DEFAULT_LPR_1Y = Decimal("0.0300")  # one-year LPR from 20 May 2025 (全国银行间同业拆借中心)
DEFAULT_LEGAL_CAP_MULTIPLE = Decimal(4)  # 法释〔2020〕17号: 4 × one-year LPR


def _rate(value: Decimal) -> Decimal:
    return value.quantize(RATE_QUANTUM, rounding=decimal.ROUND_HALF_UP)


def _from_float(value: float) -> Decimal:
    return _rate(Decimal(repr(float(value))))


class CapitalMethod(StrEnum):
    """How the capital held against a loan is measured (资本计量方法)."""

    IRB = "irb"  # C = K of the Basel IRB function
    RISK_WEIGHT = "risk-weight"  # C = risk weight × target capital ratio


class PriceBound(StrEnum):
    """Which bound clamped the risk-based rate (定价约束)."""

    PRODUCT_MIN = "product-min"
    PRODUCT_MAX = "product-max"
    LEGAL_CAP = "legal-cap"


def _decimal_rate(
    value: Decimal | int | str, field: str, *, low: Decimal, high: Decimal
) -> Decimal:
    if isinstance(value, bool | float):
        raise InvalidInput(field, "rates are Decimal or text (e.g. '0.025'), never a float")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (decimal.InvalidOperation, TypeError):
        raise InvalidInput(field, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise InvalidInput(field, f"{value} is not a finite number")
    if not low <= number <= high:
        raise InvalidInput(field, f"{value} must be between {low} and {high}")
    if number != number.quantize(RATE_QUANTUM, rounding=decimal.ROUND_HALF_UP):
        raise InvalidInput(field, f"{value} has more than six decimal places")
    return number


def _probability(value: float, field: str, *, open_low: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInput(field, f"{value!r} is not a number")
    number = float(value)
    if not math.isfinite(number) or number < 0.0 or number > 1.0 or (open_low and number == 0.0):
        interval = "(0, 1]" if open_low else "[0, 1]"
        raise InvalidInput(field, f"{value} must be in {interval}")
    return number


@dataclass(frozen=True, slots=True)
class PricingPolicy:
    """The institution's pricing parameters (定价参数), annual rates as Decimal fractions.

    Defaults are illustrative for a Chinese small lender: funds at 2.5 %, running costs 2 % of
    the book, shareholders' hurdle 12 % over a 1.5 % risk-free rate, a 0.5 % margin, capital at
    10.5 % of risk-weighted assets.
    """

    funding_rate: Decimal = Decimal("0.025")
    operating_cost_rate: Decimal = Decimal("0.02")
    hurdle_rate: Decimal = Decimal("0.12")
    risk_free_rate: Decimal = Decimal("0.015")
    margin: Decimal = Decimal("0.005")
    capital_method: CapitalMethod = CapitalMethod.IRB
    target_capital_ratio: Decimal = Decimal("0.105")
    risk_weight: Decimal | None = None  # a standardised weight; None = the IRB risk weight
    irb_scaling: float = 1.0
    lpr_1y: Decimal = DEFAULT_LPR_1Y
    legal_cap_multiple: Decimal = DEFAULT_LEGAL_CAP_MULTIPLE
    legal_cap: Decimal | None = None  # an explicit cap; None = multiple × LPR

    def __post_init__(self) -> None:
        one, zero = Decimal(1), Decimal(0)
        for name in ("funding_rate", "operating_cost_rate", "hurdle_rate", "risk_free_rate"):
            _decimal_rate(getattr(self, name), name, low=zero, high=one)
        _decimal_rate(self.margin, "margin", low=-one, high=one)
        _decimal_rate(self.target_capital_ratio, "target_capital_ratio", low=zero, high=one)
        _decimal_rate(self.lpr_1y, "lpr_1y", low=zero, high=one)
        if self.hurdle_rate < self.risk_free_rate:
            raise InvalidInput("hurdle_rate", "must not be below the risk-free rate")
        if self.risk_weight is not None:
            _decimal_rate(self.risk_weight, "risk_weight", low=zero, high=Decimal(15))
        if self.legal_cap is not None:
            _decimal_rate(self.legal_cap, "legal_cap", low=zero, high=one)
        if not isinstance(self.legal_cap_multiple, Decimal) or not (
            self.legal_cap_multiple.is_finite() and self.legal_cap_multiple > 0
        ):
            raise InvalidInput("legal_cap_multiple", "must be a Decimal greater than zero")
        try:
            object.__setattr__(self, "capital_method", CapitalMethod(self.capital_method))
        except ValueError:
            raise InvalidInput(
                "capital_method", f"{self.capital_method!r} is not one of irb, risk-weight"
            ) from None

    @property
    def effective_legal_cap(self) -> Decimal:
        """The legal ceiling on the annual rate: explicit, or multiple × one-year LPR."""
        if self.legal_cap is not None:
            return self.legal_cap
        return _rate(self.legal_cap_multiple * self.lpr_1y)


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """A risk-based price with its breakdown (定价明细); rates are annual Decimal fractions."""

    funding: Decimal
    operating_cost: Decimal
    expected_loss: Decimal
    capital: Decimal  # C, capital per unit of exposure (not a rate component)
    cost_of_capital: Decimal
    margin: Decimal
    risk_based_rate: Decimal  # the sum of the five components, before any bound
    rate: Decimal  # after the product range and the legal cap
    floor: Decimal
    ceiling: Decimal
    bound: PriceBound | None
    raroc: float | None  # None when no capital is held (C = 0)
    hurdle_rate: Decimal
    risk_free_rate: Decimal
    pd: float
    pd_annual: float
    lgd: float
    term_months: int
    capital_method: CapitalMethod
    irb: IrbResult

    @property
    def clamped(self) -> bool:
        return self.bound is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": str(self.rate),
            "risk_based_rate": str(self.risk_based_rate),
            "components": {
                "funding": str(self.funding),
                "operating_cost": str(self.operating_cost),
                "expected_loss": str(self.expected_loss),
                "cost_of_capital": str(self.cost_of_capital),
                "margin": str(self.margin),
            },
            "capital": str(self.capital),
            "capital_method": self.capital_method.value,
            "floor": str(self.floor),
            "ceiling": str(self.ceiling),
            "bound": None if self.bound is None else self.bound.value,
            "raroc": self.raroc,
            "hurdle_rate": str(self.hurdle_rate),
            "risk_free_rate": str(self.risk_free_rate),
            "pd": self.pd,
            "pd_annual": self.pd_annual,
            "lgd": self.lgd,
            "term_months": self.term_months,
            "irb": self.irb.to_dict(),
        }


def annual_pd(pd: float, horizon_months: int) -> float:
    """One-year PD from a PD over ``horizon_months`` at a constant default intensity."""
    if horizon_months == 12 or pd >= 1.0:
        return pd
    return -math.expm1(math.log1p(-pd) * 12.0 / horizon_months)


def check_pd_horizon(pd_horizon_months: int) -> None:
    """Refuse a PD horizon that is not a whole number of months ≥ 1 (违约概率观察期)."""
    if not isinstance(pd_horizon_months, int) or pd_horizon_months < 1:
        raise InvalidInput("pd_horizon_months", f"{pd_horizon_months!r} must be ≥ 1 month")


def rate_bounds(
    policy: PricingPolicy,
    product: LoanProduct | None,
    rate_min: Decimal | None,
    rate_max: Decimal | None,
) -> tuple[Decimal, Decimal, Decimal]:
    """The floor, the product's maximum and the ceiling (product maximum lowered to the legal
    cap) a price is clamped to (产品利率区间与利率上限), checked: a product or a rate range, not
    both; a range whose maximum is below its minimum, or a floor above the legal cap (no lawful
    rate), is refused."""
    if product is not None and (rate_min is not None or rate_max is not None):
        raise InvalidInput("rate_min", "give a product or a rate range, not both")
    one, zero = Decimal(1), Decimal(0)
    if product is not None:
        floor, product_max = product.rate_min, product.rate_max
    else:
        floor = (
            zero if rate_min is None else _decimal_rate(rate_min, "rate_min", low=zero, high=one)
        )
        product_max = (
            one if rate_max is None else _decimal_rate(rate_max, "rate_max", low=zero, high=one)
        )
        if product_max < floor:
            raise InvalidInput("rate_max", f"{product_max} is below rate_min {floor}")
    legal_cap = policy.effective_legal_cap
    ceiling = min(product_max, legal_cap)
    if floor > ceiling:
        raise InvalidInput(
            "rate_min", f"{floor} is above the legal cap {legal_cap}: no lawful rate in the range"
        )
    return floor, product_max, ceiling


def price_loan(
    *,
    pd: float,
    lgd: float,
    term_months: int,
    policy: PricingPolicy | None = None,
    product: LoanProduct | None = None,
    rate_min: Decimal | None = None,
    rate_max: Decimal | None = None,
    asset_class: AssetClass | str = AssetClass.RETAIL,
    sales_million_eur: float | None = None,
    pd_horizon_months: int = 12,
    contract_rate: Decimal | None = None,
) -> PriceQuote:
    """The risk-based annual rate of one loan, with its breakdown, bound and RAROC.

    The floor and ceiling are the product's rate range when ``product`` is given (or
    ``rate_min``/``rate_max``, which may not be combined with it; 0 and 100 % otherwise), the
    ceiling lowered to the legal cap.  A floor above the ceiling means no lawful rate exists
    in the product and is refused.

    ``contract_rate`` prices nothing: it is a rate already chosen (e.g. one flat rate for every
    borrower), and the quote gives its RAROC beside the risk-based rate; it must lie within
    the floor and the ceiling.
    """
    chosen = policy or PricingPolicy()
    pd_value = _probability(pd, "pd", open_low=True)
    lgd_value = _probability(lgd, "lgd", open_low=False)
    if isinstance(term_months, bool) or not isinstance(term_months, int) or term_months < 1:
        raise InvalidInput("term", f"{term_months!r} must be a whole number of months ≥ 1")
    if term_months > 360:
        raise InvalidInput("term", f"{term_months} months is longer than 360")
    check_pd_horizon(pd_horizon_months)
    floor, product_max, ceiling = rate_bounds(chosen, product, rate_min, rate_max)
    one, zero = Decimal(1), Decimal(0)

    pd_year = annual_pd(pd_value, pd_horizon_months) or pd_value  # no underflow to 0
    irb = irb_capital(
        asset_class,
        pd=pd_year,
        lgd=lgd_value,
        maturity=term_months / 12,
        sales_million_eur=sales_million_eur,
        scaling=chosen.irb_scaling,
    )
    if chosen.capital_method is CapitalMethod.IRB:
        capital = _from_float(irb.capital_k)
    else:
        weight = (
            chosen.risk_weight if chosen.risk_weight is not None else Decimal(repr(irb.risk_weight))
        )
        capital = _rate(weight * chosen.target_capital_ratio)

    funding = _rate(chosen.funding_rate)
    operating = _rate(chosen.operating_cost_rate)
    expected_loss = _from_float(pd_year * lgd_value)
    cost_of_capital = _rate(capital * (chosen.hurdle_rate - chosen.risk_free_rate))
    margin = _rate(chosen.margin)
    risk_based = funding + operating + expected_loss + cost_of_capital + margin

    bound: PriceBound | None = None
    rate = risk_based
    if contract_rate is not None:
        rate = _decimal_rate(contract_rate, "contract_rate", low=zero, high=one)
        if not floor <= rate <= ceiling:
            raise InvalidInput(
                "contract_rate", f"{rate} is outside the allowed range {floor}–{ceiling}"
            )
    elif risk_based < floor:
        rate, bound = _rate(floor), PriceBound.PRODUCT_MIN
    elif risk_based > ceiling:
        rate = _rate(ceiling)
        bound = PriceBound.PRODUCT_MAX if ceiling == product_max else PriceBound.LEGAL_CAP

    raroc: float | None = None
    if capital > 0:
        income = rate + capital * chosen.risk_free_rate
        raroc = float((income - funding - operating - expected_loss) / capital)
    return PriceQuote(
        funding=funding,
        operating_cost=operating,
        expected_loss=expected_loss,
        capital=capital,
        cost_of_capital=cost_of_capital,
        margin=margin,
        risk_based_rate=risk_based,
        rate=rate,
        floor=_rate(floor),
        ceiling=_rate(ceiling),
        bound=bound,
        raroc=raroc,
        hurdle_rate=_rate(chosen.hurdle_rate),
        risk_free_rate=_rate(chosen.risk_free_rate),
        pd=pd_value,
        pd_annual=pd_year,
        lgd=lgd_value,
        term_months=term_months,
        capital_method=chosen.capital_method,
        irb=irb,
    )
