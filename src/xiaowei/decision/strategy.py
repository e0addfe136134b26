"""Decision strategy (审批策略): score bands, limits, term and method, pricing parameters.

A :class:`Strategy` is a versioned JSON document (layout ``xiaowei.strategy/1``) that turns the
outputs of the policy rules and the model into an offer:

* **bands** (评分档位): PD bands in increasing order, each with its action — approve 通过,
  refer 转人工, decline 拒绝 — an optional limit cap (档位限额) and an optional longest term;
  a PD belongs to the first band whose ``pd_max`` it does not exceed;
* **action**: decline when the policy declines or the band declines; refer when the policy
  refers (``refer_on_policy_refer``, default true) or the band refers; otherwise approve;
* **limit** (授信额度) = the minimum of the product's maximum amount, the repayment-capacity
  limit (the credit file's maximum affordable loan ``fin_max_affordable_fen`` × a share), a
  multiple of annual revenue (``flow_revenue_12m`` annualised over ``flow_months_12m``, else
  the declared ``fin_annual_sales_fen``) and the band cap — rounded DOWN to a round amount
  (default 1,000 CNY). A component whose input is missing is reported as unavailable and left
  out; when both capacity and revenue are unavailable the loan cannot be sized and the
  decision is referred (``LIMIT_UNSIZED``). The offered amount is the smaller of the request
  and the limit (a counter-offer 降额 when smaller); a limit below the product's minimum amount
  declines (``LIMIT_BELOW_MIN``);
* **term** (期限) = the request, clamped to the product's range and the band's longest term;
  **method** (还款方式) suggestion: interest-only (先息后本) for traders on short terms, whose
  stock turns over before principal is due; equal principal (等额本金) on long terms when the
  installment ratio leaves room (it costs less interest); equal installment (等额本息) otherwise —
  each only when the product offers it;
* **pricing** (定价参数): the :class:`~xiaowei.decision.pricing.PricingPolicy` fields, the LGD
  and the Basel asset class used to price the offer.

The document's canonical JSON has a sha256 (as a policy's): a decision records the strategy it
used by code, version and hash, and a replay refuses a strategy whose hash differs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from xiaowei.core.errors import InvalidInput
from xiaowei.decision.capital import AssetClass
from xiaowei.decision.policy import Outcome, canonical_json, graph_sha256
from xiaowei.decision.pricing import CapitalMethod, PricingPolicy
from xiaowei.lending.product import LoanProduct
from xiaowei.lending.schedule import RepaymentMethod

FORMAT = "xiaowei.strategy/1"
FEN = Decimal("0.01")


class Action(StrEnum):
    """What the decision does with an application (审批结论)."""

    APPROVE = "approve"  # 通过
    REFER = "refer"  # 转人工审查
    DECLINE = "decline"  # 拒绝


_ACTION_ORDER = {Action.APPROVE: 0, Action.REFER: 1, Action.DECLINE: 2}


def worst(*actions: Action) -> Action:
    """The most severe of several actions (decline > refer > approve)."""
    return max(actions, key=_ACTION_ORDER.__getitem__)


@dataclass(frozen=True, slots=True)
class Band:
    """One PD band (评分档位): PD ≤ ``pd_max`` and above the previous band's bound."""

    grade: str
    pd_max: float
    action: Action
    limit_cap: Decimal | None = None
    term_max: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "pd_max": self.pd_max,
            "action": self.action.value,
            "limit_cap": None if self.limit_cap is None else str(self.limit_cap),
            "term_max": self.term_max,
        }


@dataclass(frozen=True, slots=True)
class LimitRule:
    """How the limit is sized (额度测算)."""

    revenue_multiple: Decimal = Decimal("0.25")  # of annual revenue
    capacity_share: Decimal = Decimal("1")  # of the maximum affordable loan
    round_down_to: Decimal = Decimal("1000")  # CNY


@dataclass(frozen=True, slots=True)
class TermRule:
    """How the term and repayment method are suggested (期限与还款方式建议)."""

    default_method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT
    interest_only_industries: tuple[str, ...] = ("trade",)
    interest_only_term_max: int = 12
    equal_principal_term_min: int = 24
    equal_principal_ratio_max: float = 0.4


