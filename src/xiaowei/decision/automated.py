"""The automated decision (大数据风控自动审批): policy, model, strategy, limit and price at once.

:func:`decide` takes one :class:`Application` — the credit file's features and the application's
own fields — and runs, in order:

1. the **policy rules** (准入/拒绝规则, a JDM graph on zen-engine) → pass / refer / decline with
   every rule hit and the values that triggered it;
2. the **model** (评分模型) → printed score, calibrated PD, master-scale grade and the top reason
   codes (评分原因) with their texts in zh-CN and en;
3. the **strategy** (审批策略) → PD band and action (approve 通过 / refer 转人工 / decline 拒绝);
4. the **limit** (授信额度, the smallest of product maximum, repayment capacity, revenue multiple
   and band cap), the offered amount (a counter-offer 降额 when below the request), the **term**
   and **repayment method** suggestion;
5. the **risk-based price** (风险定价) with its breakdown and RAROC, and a **schedule preview**
   (还款计划预览) of the offer.

The result is a :class:`DecisionRecord`: everything above plus the exact versions used (policy
code, version and sha256; model name, version and manifest sha256; strategy code, version and
sha256; product code and version; the library versions that compute it) and the time each stage
took. Everything but the timing is deterministic: its canonical JSON has a sha256
(``result_sha256``), and replaying the stored application through the same versions must give
the same hash (:func:`replay_matches`), bit for bit.

Champion/challenger (冠军/挑战者): :class:`Experiment` splits traffic deterministically by a hash
of the application id (sha256 of ``salt:application_id``; the same id always lands in the same
arm, whatever the order or the machine); every arm's strategy is evaluated and recorded, only
the assigned arm's decision is acted on.

Pure: the caller loads the policy, the model and the product and stores the record
(``services/decisions.py``).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import metadata
from types import MappingProxyType
from typing import Any

from xiaowei.analysis.feature_labels import reason_text
from xiaowei.core.errors import InvalidInput
from xiaowei.decision.policy import (
    APPLICATION_FIELDS,
    Policy,
    PolicyEngine,
    PolicyResult,
    canonical_json,
)
from xiaowei.decision.pricing import PriceQuote, price_loan
from xiaowei.decision.strategy import (
    Action,
    LimitResult,
    Strategy,
    TermSuggestion,
    size_limit,
    suggest_term,
    worst,
)
from xiaowei.lending.product import LoanProduct
from xiaowei.lending.schedule import ScheduleTerms, generate_schedule
from xiaowei.scoring.realtime import RealtimeScorer, RowScore

APPLICATION_FORMAT = "xiaowei.application/1"
RECORD_FORMAT = "xiaowei.decision/1"
FEN = Decimal("0.01")
#: Columns of a feature table that are not features of the applicant: identifiers, dates and
#: outcomes observed after the decision (never an input).
NON_FEATURES = ("business_id", "application_id", "application_date", "customer_id")
OUTCOME_PREFIXES = ("default_", "bad_", "target")
#: Application fields a feature table carries as columns (申请信息).
TABLE_FIELDS = ("industry", "region", "legal_form", "requested_amount_fen", "requested_term")


def _versions() -> dict[str, str]:
    out = {}
    for name in ("xiaowei", "zen-engine"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - always installed
            out[name] = "unknown"
    return out


_LIBRARIES = _versions()


# --------------------------------------------------------------------------- the application
def _plain_feature(name: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    try:  # NumPy scalars
        return _plain_feature(name, value.item())
    except AttributeError:
        raise InvalidInput(f"features.{name}", f"{value!r} is not a number or text") from None


@dataclass(frozen=True)
class Application:
    """One loan application as the decision reads it (授信申请).

    ``fields`` are the application's own fields a policy may test (industry, region,
    blacklist_hit, equity_check …; see :data:`~xiaowei.decision.policy.APPLICATION_FIELDS`);
    ``features`` the credit file's features (信贷档案特征).
    """

    application_id: str
    product: str
    as_of: date
    requested_amount: Decimal
    requested_term: int
    fields: dict[str, Any]
    features: dict[str, Any]
    sha256: str = field(init=False, default="")

    def __post_init__(self) -> None:
        if not isinstance(self.application_id, str) or not self.application_id.strip():
            raise InvalidInput("application_id", "an application needs an id")
        if len(self.application_id) > 64:
            raise InvalidInput("application_id", "at most 64 characters")
        amount = self.requested_amount
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
            raise InvalidInput("requested_amount", f"{amount} must be a positive amount")
        if amount != amount.quantize(FEN):
            raise InvalidInput("requested_amount", f"{amount} has fractions of a fen")
        term = self.requested_term
        if isinstance(term, bool) or not isinstance(term, int) or not 1 <= term <= 360:
            raise InvalidInput("requested_term", f"{term!r} must be 1–360 months")
        for name in self.fields:
            if name not in APPLICATION_FIELDS:
                raise InvalidInput(f"fields.{name}", "is not an application field a policy knows")
        object.__setattr__(self, "requested_amount", amount.quantize(FEN))
        object.__setattr__(
            self, "features", {k: _plain_feature(k, v) for k, v in self.features.items()}
        )
        object.__setattr__(
            self, "sha256", hashlib.sha256(canonical_json(self.to_json()).encode()).hexdigest()
        )
        context = dict(self.features)
        context["requested_amount_fen"] = int(self.requested_amount * 100)
        context["requested_term"] = self.requested_term
        context.update(self.fields)
        object.__setattr__(self, "_context", MappingProxyType(context))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": APPLICATION_FORMAT,
            "application_id": self.application_id,
            "product": self.product,
            "as_of": self.as_of.isoformat(),
            "requested_amount": str(self.requested_amount),
            "requested_term": self.requested_term,
            "fields": self.fields,
            "features": self.features,
        }

    def context(self) -> Mapping[str, Any]:
        """What the policy and the model read (read-only, built once): the features, the
        requested amount in fen and term, then the application's fields."""
        context: Mapping[str, Any] = getattr(self, "_context")  # noqa: B009 - set in __post_init__
        return context


