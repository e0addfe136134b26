"""Risk-based pricing over arrays of loans (批量风险定价): :func:`price_loan`, vectorised.

A back-test (回测) prices every offer of a million applications; :func:`price_array` computes
the same rate as :func:`xiaowei.decision.pricing.price_loan` for each row, with NumPy:

* every component is an **integer number of parts per million** (1e-6, the rates' precision),
  so the rate is their exact integer sum and the clamps to the product's range and the legal
  cap compare integers, as the Decimal path compares Decimals;
* the float inputs of a component are those of the scalar path — the one-year PD
  (:func:`~xiaowei.decision.pricing.annual_pd`, constant intensity), PD × LGD, the IRB K from
  :func:`~xiaowei.decision.capital.capital_k_array` (same formulas as ``irb_capital``: PD floor,
  correlation, maturity adjustment for corporate exposures with M = term / 12), or a risk weight
  × the target capital ratio — rounded half-up to 1e-6 as ``Decimal(repr(x)).quantize`` does;
* the vectorised normal functions and ``expm1`` may differ from the scalar ones in the last
  bit, which changes a rounded component only when it lies within a hair of a half
  millionth: rows whose scaled component is within 1e-6 of ``k + 0.5`` are re-priced with
  :func:`price_loan` itself. The result equals the Decimal path on every row (tested on
  random rows), not merely to a tolerance.

RAROC is a float, as in :class:`~xiaowei.decision.pricing.PriceQuote`, computed from the exact
integer components (NaN where no capital is held).
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from xiaowei.core.errors import InvalidInput
from xiaowei.decision.capital import AssetClass, capital_k_array
from xiaowei.decision.pricing import (
    RATE_QUANTUM,
    CapitalMethod,
    PriceBound,
    PricingPolicy,
    check_pd_horizon,
    price_loan,
    rate_bounds,
)
from xiaowei.lending.product import LoanProduct

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PPM = 1_000_000
#: Codes of :attr:`PriceArrays.bound`: 0 none, then the :class:`PriceBound` members in order.
BOUND_CODES: tuple[PriceBound | None, ...] = (
    None,
    PriceBound.PRODUCT_MIN,
    PriceBound.PRODUCT_MAX,
    PriceBound.LEGAL_CAP,
)
_TIE = 1e-6  # distance to a half millionth (in millionths) below which a row is re-priced


def ppm(rate: Decimal) -> int:
    """A rate with at most six decimals as integer parts per million (exact)."""
    scaled = rate.quantize(RATE_QUANTUM, rounding=decimal.ROUND_HALF_UP) * PPM
    return int(scaled)


@dataclass(frozen=True)
class PriceArrays:
    """Risk-based prices of n loans: components and rates in integer ppm (1e-6 a year)."""

    funding: int
    operating_cost: int
    expected_loss: IntArray
    capital: IntArray  # C, capital per unit of exposure, ppm
    cost_of_capital: IntArray
    margin: int
    risk_based_rate: IntArray  # the sum of the five components
    rate_ppm: IntArray  # after the product range and the legal cap
    floor: int
    ceiling: int
    bound: npt.NDArray[np.int8]  # index into BOUND_CODES
    raroc: FloatArray  # NaN where C = 0
    pd_annual: FloatArray
    repriced: int  # rows re-priced through price_loan (near a rounding tie)

    @property
    def rate(self) -> FloatArray:
        """The rates as floats (analytics); ``rate_ppm`` is exact."""
        out: FloatArray = self.rate_ppm / float(PPM)
        return out

    def rate_decimal(self, i: int) -> Decimal:
        """Row ``i``'s rate as the Decimal :func:`price_loan` returns."""
        return (Decimal(int(self.rate_ppm[i])) / PPM).quantize(RATE_QUANTUM)

    def bound_of(self, i: int) -> PriceBound | None:
        return BOUND_CODES[int(self.bound[i])]