@dataclass(frozen=True, slots=True)
class Strategy:
    """One version of a decision strategy (审批策略版本)."""

    code: str
    version: int
    product: str
    policy: str
    bands: tuple[Band, ...]
    limit: LimitRule
    term: TermRule
    pricing: PricingPolicy
    lgd: float
    asset_class: AssetClass
    refer_on_policy_refer: bool = True
    name_zh: str = ""
    name_en: str = ""
    document: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    sha256: str = ""

    @property
    def key(self) -> str:
        return f"{self.code}@{self.version}"

    def band_for(self, pd: float) -> Band:
        """The band of a PD (the first whose ``pd_max`` the PD does not exceed)."""
        for band in self.bands:
            if pd <= band.pd_max:
                return band
        return self.bands[-1]  # validation makes the last pd_max 1.0

    def action(self, policy_outcome: Outcome, band: Band) -> Action:
        policy_action = {
            Outcome.PASS: Action.APPROVE,
            Outcome.REFER: Action.REFER if self.refer_on_policy_refer else Action.APPROVE,
            Outcome.DECLINE: Action.DECLINE,
        }[policy_outcome]
        return worst(policy_action, band.action)

    def canonical_json(self) -> str:
        return canonical_json(self.document)


# --------------------------------------------------------------------------- limits and terms
@dataclass(frozen=True, slots=True)
class LimitComponent:
    """One candidate limit (额度项): its name, the amount (None = unavailable) and its basis."""

    name: str
    amount: Decimal | None
    basis: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "amount": None if self.amount is None else str(self.amount),
            "basis": self.basis,
        }


@dataclass(frozen=True, slots=True)
class LimitResult:
    """The limit (授信额度), the component that binds and every component."""

    limit: Decimal | None  # None: the loan cannot be sized (no capacity nor revenue)
    binding: str | None
    components: tuple[LimitComponent, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "limit": None if self.limit is None else str(self.limit),
            "binding": self.binding,
            "components": [c.to_json() for c in self.components],
        }


def _number(features: Mapping[str, Any], name: str) -> float | None:
    value = features.get(name)
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _yuan(fen: float) -> Decimal:
    """Fen (a float feature) as CNY, exact to the fen (features hold whole fen)."""
    return (Decimal(round(fen)) / 100).quantize(FEN)


def annual_revenue(features: Mapping[str, Any]) -> tuple[Decimal | None, str]:
    """Annual revenue (年营业收入) in CNY and where it came from: the statements' 12-month
    revenue annualised over the months they cover, else the declared annual sales."""
    revenue = _number(features, "flow_revenue_12m")
    months = _number(features, "flow_months_12m")
    if revenue is not None and months is not None and months >= 1 and revenue > 0:
        return _yuan(revenue * 12.0 / min(months, 12.0)), "flow_revenue_12m"
    declared = _number(features, "fin_annual_sales_fen")
    if declared is not None and declared > 0:
        return _yuan(declared), "fin_annual_sales_fen"
    return None, "unavailable"


def size_limit(
    strategy: Strategy, product: LoanProduct, band: Band, features: Mapping[str, Any]
) -> LimitResult:
    """The limit: the minimum of the available components, rounded down (see module doc)."""
    rule = strategy.limit
    components = [LimitComponent("product_max", product.amount_max, f"{product.code} maximum")]
    affordable = _number(features, "fin_max_affordable_fen")
    components.append(
        LimitComponent(
            "capacity",
            None
            if affordable is None
            else (_yuan(max(affordable, 0.0)) * rule.capacity_share).quantize(FEN),
            f"fin_max_affordable_fen × {rule.capacity_share}",
        )
    )
    revenue, source = annual_revenue(features)
    components.append(
        LimitComponent(
            "revenue",
            None if revenue is None else (revenue * rule.revenue_multiple).quantize(FEN),
            f"{source} × {rule.revenue_multiple}",
        )
    )
    if band.limit_cap is not None:
        components.append(LimitComponent("band_cap", band.limit_cap, f"band {band.grade} cap"))
    if components[1].amount is None and components[2].amount is None:
        return LimitResult(limit=None, binding=None, components=tuple(components))
    available = [c for c in components if c.amount is not None]
    binding = min(available, key=lambda c: c.amount or Decimal(0))
    assert binding.amount is not None
    step = rule.round_down_to
    limit = ((binding.amount / step).to_integral_value(rounding=ROUND_FLOOR) * step).quantize(FEN)
    return LimitResult(limit=limit, binding=binding.name, components=tuple(components))


@dataclass(frozen=True, slots=True)
class TermSuggestion:
    """Term and repayment method with the reason for each (期限与还款方式建议)."""

    term_months: int
    method: RepaymentMethod
    term_reason: str
    method_reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "term_months": self.term_months,
            "method": self.method.value,
            "term_reason": self.term_reason,
            "method_reason": self.method_reason,
        }