def parse_application(document: Any, *, source: str = "application") -> Application:
    """An application from its JSON document (layout ``xiaowei.application/1``)."""
    if not isinstance(document, Mapping):
        raise InvalidInput(source, "an application is a JSON object")
    if document.get("format") != APPLICATION_FORMAT:
        raise InvalidInput(f"{source}.format", f"expected {APPLICATION_FORMAT!r}")
    try:
        as_of = date.fromisoformat(str(document.get("as_of")))
    except ValueError:
        raise InvalidInput("as_of", f"{document.get('as_of')!r} is not a date") from None
    raw_amount = document.get("requested_amount")
    if isinstance(raw_amount, float | bool):
        raise InvalidInput("requested_amount", 'write the amount as a string, e.g. "300000.00"')
    try:
        amount = Decimal(str(raw_amount))
    except InvalidOperation:
        raise InvalidInput("requested_amount", f"{raw_amount!r} is not an amount") from None
    fields = document.get("fields", {})
    features = document.get("features")
    if not isinstance(fields, Mapping):
        raise InvalidInput("fields", "an object of application fields")
    if not isinstance(features, Mapping):
        raise InvalidInput("features", "an object of the credit file's features")
    product = document.get("product")
    if not isinstance(product, str) or not product:
        raise InvalidInput("product", "the product code applied for")
    return Application(
        application_id=str(document.get("application_id", "")),
        product=product,
        as_of=as_of,
        requested_amount=amount,
        requested_term=document.get("requested_term"),  # type: ignore[arg-type]
        fields=dict(fields),
        features=dict(features),
    )