def _half_up(scaled: FloatArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """round-half-up of non-negative ``scaled`` (a component in millionths) and the rows
    within :data:`_TIE` of a tie, whose float product may round otherwise than the Decimal."""
    rounded: IntArray = np.floor(scaled + 0.5).astype(np.int64)
    fraction = scaled - np.floor(scaled)
    near = np.abs(fraction - 0.5) < _TIE
    return rounded, near


def _annual_pd(pd: FloatArray, horizon_months: int) -> FloatArray:
    """:func:`~xiaowei.decision.pricing.annual_pd` row by row (PD 1 stays 1), never 0."""
    if horizon_months == 12:
        return pd.copy()
    interior = pd < 1.0
    converted = -np.expm1(np.log1p(-np.where(interior, pd, 0.5)) * 12.0 / horizon_months)
    annual = np.where(interior, converted, pd)
    out: FloatArray = np.where(annual == 0.0, pd, annual)  # price_loan's "or pd_value"
    return out


def price_array(
    pd: npt.ArrayLike,
    term_months: npt.ArrayLike,
    *,
    lgd: float,
    policy: PricingPolicy | None = None,
    product: LoanProduct | None = None,
    rate_min: Decimal | None = None,
    rate_max: Decimal | None = None,
    asset_class: AssetClass | str = AssetClass.RETAIL,
    sales_million_eur: npt.ArrayLike | None = None,
    pd_horizon_months: int = 12,
) -> PriceArrays:
    """The risk-based rate of every loan, as :func:`price_loan` gives it row by row.

    ``pd`` and ``term_months`` are arrays of one length (a term may be a scalar);
    ``sales_million_eur`` applies to corporate exposures only. Invalid input raises
    :class:`InvalidInput` naming the field, as the scalar path does.
    """
    chosen = policy or PricingPolicy()
    p = np.asarray(pd, dtype=np.float64).ravel()
    n = p.size
    if not np.all(np.isfinite(p)) or np.any((p <= 0.0) | (p > 1.0)):
        raise InvalidInput("pd", "every PD must be in (0, 1]")
    if isinstance(lgd, bool) or not isinstance(lgd, int | float) or not 0.0 <= lgd <= 1.0:
        raise InvalidInput("lgd", f"{lgd!r} must be in [0, 1]")
    lgd_value = float(lgd)
    raw_terms = np.asarray(term_months)
    if raw_terms.dtype.kind not in "iu":
        raise InvalidInput("term", "terms must be whole numbers of months")
    terms = np.broadcast_to(raw_terms.astype(np.int64), (n,))
    if n and (terms.min() < 1 or terms.max() > 360):
        raise InvalidInput("term", "every term must be 1–360 months")
    check_pd_horizon(pd_horizon_months)
    floor, product_max, ceiling = rate_bounds(chosen, product, rate_min, rate_max)
    klass = AssetClass(asset_class)
    sales: FloatArray | None = None
    if sales_million_eur is not None:
        if klass is not AssetClass.CORPORATE:
            raise InvalidInput(
                "sales_million_eur", "the firm-size adjustment applies to corporate exposures only"
            )
        sales = np.broadcast_to(np.asarray(sales_million_eur, dtype=np.float64), (n,))

    pd_year = _annual_pd(p, pd_horizon_months)
    lgds = np.full(n, lgd_value)
    maturity = terms / 12.0
    k = capital_k_array(klass, pd_year, lgds, maturity=maturity, sales_million_eur=sales)
    near = np.zeros(n, dtype=np.bool_)
    if chosen.capital_method is CapitalMethod.IRB:
        capital, tie = _half_up(k * float(PPM))
        near |= tie
    elif chosen.risk_weight is not None:
        capital = np.full(n, ppm(chosen.risk_weight * chosen.target_capital_ratio), np.int64)
    else:
        weight = k * 12.5 * chosen.irb_scaling
        capital, tie = _half_up(weight * float(chosen.target_capital_ratio) * PPM)
        near |= tie
    expected_loss, tie = _half_up(pd_year * lgd_value * PPM)
    near |= tie

    funding = ppm(chosen.funding_rate)
    operating = ppm(chosen.operating_cost_rate)
    margin = ppm(chosen.margin)
    spread = ppm(chosen.hurdle_rate - chosen.risk_free_rate)  # ≥ 0 (validated)
    # cost of capital = round-half-up(C × spread) in ppm: exact integers (C, spread ≥ 0)
    cost_of_capital = (capital * spread + PPM // 2) // PPM
    risk_based = funding + operating + expected_loss + cost_of_capital + margin

    floor_ppm, ceiling_ppm, product_max_ppm = ppm(floor), ppm(ceiling), ppm(product_max)
    rate = np.clip(risk_based, floor_ppm, ceiling_ppm)
    bound = np.zeros(n, dtype=np.int8)
    bound[risk_based < floor_ppm] = 1
    above = risk_based > ceiling_ppm
    bound[above] = 2 if ceiling_ppm == product_max_ppm else 3

    repriced = np.flatnonzero(near)
    for i in repriced:
        quote = price_loan(
            pd=float(p[i]),
            lgd=lgd_value,
            term_months=int(terms[i]),
            policy=chosen,
            product=product,
            rate_min=rate_min,
            rate_max=rate_max,
            asset_class=klass,
            sales_million_eur=None if sales is None else float(sales[i]),
            pd_horizon_months=pd_horizon_months,
        )
        expected_loss[i] = ppm(quote.expected_loss)
        capital[i] = ppm(quote.capital)
        cost_of_capital[i] = ppm(quote.cost_of_capital)
        risk_based[i] = ppm(quote.risk_based_rate)
        rate[i] = ppm(quote.rate)
        bound[i] = BOUND_CODES.index(quote.bound)

    # RAROC = (rate + C·rf − funding − operating − EL) / C, from exact integers (units 1e-12)
    rf = ppm(chosen.risk_free_rate)
    numerator = (rate - funding - operating - expected_loss) * PPM + capital * rf
    with np.errstate(divide="ignore", invalid="ignore"):
        raroc = np.where(capital > 0, numerator / (capital * float(PPM)), math.nan)
    return PriceArrays(
        funding=funding,
        operating_cost=operating,
        expected_loss=expected_loss,
        capital=capital,
        cost_of_capital=cost_of_capital,
        margin=margin,
        risk_based_rate=risk_based,
        rate_ppm=rate,
        floor=floor_ppm,
        ceiling=ceiling_ppm,
        bound=bound,
        raroc=raroc.astype(np.float64),
        pd_annual=pd_year,
        repriced=int(repriced.size),
    )


__all__ = ["BOUND_CODES", "PPM", "PriceArrays", "ppm", "price_array"]