def suggest_term(
    strategy: Strategy,
    product: LoanProduct,
    band: Band,
    requested_term: int,
    features: Mapping[str, Any],
    industry: str | None,
) -> TermSuggestion:
    """The requested term clamped to the product and band, and a method (see module doc)."""
    longest = product.term_max if band.term_max is None else min(product.term_max, band.term_max)
    term = min(max(requested_term, product.term_min), longest)
    if term == requested_term:
        term_reason = "as requested"
    elif term < requested_term:
        term_reason = f"shortened to the {'band' if longest < product.term_max else 'product'} "
        term_reason += f"maximum of {longest} months"
    else:
        term_reason = f"lengthened to the product minimum of {product.term_min} months"
    rule = strategy.term
    ratio = _number(features, "fin_installment_ratio")
    offered = set(product.methods)
    if (
        industry in rule.interest_only_industries
        and term <= rule.interest_only_term_max
        and RepaymentMethod.INTEREST_ONLY in offered
    ):
        method = RepaymentMethod.INTEREST_ONLY
        reason = (
            f"{industry}: stock turns over within the term; principal at maturity "
            f"(term ≤ {rule.interest_only_term_max} months)"
        )
    elif (
        term >= rule.equal_principal_term_min
        and ratio is not None
        and ratio <= rule.equal_principal_ratio_max
        and RepaymentMethod.EQUAL_PRINCIPAL in offered
    ):
        method = RepaymentMethod.EQUAL_PRINCIPAL
        reason = (
            f"long term and installment ratio {ratio:.2f} ≤ {rule.equal_principal_ratio_max}: "
            "equal principal costs less interest"
        )
    elif rule.default_method in offered:
        method, reason = rule.default_method, "default method"
    else:
        method, reason = product.methods[0], "the product's first method"
    return TermSuggestion(term, method, term_reason, reason)


# --------------------------------------------------------------------------- documents
def _decimal(value: Any, name: str, *, positive: bool = True) -> Decimal:
    if isinstance(value, float | bool):
        raise InvalidInput(name, f'write {value!r} as a string, e.g. "0.25" (exact decimal)')
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(name, f"{value!r} is not a number") from None
    if not number.is_finite() or (positive and number <= 0):
        raise InvalidInput(name, f"{value} must be a number greater than zero")
    return number