def application_from_row(
    row: Mapping[str, Any],
    *,
    product: str,
    application_id: str | None = None,
    fields: Mapping[str, Any] | None = None,
) -> Application:
    """An application from a feature-table row (``xiaowei analyse features``): identifiers and
    outcome columns are dropped, the application columns become its fields."""
    business = row.get("business_id")
    if application_id is None:
        if business is None:
            raise InvalidInput("application_id", "the row has no business_id to name it by")
        application_id = f"APP-{int(business):06d}"
    amount_fen = row.get("requested_amount_fen")
    term = row.get("requested_term")
    if amount_fen is None or term is None:
        raise InvalidInput("row", "requested_amount_fen and requested_term are required")
    applied = row.get("application_date")
    as_of = applied if isinstance(applied, date) else date.fromisoformat(str(applied))
    features = {
        k: v
        for k, v in row.items()
        if k not in NON_FEATURES and k not in TABLE_FIELDS and not k.startswith(OUTCOME_PREFIXES)
    }
    own = {k: row[k] for k in ("industry", "region", "legal_form") if row.get(k) is not None}
    return Application(
        application_id=application_id,
        product=product,
        as_of=as_of,
        requested_amount=(Decimal(int(amount_fen)) / 100).quantize(FEN),
        requested_term=int(term),
        fields={**own, **(fields or {})},
        features=features,
    )


# --------------------------------------------------------------------------- the record
@dataclass(frozen=True)
class DecisionRecord:
    """The decision on one application under one strategy (审批决策记录)."""

    application_id: str
    application_sha256: str
    action: Action
    reasons: tuple[dict[str, Any], ...]
    policy: PolicyResult
    score: RowScore
    band: dict[str, Any]
    limit: LimitResult
    term: TermSuggestion
    amount: Decimal | None
    counter_offer: bool
    price: PriceQuote | None
    schedule: dict[str, Any] | None
    versions: dict[str, Any]
    timing_us: dict[str, float]
    result: dict[str, Any] = field(default_factory=dict, repr=False)
    result_sha256: str = ""

    @property
    def rate(self) -> Decimal | None:
        return None if self.price is None else self.price.rate

    def to_json(self) -> dict[str, Any]:
        """The record as stored: the deterministic result, its hash and the timing."""
        return {**self.result, "result_sha256": self.result_sha256, "timing_us": self.timing_us}


def _reason(code: str, source: str, zh: str, en: str, **values: Any) -> dict[str, Any]:
    return {"code": code, "source": source, "reason_zh": zh, "reason_en": en, "values": values}


@lru_cache(maxsize=65_536)
def _reason_texts(feature: str, label: str, best_label: str | None) -> tuple[str, str]:
    """The zh-CN and en sentences of a reason code (cached: a card has a few thousand bins)."""
    return (
        reason_text(feature, label, "zh-CN", best_label=best_label),
        reason_text(feature, label, "en", best_label=best_label),
    )


def _model_reasons(score: RowScore) -> list[dict[str, Any]]:
    out = []
    for r in score.reasons:
        zh, en = _reason_texts(r.feature, r.label, r.best_label)
        out.append({**r.to_json(), "text_zh": zh, "text_en": en})
    return out


def _schedule_preview(
    amount: Decimal, rate: Decimal, term: TermSuggestion, product: LoanProduct, start: date
) -> dict[str, Any]:
    schedule = generate_schedule(
        ScheduleTerms(
            principal=amount,
            annual_rate=rate,
            term_months=term.term_months,
            start_date=start,
            method=term.method,
            repayment_day=product.repayment_day,
            rounding=product.rounding,
            day_count=product.day_count,
            interest_basis=product.interest_basis,
        )
    )
    rows = schedule.installments
    return {
        "installments": len(rows),
        "first_due": rows[0].due_date.isoformat(),
        "first_payment": str(rows[0].total),
        "largest_payment": str(max(r.total for r in rows)),
        "maturity": rows[-1].due_date.isoformat(),
        "total_interest": str(schedule.total_interest),
        "apr": round(schedule.apr, 6),
        "first_rows": [
            {
                "number": r.number,
                "due_date": r.due_date.isoformat(),
                "principal": str(r.principal),
                "interest": str(r.interest),
                "total": str(r.total),
            }
            for r in rows[:3]
        ],
    }


