"""Regulatory capital (监管资本): the Basel IRB risk-weight functions (内部评级法风险权重函数).

Source: BCBS, *International Convergence of Capital Measurement and Capital Standards, a Revised
Framework — Comprehensive Version* (June 2006, "Basel II"):

* §272 corporate exposures (公司风险暴露): asset correlation R falling from 0.24 to 0.12 with PD,
  maturity adjustment b = (0.11852 − 0.05478 ln PD)², and
  K = [LGD·N((1 − R)^−½·G(PD) + (R / (1 − R))^½·G(0.999)) − PD·LGD]
      · (1 + (M − 2.5)·b) / (1 − 1.5·b).
* §273 the firm-size adjustment for SMEs (中小企业规模调整): R − 0.04·(1 − (S − 5) / 45), with
  annual sales S in EUR million; S below 5 is treated as 5, and at S = 50 the adjustment is nil.
* §328 residential mortgages (R = 0.15), §329 qualifying revolving retail (R = 0.04) and §330
  other retail (其他零售, R falling from 0.16 to 0.03 with PD); retail has no maturity adjustment
  (§327).  (Some summaries number "other retail" §328; in the 2006 text it is §330.)
* RWA = K × 12.5 × EAD; Basel II multiplies by a scaling factor of 1.06 (§44), which Basel III
  (CRE31) removed, so the default here is 1.0 and 1.06 is a parameter.

Conventions of this module:

* PD is floored at 0.03 % (§285 corporate, §331 retail) before anything is computed; the
  result keeps both the PD given and the PD used.
* PD = 1 is a defaulted exposure (违约风险暴露): K = max(0, LGD − best-estimate EL) (§272 and
  §328–330, the note on defaulted exposures).  Without a best estimate, EL is taken as LGD, so
  K = 0: the expected loss (covered by provisions) is the whole loss.  The formula tends to the
  same K = 0 as PD → 1, so K is continuous at 1.
* Effective maturity M (有效期限) is *clamped* to [1, 5] years as §320 prescribes ("the greater of
  one year and the remaining effective maturity … no greater than 5 years"); M ≤ 0 is refused.
* Sales are clamped to [5, 50] EUR million; sales of None means "no firm-size adjustment".
* RW and K are floats (fractions: a risk weight of 0.7459 is 74.59 %); EAD and RWA are Decimal
  rounded to the fen (half-up).  N and G are :class:`statistics.NormalDist` (exact to ~1e-15).

:func:`capital_k_array` computes the same K for NumPy arrays (SciPy ``ndtr``/``ndtri``), for the
portfolio layer.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

from xiaowei.core.errors import InvalidInput
from xiaowei.core.money import parse_amount, to_fen

PD_FLOOR = 0.0003  # §285 (corporate, bank) and §331 (retail): 0.03 %
BASEL_II_SCALING = 1.06  # §44; removed by Basel III
CONFIDENCE = 0.999  # the 99.9 % one-year confidence level of the ASRF model
MATURITY_MIN, MATURITY_MAX = 1.0, 5.0  # §320
SALES_MIN, SALES_MAX = 5.0, 50.0  # §273, EUR million
DEFAULT_MATURITY = 2.5  # the maturity of the Annex 5 illustrations and of F-IRB (§318)

_NORMAL = NormalDist()
_G_CONFIDENCE = _NORMAL.inv_cdf(CONFIDENCE)


class AssetClass(StrEnum):
    """Basel IRB asset class (资产类别) that chooses the risk-weight function."""

    CORPORATE = "corporate"  # §272–273 公司（含中小企业）
    RETAIL = "retail"  # §330 其他零售
    MORTGAGE = "mortgage"  # §328 个人住房抵押
    QRRE = "qrre"  # §329 合格循环零售

    @property
    def paragraph(self) -> str:
        return {
            AssetClass.CORPORATE: "§272",
            AssetClass.RETAIL: "§330",
            AssetClass.MORTGAGE: "§328",
            AssetClass.QRRE: "§329",
        }[self]


@dataclass(frozen=True, slots=True)
class IrbResult:
    """The IRB capital of one exposure (单笔风险暴露的监管资本).

    ``risk_weight`` and ``capital_k`` are fractions of EAD; ``rwa`` is EAD × risk weight, to the
    fen, when an EAD was given.
    """

    asset_class: AssetClass
    pd_input: float
    pd: float  # after the 0.03 % floor
    lgd: float
    correlation: float  # R, 资产相关性
    maturity: float | None  # effective M used (corporate only), after the §320 clamp
    maturity_adjustment: float | None  # b, 期限调整因子 (corporate only)
    sales_million_eur: float | None  # S used (corporate SME only), after the [5, 50] clamp
    capital_k: float  # K, 资本要求
    scaling: float
    risk_weight: float  # K × 12.5 × scaling, 风险权重
    ead: Decimal | None
    rwa: Decimal | None  # 风险加权资产
    defaulted: bool

    @property
    def expected_loss_rate(self) -> float:
        """EL as a fraction of EAD (预期损失率): PD × LGD, on the floored PD."""
        return self.pd * self.lgd

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset_class": self.asset_class.value,
            "paragraph": self.asset_class.paragraph,
            "pd_input": self.pd_input,
            "pd": self.pd,
            "lgd": self.lgd,
            "correlation": self.correlation,
            "maturity": self.maturity,
            "maturity_adjustment": self.maturity_adjustment,
            "sales_million_eur": self.sales_million_eur,
            "capital_k": self.capital_k,
            "scaling": self.scaling,
            "risk_weight": self.risk_weight,
            "expected_loss_rate": self.expected_loss_rate,
            "defaulted": self.defaulted,
            "ead": None if self.ead is None else str(self.ead),
            "rwa": None if self.rwa is None else str(self.rwa),
        }


# --------------------------------------------------------------------------- validation
def _finite(value: float, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInput(field, f"{value!r} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(field, f"{value} is not a finite number")
    return number


def _check_pd(pd: float) -> float:
    value = _finite(pd, "pd")
    if not 0.0 < value <= 1.0:
        raise InvalidInput("pd", f"{pd} must be in (0, 1] (a probability; 1 = defaulted)")
    return value


def _check_lgd(lgd: float) -> float:
    value = _finite(lgd, "lgd")
    if not 0.0 <= value <= 1.0:
        raise InvalidInput("lgd", f"{lgd} must be in [0, 1]")
    return value


def _check_scaling(scaling: float) -> float:
    value = _finite(scaling, "scaling")
    if value <= 0.0:
        raise InvalidInput("scaling", f"{scaling} must be greater than zero (1.0, or 1.06)")
    return value


def _check_lgd_like(value: float) -> float:
    number = _finite(value, "best_estimate_el")
    if not 0.0 <= number <= 1.0:
        raise InvalidInput("best_estimate_el", f"{value} must be in [0, 1]")
    return number


def effective_maturity(maturity: float) -> float:
    """M clamped to [1, 5] years (§320); refuses M ≤ 0."""
    value = _finite(maturity, "maturity")
    if value <= 0.0:
        raise InvalidInput("maturity", f"{maturity} must be greater than zero (years)")
    return min(max(value, MATURITY_MIN), MATURITY_MAX)


def effective_sales(sales_million_eur: float) -> float:
    """Annual sales in EUR million clamped to [5, 50] (§273); refuses sales ≤ 0."""
    value = _finite(sales_million_eur, "sales_million_eur")
    if value <= 0.0:
        raise InvalidInput("sales_million_eur", f"{sales_million_eur} must be greater than zero")
    return min(max(value, SALES_MIN), SALES_MAX)


def _ead(ead: Decimal | int | str | None) -> Decimal | None:
    if ead is None:
        return None
    if isinstance(ead, float):
        raise InvalidInput("ead", "is money: pass a Decimal, int or str, never a float")
    return parse_amount(ead, field="ead", positive=False)


# --------------------------------------------------------------------------- formulas
def _weight(pd: float, k: float) -> float:
    """(1 − e^(−k·PD)) / (1 − e^(−k)): the interpolation weight of the correlation formulas."""
    return -math.expm1(-k * pd) / -math.expm1(-k)


def corporate_correlation(pd: float, sales_million_eur: float | None = None) -> float:
    """R of §272, less the §273 firm-size adjustment when sales are given (clamped to 5–50)."""
    w = _weight(pd, 50.0)
    r = 0.12 * w + 0.24 * (1.0 - w)
    if sales_million_eur is not None:
        r -= 0.04 * (1.0 - (sales_million_eur - SALES_MIN) / 45.0)
    return r


def maturity_adjustment(pd: float) -> float:
    """b = (0.11852 − 0.05478 × ln PD)² (§272)."""
    return (0.11852 - 0.05478 * math.log(pd)) ** 2


def retail_correlation(asset_class: AssetClass, pd: float) -> float:
    """R of the retail functions: 0.15 (§328), 0.04 (§329), 0.03–0.16 by PD (§330)."""
    if asset_class is AssetClass.MORTGAGE:
        return 0.15
    if asset_class is AssetClass.QRRE:
        return 0.04
    if asset_class is AssetClass.RETAIL:
        w = _weight(pd, 35.0)
        return 0.03 * w + 0.16 * (1.0 - w)
    raise ValueError(f"{asset_class} is not a retail class")


def _unexpected_loss(pd: float, lgd: float, correlation: float) -> float:
    """LGD × (conditional PD at 99.9 % − PD): K before any maturity adjustment."""
    conditional = _NORMAL.cdf(
        (_NORMAL.inv_cdf(pd) + math.sqrt(correlation) * _G_CONFIDENCE)
        / math.sqrt(1.0 - correlation)
    )
    return max(0.0, lgd * (conditional - pd))


def irb_capital(
    asset_class: AssetClass | str,
    *,
    pd: float,
    lgd: float,
    maturity: float = DEFAULT_MATURITY,
    sales_million_eur: float | None = None,
    scaling: float = 1.0,
    ead: Decimal | int | str | None = None,
    best_estimate_el: float | None = None,
) -> IrbResult:
    """The IRB capital requirement K, risk weight and RWA of one exposure.

    ``maturity`` and ``sales_million_eur`` apply to corporate exposures only (retail functions
    have no maturity adjustment, §327) and are refused for retail when sales are given.
    ``best_estimate_el`` (EL_BE, §471) is used for a defaulted exposure (PD = 1) only.
    """
    try:
        chosen = AssetClass(asset_class)
    except ValueError:
        allowed = ", ".join(a.value for a in AssetClass)
        raise InvalidInput("asset_class", f"{asset_class!r} is not one of {allowed}") from None
    pd_input = _check_pd(pd)
    lgd_value = _check_lgd(lgd)
    scale = _check_scaling(scaling)
    ead_value = _ead(ead)
    pd_used = max(pd_input, PD_FLOOR)
    defaulted = pd_used >= 1.0

    m_used: float | None = None
    b: float | None = None
    s_used: float | None = None
    if chosen is AssetClass.CORPORATE:
        m_used = effective_maturity(maturity)
        s_used = None if sales_million_eur is None else effective_sales(sales_million_eur)
        correlation = corporate_correlation(pd_used, s_used)
        b = maturity_adjustment(pd_used)
    else:
        if sales_million_eur is not None:
            raise InvalidInput(
                "sales_million_eur", "the firm-size adjustment applies to corporate exposures only"
            )
        correlation = retail_correlation(chosen, pd_used)

    if defaulted:
        el_be = lgd_value if best_estimate_el is None else _check_lgd_like(best_estimate_el)
        k = max(0.0, lgd_value - el_be)
    else:
        k = _unexpected_loss(pd_used, lgd_value, correlation)
        if b is not None and m_used is not None:
            k *= (1.0 + (m_used - 2.5) * b) / (1.0 - 1.5 * b)
    risk_weight = k * 12.5 * scale
    rwa = None if ead_value is None else to_fen(Decimal(repr(risk_weight)) * ead_value)
    return IrbResult(
        asset_class=chosen,
        pd_input=pd_input,
        pd=pd_used,
        lgd=lgd_value,
        correlation=correlation,
        maturity=m_used,
        maturity_adjustment=b,
        sales_million_eur=s_used,
        capital_k=k,
        scaling=scale,
        risk_weight=risk_weight,
        ead=ead_value,
        rwa=rwa,
        defaulted=defaulted,
    )


def corporate_capital(
    *,
    pd: float,
    lgd: float,
    maturity: float = DEFAULT_MATURITY,
    sales_million_eur: float | None = None,
    scaling: float = 1.0,
    ead: Decimal | int | str | None = None,
) -> IrbResult:
    """§272–273: a corporate (or SME, with sales) exposure."""
    return irb_capital(
        AssetClass.CORPORATE,
        pd=pd,
        lgd=lgd,
        maturity=maturity,
        sales_million_eur=sales_million_eur,
        scaling=scaling,
        ead=ead,
    )


def retail_capital(
    *,
    pd: float,
    lgd: float,
    scaling: float = 1.0,
    ead: Decimal | int | str | None = None,
) -> IrbResult:
    """§330: an other-retail exposure (an SME loan of up to EUR 1 m managed as retail, §231)."""
    return irb_capital(AssetClass.RETAIL, pd=pd, lgd=lgd, scaling=scaling, ead=ead)


# --------------------------------------------------------------------------- vectorised
def capital_k_array(
    asset_class: AssetClass | str,
    pd: npt.ArrayLike,
    lgd: npt.ArrayLike,
    *,
    maturity: npt.ArrayLike = DEFAULT_MATURITY,
    sales_million_eur: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """K for arrays of exposures (the portfolio layer): same rules as :func:`irb_capital`.

    PD is floored at 0.03 %, PD = 1 gives K = 0 (EL_BE = LGD), M and S are clamped; inputs out
    of range raise :class:`InvalidInput` naming the field.
    """
    chosen = AssetClass(asset_class)
    p = np.asarray(pd, dtype=np.float64)
    g = np.asarray(lgd, dtype=np.float64)
    if not np.all(np.isfinite(p)) or np.any((p <= 0.0) | (p > 1.0)):
        raise InvalidInput("pd", "every PD must be in (0, 1]")
    if not np.all(np.isfinite(g)) or np.any((g < 0.0) | (g > 1.0)):
        raise InvalidInput("lgd", "every LGD must be in [0, 1]")
    p = np.maximum(p, PD_FLOOR)
    defaulted = p >= 1.0
    p_safe = np.where(defaulted, 0.5, p)  # any interior value; masked out below
    b: npt.NDArray[np.float64] | None = None
    if chosen is AssetClass.CORPORATE:
        w = -np.expm1(-50.0 * p_safe) / -math.expm1(-50.0)
        r = 0.12 * w + 0.24 * (1.0 - w)
        if sales_million_eur is not None:
            s = np.asarray(sales_million_eur, dtype=np.float64)
            if not np.all(np.isfinite(s)) or np.any(s <= 0.0):
                raise InvalidInput("sales_million_eur", "every sales figure must be > 0")
            s = np.clip(s, SALES_MIN, SALES_MAX)
            r = r - 0.04 * (1.0 - (s - SALES_MIN) / 45.0)
        b = (0.11852 - 0.05478 * np.log(p_safe)) ** 2
    elif chosen is AssetClass.RETAIL:
        w = -np.expm1(-35.0 * p_safe) / -math.expm1(-35.0)
        r = 0.03 * w + 0.16 * (1.0 - w)
    else:
        r = np.full_like(p_safe, retail_correlation(chosen, 0.01))
    conditional = ndtr((ndtri(p_safe) + np.sqrt(r) * _G_CONFIDENCE) / np.sqrt(1.0 - r))
    k = np.maximum(0.0, g * (conditional - p_safe))
    if b is not None:
        m = np.asarray(maturity, dtype=np.float64)
        if not np.all(np.isfinite(m)) or np.any(m <= 0.0):
            raise InvalidInput("maturity", "every maturity must be > 0 (years)")
        m = np.clip(m, MATURITY_MIN, MATURITY_MAX)
        k = k * (1.0 + (m - 2.5) * b) / (1.0 - 1.5 * b)
    result: npt.NDArray[np.float64] = np.where(defaulted, 0.0, k)
    return result