def _probability(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(name, f"{value!r} is not a number")
    number = float(value)
    if not (math.isfinite(number) and 0.0 < number <= 1.0):
        raise InvalidInput(name, f"{value} must be in (0, 1]")
    return number


def _bands(raw: Any) -> tuple[Band, ...]:
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("bands", "a non-empty list of PD bands is required")
    bands: list[Band] = []
    for i, item in enumerate(raw):
        where = f"bands[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidInput(where, "each band is an object")
        grade = item.get("grade")
        if not isinstance(grade, str) or not grade:
            raise InvalidInput(f"{where}.grade", "a band needs a grade label")
        try:
            action = Action(str(item.get("action")))
        except ValueError:
            raise InvalidInput(
                f"{where}.action", f"{item.get('action')!r} is not approve, refer or decline"
            ) from None
        cap = item.get("limit_cap")
        term_max = item.get("term_max")
        if term_max is not None and (
            isinstance(term_max, bool) or not isinstance(term_max, int) or term_max < 1
        ):
            raise InvalidInput(f"{where}.term_max", "a whole number of months ≥ 1")
        band = Band(
            grade=grade,
            pd_max=_probability(item.get("pd_max"), f"{where}.pd_max"),
            action=action,
            limit_cap=None if cap is None else _decimal(cap, f"{where}.limit_cap"),
            term_max=term_max,
        )
        if bands and band.pd_max <= bands[-1].pd_max:
            raise InvalidInput(f"{where}.pd_max", "bands must have increasing pd_max")
        if band.grade in {b.grade for b in bands}:
            raise InvalidInput(f"{where}.grade", f"grade {band.grade} appears twice")
        bands.append(band)
    if bands[-1].pd_max != 1.0:
        raise InvalidInput("bands", "the last band must reach pd_max 1.0 (every PD has a band)")
    return tuple(bands)


_PRICING_DECIMALS = (
    "funding_rate",
    "operating_cost_rate",
    "hurdle_rate",
    "risk_free_rate",
    "margin",
    "target_capital_ratio",
    "risk_weight",
    "lpr_1y",
    "legal_cap_multiple",
    "legal_cap",
)


def _pricing(raw: Any) -> tuple[PricingPolicy, float, AssetClass]:
    if not isinstance(raw, Mapping):
        raise InvalidInput("pricing", "an object of pricing parameters is required")
    known = {*_PRICING_DECIMALS, "capital_method", "irb_scaling", "lgd", "asset_class"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidInput("pricing", f"unknown parameters {unknown}")
    kwargs: dict[str, Any] = {}
    for name in _PRICING_DECIMALS:
        if raw.get(name) is not None:
            kwargs[name] = _decimal(raw[name], f"pricing.{name}", positive=name == "lpr_1y")
    if "capital_method" in raw:
        try:
            kwargs["capital_method"] = CapitalMethod(raw["capital_method"])
        except ValueError:
            raise InvalidInput("pricing.capital_method", "irb or risk-weight") from None
    if "irb_scaling" in raw:
        kwargs["irb_scaling"] = float(raw["irb_scaling"])
    lgd = raw.get("lgd", 0.45)
    if isinstance(lgd, bool) or not isinstance(lgd, int | float) or not 0.0 <= lgd <= 1.0:
        raise InvalidInput("pricing.lgd", f"{lgd!r} must be in [0, 1]")
    try:
        asset_class = AssetClass(raw.get("asset_class", "retail"))
    except ValueError:
        raise InvalidInput("pricing.asset_class", f"{raw.get('asset_class')!r} unknown") from None
    return PricingPolicy(**kwargs), float(lgd), asset_class


def parse_strategy(document: Any, *, source: str = "strategy") -> Strategy:
    """A strategy from its JSON document, every problem named by its field."""
    if not isinstance(document, Mapping):
        raise InvalidInput(source, "a strategy is a JSON object")
    if document.get("format") != FORMAT:
        raise InvalidInput(f"{source}.format", f"expected {FORMAT!r}")
    code, version, product = (document.get(k) for k in ("code", "version", "product"))
    if not isinstance(code, str) or not code:
        raise InvalidInput("code", "a strategy needs a code")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput("version", "a whole number ≥ 1")
    if not isinstance(product, str) or not product:
        raise InvalidInput("product", "the product code the strategy decides")
    policy = document.get("policy")
    if not isinstance(policy, str) or not policy:
        raise InvalidInput("policy", "the code of the policy the strategy runs")
    limit_raw = document.get("limit", {})
    term_raw = document.get("term", {})
    if not isinstance(limit_raw, Mapping) or not isinstance(term_raw, Mapping):
        raise InvalidInput("limit", "limit and term are objects")
    limit = LimitRule(
        revenue_multiple=_decimal(
            limit_raw.get("revenue_multiple", "0.25"), "limit.revenue_multiple"
        ),
        capacity_share=_decimal(limit_raw.get("capacity_share", "1"), "limit.capacity_share"),
        round_down_to=_decimal(limit_raw.get("round_down_to", "1000"), "limit.round_down_to"),
    )
    try:
        default_method = RepaymentMethod(term_raw.get("default_method", "equal-installment"))
    except ValueError:
        raise InvalidInput("term.default_method", "not a repayment method") from None
    industries = term_raw.get("interest_only_industries", ["trade"])
    if not isinstance(industries, list) or not all(isinstance(x, str) for x in industries):
        raise InvalidInput("term.interest_only_industries", "a list of industry codes")
    term = TermRule(
        default_method=default_method,
        interest_only_industries=tuple(industries),
        interest_only_term_max=int(term_raw.get("interest_only_term_max", 12)),
        equal_principal_term_min=int(term_raw.get("equal_principal_term_min", 24)),
        equal_principal_ratio_max=float(term_raw.get("equal_principal_ratio_max", 0.4)),
    )
    pricing, lgd, asset_class = _pricing(document.get("pricing", {}))
    refer = document.get("refer_on_policy_refer", True)
    if not isinstance(refer, bool):
        raise InvalidInput("refer_on_policy_refer", "true or false")
    plain = json.loads(json.dumps(document))
    return Strategy(
        code=code,
        version=version,
        product=product,
        policy=policy,
        bands=_bands(document.get("bands")),
        limit=limit,
        term=term,
        pricing=pricing,
        lgd=lgd,
        asset_class=asset_class,
        refer_on_policy_refer=refer,
        name_zh=str(document.get("name_zh", "")),
        name_en=str(document.get("name_en", "")),
        document=plain,
        sha256=graph_sha256(plain),
    )


def load_strategy_text(text: str, *, source: str = "strategy") -> Strategy:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(source, f"not JSON: {exc.msg} at line {exc.lineno}") from None
    return parse_strategy(document, source=source)


def load_strategy_file(path: Path) -> Strategy:
    if not path.is_file():
        raise InvalidInput("strategy", f"{path} is not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("strategy", f"{path} is not UTF-8 text") from None
    return load_strategy_text(text, source=path.name)


def shipped_strategy_path(name: str = "sme-op-standard.json") -> Path:
    """A strategy shipped with the package (``decision/strategies/``)."""
    return Path(str(resources.files("xiaowei.decision").joinpath("strategies", name)))


__all__ = [
    "FORMAT",
    "Action",
    "Band",
    "LimitComponent",
    "LimitResult",
    "LimitRule",
    "Strategy",
    "TermRule",
    "TermSuggestion",
    "annual_revenue",
    "load_strategy_file",
    "load_strategy_text",
    "parse_strategy",
    "shipped_strategy_path",
    "size_limit",
    "suggest_term",
    "worst",
]