def decide(
    application: Application,
    *,
    strategy: Strategy,
    policy: Policy,
    product: LoanProduct,
    scorer: RealtimeScorer,
    engine: PolicyEngine,
) -> DecisionRecord:
    """Decide one application (see the module docstring); the record is not stored here."""
    if strategy.product != product.code or application.product != product.code:
        raise InvalidInput(
            "product",
            f"application for {application.product}, strategy for {strategy.product}, "
            f"product {product.code}: they must agree",
        )
    if strategy.policy != policy.code:
        raise InvalidInput(
            "policy", f"strategy {strategy.key} runs policy {strategy.policy}, not {policy.code}"
        )
    clock = time.perf_counter
    t0 = clock()
    context = application.context()
    policy_result = engine.evaluate(policy, context)
    t1 = clock()
    # the model reads the application's own columns too (industry, requested amount …), as it
    # did in the feature table it was fitted on
    score = scorer.score(context)
    t2 = clock()
    band = strategy.band_for(score.pd)
    action = strategy.action(policy_result.outcome, band)
    reasons = [
        _reason(h.code, "policy", h.reason_zh, h.reason_en, **h.values) for h in policy_result.hits
    ]
    if band.action is not Action.APPROVE:
        reasons.append(
            _reason(
                f"BAND_{band.grade}",
                "band",
                f"违约概率 {score.pd:.2%} 落入 {band.grade} 档（{band.action.value}）",
                f"PD {score.pd:.2%} falls in band {band.grade} ({band.action.value})",
                pd=score.pd,
                pd_max=band.pd_max,
            )
        )
    limit = size_limit(strategy, product, band, application.features)
    term = suggest_term(
        strategy,
        product,
        band,
        application.requested_term,
        application.features,
        application.fields.get("industry"),
    )
    requested = application.requested_amount
    amount: Decimal | None = None
    if requested < product.amount_min:
        action = Action.DECLINE
        reasons.append(
            _reason(
                "REQUEST_BELOW_MIN",
                "limit",
                f"申请金额 {requested:,.2f} 元低于产品最低额度 {product.amount_min:,.2f} 元",
                f"the request of CNY {requested:,.2f} is below the product minimum "
                f"{product.amount_min:,.2f}",
                requested=str(requested),
            )
        )
    elif limit.limit is None:
        action = worst(action, Action.REFER)
        reasons.append(
            _reason(
                "LIMIT_UNSIZED",
                "limit",
                "无还款能力与营业收入数据，无法测算额度",
                "neither repayment capacity nor revenue is known: the limit cannot be sized",
            )
        )
    elif limit.limit < product.amount_min:
        action = Action.DECLINE
        reasons.append(
            _reason(
                "LIMIT_BELOW_MIN",
                "limit",
                f"测算额度 {limit.limit:,.2f} 元低于产品最低额度 {product.amount_min:,.2f} 元",
                f"the limit of CNY {limit.limit:,.2f} is below the product minimum "
                f"{product.amount_min:,.2f} ({limit.binding})",
                limit=str(limit.limit),
                binding=limit.binding,
            )
        )
    else:
        amount = min(requested, limit.limit)
    t3 = clock()
    price: PriceQuote | None = None
    schedule: dict[str, Any] | None = None
    if action is not Action.DECLINE and amount is not None:
        price = price_loan(
            pd=max(score.pd, 1e-9),
            lgd=strategy.lgd,
            term_months=term.term_months,
            policy=strategy.pricing,
            product=product,
            asset_class=strategy.asset_class,
        )
    t4 = clock()
    if price is not None and amount is not None:
        schedule = _schedule_preview(amount, price.rate, term, product, application.as_of)
    else:
        amount = None
    t5 = clock()
    counter = amount is not None and amount < requested
    versions = {
        "strategy": {"code": strategy.code, "version": strategy.version, "sha256": strategy.sha256},
        "policy": {
            "code": policy.code,
            "version": policy.version,
            "sha256": policy.sha256,
        },
        "model": dict(scorer.identity),
        "product": {"code": product.code, "version": product.version},
        "libraries": _LIBRARIES,
    }
    result = {
        "format": RECORD_FORMAT,
        "application_id": application.application_id,
        "application_sha256": application.sha256,
        "action": action.value,
        "reasons": reasons,
        "policy": {
            "outcome": policy_result.outcome.value,
            "hits": [h.code for h in policy_result.hits],  # texts and values: in "reasons"
        },
        "model": {
            "score": score.score,
            "pd": score.pd,
            "grade": score.grade,
            "reasons": _model_reasons(score),
        },
        "band": band.to_json(),
        "limit": limit.to_json(),
        "requested": {"amount": str(requested), "term_months": application.requested_term},
        "offer": None
        if amount is None or price is None
        else {
            "amount": str(amount),
            "counter_offer": counter,
            **term.to_json(),
            "rate": str(price.rate),
            "price": price.to_dict(),
            "schedule": schedule,
        },
        "versions": versions,
    }
    digest = hashlib.sha256(canonical_json(result).encode()).hexdigest()
    timing = {
        "policy": (t1 - t0) * 1e6,
        "model": (t2 - t1) * 1e6,
        "strategy": (t3 - t2) * 1e6,
        "pricing": (t4 - t3) * 1e6,
        "schedule": (t5 - t4) * 1e6,
        "record": (clock() - t5) * 1e6,
    }
    timing["total"] = sum(timing.values())
    return DecisionRecord(
        application_id=application.application_id,
        application_sha256=application.sha256,
        action=action,
        reasons=tuple(reasons),
        policy=policy_result,
        score=score,
        band=band.to_json(),
        limit=limit,
        term=term,
        amount=amount,
        counter_offer=counter,
        price=price,
        schedule=schedule,
        versions=versions,
        timing_us={k: round(v, 1) for k, v in timing.items()},
        result=result,
        result_sha256=digest,
    )


def result_sha256(result: Mapping[str, Any]) -> str:
    """The hash of a stored result (without ``result_sha256`` and ``timing_us``)."""
    plain = {k: v for k, v in result.items() if k not in ("result_sha256", "timing_us")}
    return hashlib.sha256(canonical_json(plain).encode()).hexdigest()


def replay_matches(stored: Mapping[str, Any], replayed: DecisionRecord) -> bool:
    """Whether a replay reproduced a stored record bit for bit (its canonical JSON hash)."""
    return result_sha256(stored) == replayed.result_sha256 == stored.get("result_sha256")


# --------------------------------------------------------------------------- champion/challenger
@dataclass(frozen=True, slots=True)
class Arm:
    """One arm of an experiment: its name and share of the traffic."""

    name: str
    share: float


@dataclass(frozen=True)
class Experiment:
    """A champion/challenger split (冠军/挑战者实验): arms with shares summing to 1, the first
    the champion; the salt makes the split independent of other experiments."""

    code: str
    salt: str
    arms: tuple[Arm, ...]

    def __post_init__(self) -> None:
        if not self.arms:
            raise InvalidInput("arms", "an experiment needs at least the champion")
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise InvalidInput("arms", "arm names must differ")
        for arm in self.arms:
            if not (math.isfinite(arm.share) and 0.0 <= arm.share <= 1.0):
                raise InvalidInput(f"arms.{arm.name}", f"share {arm.share} must be in [0, 1]")
        if abs(sum(a.share for a in self.arms) - 1.0) > 1e-9:
            raise InvalidInput("arms", "the shares must add up to 1")

    @classmethod
    def champion_challenger(
        cls, code: str, salt: str, champion: str, challengers: Sequence[tuple[str, float]]
    ) -> Experiment:
        rest = sum(share for _, share in challengers)
        if rest > 1.0:
            raise InvalidInput("challengers", "the challengers' shares exceed 1")
        return cls(code, salt, (Arm(champion, 1.0 - rest), *(Arm(n, s) for n, s in challengers)))

    def bucket(self, application_id: str) -> float:
        """The application's point in [0, 1): the first 8 bytes of sha256(salt:id) / 2⁶⁴."""
        digest = hashlib.sha256(f"{self.salt}:{application_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2.0**64

    def assign(self, application_id: str) -> str:
        """The arm an application belongs to (always the same for the same id and salt)."""
        point = self.bucket(application_id)
        edge = 0.0
        for arm in self.arms:
            edge += arm.share
            if point < edge:
                return arm.name
        return self.arms[-1].name


def dumps(record: DecisionRecord) -> str:
    """The stored form of a record: canonical JSON."""
    return canonical_json(record.to_json())


__all__ = [
    "APPLICATION_FORMAT",
    "RECORD_FORMAT",
    "Application",
    "Arm",
    "DecisionRecord",
    "Experiment",
    "application_from_row",
    "decide",
    "dumps",
    "parse_application",
    "replay_matches",
    "result_sha256",
]
