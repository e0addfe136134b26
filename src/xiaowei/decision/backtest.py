"""Strategy back-test (策略回测) and swap set (换入换出分析) over past applications, vectorised.

A risk manager who drafts a new strategy (a challenger, 挑战者) asks what it would have done to
the applications of the past, whose outcomes are now known: how many it approves, how much it
lends, at what expected and observed bad rate, for what profit — and which applicants it
takes in that the current strategy (the champion, 冠军) refused (**swap-in** 换入) and which it
refuses that the champion took (**swap-out** 换出).

Input: one row per application, as the feature table of ``xiaowei analyse features`` holds it
(``requested_amount_fen``, ``requested_term``, ``industry``, the credit-file features the limit
and term read, the outcome column, e.g. ``default_12m``), already carrying

* the **policy outcome** (``policy_outcome``: pass / refer / decline), from the policy compiled
  to Polars (:mod:`xiaowei.decision.jdm_compile`; :func:`compilable_graph` and
  :func:`policy_outcomes` turn the compiled hits into the outcome), and
* the model's **PD** (``pd``, from :func:`xiaowei.services.scoring.score_frame`).

:func:`apply_strategy` then does, for all rows at once, exactly what the automated decision
(:func:`xiaowei.decision.automated.decide`) does for one (a parity test compares every row):

1. band (评分档位): the first band whose ``pd_max`` the PD does not exceed;
2. action: the worse of the policy's (refer → approve when ``refer_on_policy_refer`` is off) and
   the band's;
3. limit (授信额度) in integer fen: the minimum of product maximum, capacity
   (``fin_max_affordable_fen`` × share), revenue (``flow_revenue_12m`` annualised over
   ``flow_months_12m``, else ``fin_annual_sales_fen``, × multiple) and band cap, each rounded
   to the fen half-even as the Decimal path quantizes, rounded down to the strategy's step;
4. the request below the product minimum declines (``REQUEST_BELOW_MIN``); no capacity and
   no revenue refers (``LIMIT_UNSIZED``); a limit below the product minimum declines
   (``LIMIT_BELOW_MIN``); otherwise the offer is min(request, limit) (a counter-offer 降额
   when below the request);
5. term and repayment method (:func:`~xiaowei.decision.strategy.suggest_term`);
6. the risk-based rate of every offer not declined (:func:`~xiaowei.decision.pricing_vec.
   price_array`, equal to :func:`~xiaowei.decision.pricing.price_loan` on every row), at
   PD max(pd, 1e-9).

An approved application (通过) is one whose action is approve; a referral (转人工) may carry an
offer but is not counted in the approved book, since a person decides it.

**Profit, a one-period approximation** (单期近似). For an approved loan of amount A (CNY),
term T months, rate r, the strategy's funding rate f and operating cost rate o, LGD L and the
model's 12-month PD p (the horizon of the outcome ``default_12m``):

    margin       = A × T / 12 × (r − f − o)            interest net of funding and running costs
    expected     = (1 − p) × margin − p × A × L
    observed     = margin        when the loan did not default
                 = − A × L       when it defaulted (the loss; its interest is foregone)

so that the expected profit is the expectation of the observed one when the PD is calibrated.
The whole amount is taken as outstanding for the whole term (no amortisation, no
discounting), a default loses L of the full amount, and the cost of capital is not charged (it
is the hurdle the price already earns): a ranking of strategies, not an accounting forecast.
Sums are rounded to the fen.

Observed figures use only the rows whose outcome is known (not null).

Swap set (换入换出): every application falls in one cell of candidate-approves × current-
approves — kept-in (both approve 保留通过), swap-in (only the candidate 换入), swap-out (only the
current 换出), kept-out (neither 保留拒绝) — with its count, amounts and expected and observed
bad rates. A candidate is better when its swap-ins are better risks than its swap-outs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from xiaowei.core.errors import InvalidInput
from xiaowei.core.money import to_cents
from xiaowei.decision.jdm_compile import ERROR_COLUMN
from xiaowei.decision.policy import Outcome
from xiaowei.decision.pricing_vec import PPM, price_array
from xiaowei.decision.strategy import Action, Strategy
from xiaowei.lending.product import LoanProduct
from xiaowei.lending.schedule import RepaymentMethod

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

POLICY_OUTCOME = "policy_outcome"
POLICY_CODES = "policy_codes"
PD = "pd"
#: Actions by code (the order of severity): 0 approve, 1 refer, 2 decline.
ACTIONS: tuple[Action, ...] = (Action.APPROVE, Action.REFER, Action.DECLINE)
LIMIT_REASONS = ("REQUEST_BELOW_MIN", "LIMIT_UNSIZED", "LIMIT_BELOW_MIN")
SWAP_CELLS = ("kept_in", "swap_in", "swap_out", "kept_out")
_MISSING = np.iinfo(np.int64).max
_COMPONENTS = ("product_max", "capacity", "revenue", "band_cap")


# --------------------------------------------------------------------------- the policy step
def compilable_graph(graph: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a policy graph that :func:`~xiaowei.decision.jdm_compile.compile_graph`
    accepts: a collect table without an ``outputPath`` (its result is a bare array in zen) gets
    one (``_hits0``, ``_hits1`` …). The rows it collects are the same; only where they sit in
    the response changes, which the policy engine reads either way."""
    document = copy.deepcopy(dict(graph))
    count = 0
    for node in document.get("nodes", []):
        content = node.get("content") or {}
        if (
            node.get("type") == "decisionTableNode"
            and content.get("hitPolicy") == "collect"
            and not str(content.get("outputPath") or "").strip()
        ):
            content["outputPath"] = f"_hits{count}"
            count += 1
    return document


def policy_input_fields(graph: Mapping[str, Any]) -> list[str]:
    """The input fields the graph's decision tables test (in order of first use)."""
    fields: dict[str, None] = {}
    for node in graph.get("nodes", []):
        if node.get("type") == "decisionTableNode":
            for column in (node.get("content") or {}).get("inputs", []):
                if column.get("field"):
                    fields.setdefault(str(column["field"]), None)
    return list(fields)


def policy_outcomes(compiled: pl.DataFrame) -> pl.DataFrame:
    """``policy_outcome`` (pass / refer / decline) and ``policy_codes`` (every hit's code) of
    each row of a compiled policy's output: decline when any collected hit declines, refer
    when any refers. A row on which the graph failed (``_error``) is referred: zen would have
    raised, and a person must look."""
    lists = [
        name
        for name, dtype in compiled.schema.items()
        if isinstance(dtype, pl.List)
        and isinstance(dtype.inner, pl.Struct)
        and {"code", "severity"} <= {f.name for f in dtype.inner.fields}
    ]
    if not lists:
        raise InvalidInput("policy", "the compiled policy returns no collected rule hits")
    hits = pl.concat_list([pl.col(c).fill_null([]) for c in lists])
    severities = hits.list.eval(pl.element().struct.field("severity"))
    failed = (
        pl.col(ERROR_COLUMN).is_not_null()
        if ERROR_COLUMN in compiled.columns
        else pl.lit(value=False)
    )
    return compiled.select(
        pl.when(severities.list.contains("decline"))
        .then(pl.lit(Outcome.DECLINE.value))
        .when(severities.list.contains("refer") | failed)
        .then(pl.lit(Outcome.REFER.value))
        .otherwise(pl.lit(Outcome.PASS.value))
        .alias(POLICY_OUTCOME),
        hits.list.eval(pl.element().struct.field("code")).alias(POLICY_CODES),
    )


# --------------------------------------------------------------------------- helpers
def _fen_times(fen: IntArray, factor: Decimal) -> IntArray:
    """fen × ``factor`` rounded half-even to the fen (``Decimal.quantize``'s default), exact."""
    _sign, digits, exponent = factor.normalize().as_tuple()
    assert isinstance(exponent, int)
    numerator = int("".join(map(str, digits)) or "0") * 10 ** max(exponent, 0)
    denominator = 10 ** max(-exponent, 0)
    if fen.size and int(fen.max()) * numerator >= 2**62:
        raise InvalidInput("limit", "amounts too large for the vectorised back-test")
    scaled = fen * numerator
    quotient, remainder = np.divmod(scaled, denominator)
    twice = 2 * remainder
    up = (twice > denominator) | ((twice == denominator) & (quotient % 2 == 1))
    out: IntArray = quotient + up
    return out


def _whole_fen(amount: Decimal, field: str) -> int:
    try:
        return to_cents(amount)
    except ValueError:
        raise InvalidInput(
            field, f"{amount} has digits below the fen (not back-testable)"
        ) from None


def _number(frame: pl.DataFrame, name: str) -> tuple[FloatArray, BoolArray]:
    """A feature as floats and the rows where it is a finite number (``_number`` of
    :mod:`~xiaowei.decision.strategy`: missing, NaN and infinities are unavailable)."""
    if name not in frame.columns:
        return np.zeros(frame.height), np.zeros(frame.height, dtype=np.bool_)
    column = frame[name]
    if not column.dtype.is_numeric():
        raise InvalidInput(name, f"column {name!r} is {column.dtype}, not a number")
    values = column.cast(pl.Float64).fill_null(np.nan).to_numpy()
    ok = np.isfinite(values)
    return np.where(ok, values, 0.0), ok


def _required_int(frame: pl.DataFrame, name: str) -> IntArray:
    if name not in frame.columns:
        raise InvalidInput(name, f"no column {name!r} in the data")
    column = frame[name]
    if not column.dtype.is_numeric():
        raise InvalidInput(name, f"column {name!r} is {column.dtype}, not a number")
    if column.null_count():
        raise InvalidInput(name, f"{column.null_count()} rows have no {name}")
    values: IntArray = column.cast(pl.Int64).to_numpy()
    return values


def _pd(frame: pl.DataFrame, name: str) -> FloatArray:
    if name not in frame.columns:
        raise InvalidInput("pd", f"no column {name!r} (the model's PD) in the data")
    column = frame[name]
    if column.null_count():
        raise InvalidInput("pd", f"{column.null_count()} rows have no PD")
    values: FloatArray = column.cast(pl.Float64).to_numpy()
    if not np.all(np.isfinite(values)) or np.any((values < 0.0) | (values > 1.0)):
        raise InvalidInput("pd", "every PD must be in [0, 1]")
    return values


def _policy_action(frame: pl.DataFrame, name: str, strategy: Strategy) -> IntArray:
    if name not in frame.columns:
        raise InvalidInput("policy", f"no column {name!r} (the policy outcome) in the data")
    column = frame[name].cast(pl.String)
    refer = 1 if strategy.refer_on_policy_refer else 0
    codes = column.replace_strict(
        {Outcome.PASS.value: 0, Outcome.REFER.value: refer, Outcome.DECLINE.value: 2},
        default=None,
        return_dtype=pl.Int64,
    )
    if codes.null_count():
        bad = column.filter(codes.is_null()).head(1).to_list()
        raise InvalidInput("policy", f"policy outcome {bad[0]!r} is not pass, refer or decline")
    values: IntArray = codes.to_numpy()
    return values


def _strings(names: Sequence[str], index: npt.NDArray[np.integer[Any]]) -> pl.Series:
    lookup = pl.Series(list(names), dtype=pl.String)
    return lookup.gather(pl.Series(index, dtype=pl.UInt32))


# --------------------------------------------------------------------------- the strategy step
def apply_strategy(
    frame: pl.DataFrame,
    strategy: Strategy,
    product: LoanProduct,
    *,
    pd_col: str = PD,
    policy_col: str = POLICY_OUTCOME,
) -> pl.DataFrame:
    """The strategy's decision on every row (see the module docstring), one output row per
    input row: ``band``, ``action``, ``limit_fen`` (null: unsized), ``binding``,
    ``limit_reason``, ``amount_fen`` (the offer; null when declined or unsized),
    ``counter_offer``, ``term``, ``method``, ``rate_ppm`` and ``rate`` (null without an
    offer) and ``raroc``."""
    if strategy.product != product.code:
        raise InvalidInput(
            "product", f"strategy {strategy.key} decides {strategy.product}, not {product.code}"
        )
    n = frame.height
    pd = _pd(frame, pd_col)
    policy_action = _policy_action(frame, policy_col, strategy)
    requested = _required_int(frame, "requested_amount_fen")
    requested_term = _required_int(frame, "requested_term")
    if n and (requested.min() <= 0 or requested_term.min() < 1 or requested_term.max() > 360):
        raise InvalidInput("requested", "amounts must be positive and terms 1–360 months")

    # ---------------------------------------------------------------- band and action
    bands = strategy.bands
    bounds = np.array([b.pd_max for b in bands])
    band = np.minimum(np.searchsorted(bounds, pd, side="left"), len(bands) - 1)
    band_action = np.array([ACTIONS.index(b.action) for b in bands], dtype=np.int64)[band]
    action = np.maximum(policy_action, band_action)

    # ---------------------------------------------------------------- limit, in fen
    rule = strategy.limit
    affordable, has_affordable = _number(frame, "fin_max_affordable_fen")
    capacity = _fen_times(
        np.rint(np.maximum(affordable, 0.0)).astype(np.int64), rule.capacity_share
    )
    revenue_12m, has_revenue = _number(frame, "flow_revenue_12m")
    months, has_months = _number(frame, "flow_months_12m")
    declared, has_declared = _number(frame, "fin_annual_sales_fen")
    from_flows = has_revenue & has_months & (months >= 1) & (revenue_12m > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        annualised = revenue_12m * 12.0 / np.minimum(months, 12.0)
    from_declared = ~from_flows & has_declared & (declared > 0)
    revenue_fen = np.rint(np.where(from_flows, annualised, 0.0))
    revenue_fen = np.where(from_declared, np.rint(declared), revenue_fen).astype(np.int64)
    revenue = _fen_times(revenue_fen, rule.revenue_multiple)
    has_revenue_limit = from_flows | from_declared
    caps = np.array(
        [_MISSING if b.limit_cap is None else _whole_fen(b.limit_cap, "limit_cap") for b in bands],
        dtype=np.int64,
    )
    components = np.stack(
        [
            np.full(n, _whole_fen(product.amount_max, "amount_max"), dtype=np.int64),
            np.where(has_affordable, capacity, _MISSING),
            np.where(has_revenue_limit, revenue, _MISSING),
            caps[band],
        ]
    )
    binding = np.argmin(components, axis=0)  # the first of equal minima, as min() picks
    binding_fen = components[binding, np.arange(n)]
    step = _whole_fen(rule.round_down_to, "round_down_to")
    sized = has_affordable | has_revenue_limit
    limit = np.where(sized, binding_fen // step * step, 0)

    # ---------------------------------------------------------------- offer
    minimum = _whole_fen(product.amount_min, "amount_min")
    below_request = requested < minimum
    unsized = ~below_request & ~sized
    below_limit = ~below_request & sized & (limit < minimum)
    reason = np.full(n, -1, dtype=np.int64)
    reason[below_request] = 0
    reason[unsized] = 1
    reason[below_limit] = 2
    action = np.where(below_request | below_limit, 2, action)
    action = np.where(unsized, np.maximum(action, 1), action)
    offered = ~below_request & sized & ~below_limit & (action < 2)
    amount = np.minimum(requested, limit)

    # ---------------------------------------------------------------- term and method
    longest = np.array(
        [
            product.term_max if b.term_max is None else min(product.term_max, b.term_max)
            for b in bands
        ],
        dtype=np.int64,
    )[band]
    term = np.minimum(np.maximum(requested_term, product.term_min), longest)
    terms_rule = strategy.term
    offered_methods = set(product.methods)
    methods: list[RepaymentMethod] = []

    def method_code(method: RepaymentMethod) -> int:
        if method not in methods:
            methods.append(method)
        return methods.index(method)

    fallback = (
        terms_rule.default_method
        if terms_rule.default_method in offered_methods
        else product.methods[0]
    )
    method = np.full(n, method_code(fallback), dtype=np.int64)
    if RepaymentMethod.EQUAL_PRINCIPAL in offered_methods:
        ratio, has_ratio = _number(frame, "fin_installment_ratio")
        principal = (
            (term >= terms_rule.equal_principal_term_min)
            & has_ratio
            & (ratio <= terms_rule.equal_principal_ratio_max)
        )
        method[principal] = method_code(RepaymentMethod.EQUAL_PRINCIPAL)
    if RepaymentMethod.INTEREST_ONLY in offered_methods and "industry" in frame.columns:
        trader = (
            frame["industry"]
            .cast(pl.String)
            .is_in(list(terms_rule.interest_only_industries))
            .fill_null(value=False)
            .to_numpy()
        )
        interest_only = trader & (term <= terms_rule.interest_only_term_max)
        method[interest_only] = method_code(RepaymentMethod.INTEREST_ONLY)

    # ---------------------------------------------------------------- price
    rate_ppm = np.zeros(n, dtype=np.int64)
    raroc = np.full(n, np.nan)
    priced = np.flatnonzero(offered)
    if priced.size:
        prices = price_array(
            np.maximum(pd[priced], 1e-9),
            term[priced],
            lgd=strategy.lgd,
            policy=strategy.pricing,
            product=product,
            asset_class=strategy.asset_class,
        )
        rate_ppm[priced] = prices.rate_ppm
        raroc[priced] = prices.raroc

    base = pl.DataFrame(
        [
            _strings([b.grade for b in bands], band).alias("band"),
            _strings([a.value for a in ACTIONS], action).alias("action"),
            pl.Series("limit_fen", limit, dtype=pl.Int64),
            _strings(_COMPONENTS, binding).alias("binding"),
            _strings(("", *LIMIT_REASONS), reason + 1).alias("limit_reason"),
            pl.Series("amount_fen", amount, dtype=pl.Int64),
            pl.Series("counter_offer", offered & (amount < requested), dtype=pl.Boolean),
            pl.Series("term", term, dtype=pl.Int64),
            _strings([m.value for m in methods], method).alias("method"),
            pl.Series("rate_ppm", rate_ppm, dtype=pl.Int64),
            pl.Series("raroc", raroc, dtype=pl.Float64),
            pl.Series("_sized", sized, dtype=pl.Boolean),
            pl.Series("_offered", offered, dtype=pl.Boolean),
        ]
    )
    when_sized, when_offered = pl.col("_sized"), pl.col("_offered")
    return base.select(
        "band",
        "action",
        pl.when(when_sized).then(pl.col("limit_fen")).alias("limit_fen"),
        pl.when(when_sized).then(pl.col("binding")).alias("binding"),
        pl.when(pl.col("limit_reason") != "").then(pl.col("limit_reason")).alias("limit_reason"),
        pl.when(when_offered).then(pl.col("amount_fen")).alias("amount_fen"),
        "counter_offer",
        "term",
        "method",
        pl.when(when_offered).then(pl.col("rate_ppm")).alias("rate_ppm"),
        pl.when(when_offered).then(pl.col("rate_ppm") / float(PPM)).alias("rate"),
        pl.col("raroc").fill_nan(None),
    )


# --------------------------------------------------------------------------- the report
def _cny(fen: float | int) -> Decimal:
    """An amount in fen (a sum, possibly an estimate) as CNY rounded half-up to the fen."""
    return (
        Decimal(repr(float(fen))).quantize(Decimal(1), rounding="ROUND_HALF_UP") / 100
    ).quantize(Decimal("0.01"))


def _rate(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _outcome(frame: pl.DataFrame, target: str | None) -> tuple[FloatArray, BoolArray]:
    """The 0/1 outcome (1 = bad) as floats and the rows where it is known."""
    if target is None:
        return np.zeros(frame.height), np.zeros(frame.height, dtype=np.bool_)
    if target not in frame.columns:
        raise InvalidInput("target", f"no column {target!r} in the data")
    column = frame[target]
    if column.dtype == pl.Boolean:
        column = column.cast(pl.Int8)
    if not column.dtype.is_numeric():
        raise InvalidInput("target", f"column {target!r} is {column.dtype}, not 0/1")
    values = column.cast(pl.Float64).fill_nan(None)
    known = values.is_not_null().to_numpy()
    filled = values.fill_null(0.0).to_numpy()
    if np.any((filled != 0.0) & (filled != 1.0)):
        raise InvalidInput("target", f"column {target!r} must hold 0, 1 or nothing")
    return filled, known


#: The sums a group of applications is summarised by (one bincount each).
_SUMS = (
    "applications",
    "approved",
    "referred",
    "declined",
    "counter_offers",
    "approved_amount",
    "requested_amount",
    "approved_pd",
    "approved_pd_amount",
    "approved_rate_amount",
    "observed_known",
    "observed_bads",
    "observed_amount",
    "observed_bad_amount",
    "expected_profit",
    "observed_profit",
    "pd",
    "known",
    "bads",
)


def _sums(
    frame: pl.DataFrame,
    decided: pl.DataFrame,
    strategy: Strategy,
    *,
    pd_col: str,
    target: str | None,
    groups: IntArray,
    n_groups: int,
) -> dict[str, FloatArray]:
    """Per group (e.g. band) sums of everything :class:`BookFigures` reports, in fen and
    counts; sums of whole fen are exact in float64 below 2⁵³ fen."""
    pd = _pd(frame, pd_col)
    bad, known = _outcome(frame, target)
    flags = decided.select(
        (pl.col("action") == Action.APPROVE.value).alias("approved"),
        (pl.col("action") == Action.REFER.value).alias("referred"),
        (pl.col("action") == Action.DECLINE.value).alias("declined"),
    )
    approved = flags["approved"].to_numpy()
    amount = np.where(approved, decided["amount_fen"].fill_null(0).cast(pl.Float64).to_numpy(), 0)
    rate = decided["rate_ppm"].fill_null(0).cast(pl.Float64).to_numpy() / PPM
    term = decided["term"].cast(pl.Float64).to_numpy()
    running = float(strategy.pricing.funding_rate + strategy.pricing.operating_cost_rate)
    margin = amount * term / 12.0 * (rate - running)
    loss = amount * strategy.lgd
    observed = approved & known
    is_bad = bad > 0
    weights = {
        "applications": None,
        "approved": approved,
        "referred": flags["referred"].to_numpy(),
        "declined": flags["declined"].to_numpy(),
        "counter_offers": approved & decided["counter_offer"].to_numpy(),
        "approved_amount": amount,
        "requested_amount": frame["requested_amount_fen"].cast(pl.Float64).to_numpy(),
        "approved_pd": np.where(approved, pd, 0.0),
        "approved_pd_amount": pd * amount,
        "approved_rate_amount": rate * amount,
        "observed_known": observed,
        "observed_bads": observed & is_bad,
        "observed_amount": np.where(observed, amount, 0.0),
        "observed_bad_amount": np.where(observed & is_bad, amount, 0.0),
        "expected_profit": (1.0 - pd) * margin - pd * loss,
        "observed_profit": np.where(observed, np.where(is_bad, -loss, margin), 0.0),
        "pd": pd,
        "known": known,
        "bads": known & is_bad,
    }
    return {
        name: np.bincount(
            groups, weights=None if w is None else w.astype(np.float64), minlength=n_groups
        ).astype(np.float64)
        for name, w in weights.items()
    }


@dataclass(frozen=True)
class BookFigures:
    """Figures of a set of applications under one strategy (审批结果指标)."""

    applications: int
    approved: int
    referred: int
    declined: int
    counter_offers: int
    approved_amount: Decimal
    requested_amount: Decimal
    expected_bad_rate: float | None  # mean PD of the approved
    expected_bad_rate_amount: float | None  # amount-weighted
    observed_known: int  # approved with a known outcome
    observed_bads: int
    observed_bad_rate: float | None
    observed_bad_rate_amount: float | None
    mean_rate: float | None  # amount-weighted rate of the approved
    expected_profit: Decimal
    observed_profit: Decimal  # of the approved with a known outcome

    @property
    def approval_rate(self) -> float | None:
        return _rate(self.approved, self.applications)

    @property
    def referral_rate(self) -> float | None:
        return _rate(self.referred, self.applications)

    @property
    def decline_rate(self) -> float | None:
        return _rate(self.declined, self.applications)

    def to_json(self) -> dict[str, Any]:
        return {
            "applications": self.applications,
            "approved": self.approved,
            "referred": self.referred,
            "declined": self.declined,
            "approval_rate": self.approval_rate,
            "referral_rate": self.referral_rate,
            "decline_rate": self.decline_rate,
            "counter_offers": self.counter_offers,
            "approved_amount": str(self.approved_amount),
            "requested_amount": str(self.requested_amount),
            "expected_bad_rate": self.expected_bad_rate,
            "expected_bad_rate_amount": self.expected_bad_rate_amount,
            "observed_known": self.observed_known,
            "observed_bads": self.observed_bads,
            "observed_bad_rate": self.observed_bad_rate,
            "observed_bad_rate_amount": self.observed_bad_rate_amount,
            "mean_rate": self.mean_rate,
            "expected_profit": str(self.expected_profit),
            "observed_profit": str(self.observed_profit),
        }


def _figures(sums: Mapping[str, float]) -> BookFigures:
    """The figures of one group from its sums (:func:`_sums`)."""
    approved = sums["approved"]
    amount = sums["approved_amount"]
    known = sums["observed_known"]
    return BookFigures(
        applications=round(sums["applications"]),
        approved=round(approved),
        referred=round(sums["referred"]),
        declined=round(sums["declined"]),
        counter_offers=round(sums["counter_offers"]),
        approved_amount=_cny(amount),
        requested_amount=_cny(sums["requested_amount"]),
        expected_bad_rate=_rate(sums["approved_pd"], approved),
        expected_bad_rate_amount=_rate(sums["approved_pd_amount"], amount),
        observed_known=round(known),
        observed_bads=round(sums["observed_bads"]),
        observed_bad_rate=_rate(sums["observed_bads"], known),
        observed_bad_rate_amount=_rate(sums["observed_bad_amount"], sums["observed_amount"]),
        mean_rate=_rate(sums["approved_rate_amount"], amount),
        expected_profit=_cny(sums["expected_profit"]),
        observed_profit=_cny(sums["observed_profit"]),
    )


@dataclass(frozen=True)
class BandRow:
    """One PD band of a strategy (分档结果): its applications and the figures of each."""

    grade: str
    pd_max: float
    action: str
    figures: BookFigures
    mean_pd: float | None  # of every application in the band
    observed_bad_rate: float | None  # of every application in the band with a known outcome

    def to_json(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "pd_max": self.pd_max,
            "action": self.action,
            "mean_pd": self.mean_pd,
            "observed_bad_rate_all": self.observed_bad_rate,
            **self.figures.to_json(),
        }


@dataclass(frozen=True)
class StrategyResult:
    """A strategy's back-test: its identity, the book, the bands, the limit outcomes."""

    code: str
    version: int
    sha256: str
    name_zh: str
    name_en: str
    book: BookFigures
    bands: tuple[BandRow, ...]
    limit_reasons: dict[str, int]
    policy_outcomes: dict[str, int]

    @property
    def key(self) -> str:
        return f"{self.code}@{self.version}"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "version": self.version,
            "sha256": self.sha256,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            **self.book.to_json(),
            "limit_reasons": self.limit_reasons,
            "policy_outcomes": self.policy_outcomes,
            "bands": [b.to_json() for b in self.bands],
        }


@dataclass(frozen=True)
class SwapCell:
    """One cell of the swap set (换入换出): applications, amounts and bad rates."""

    name: str
    applications: int
    requested_amount: Decimal
    candidate_amount: Decimal  # offered and approved by the candidate
    current_amount: Decimal  # offered and approved by the current strategy
    expected_bad_rate: float | None  # mean PD
    observed_known: int
    observed_bads: int

    @property
    def observed_bad_rate(self) -> float | None:
        return _rate(self.observed_bads, self.observed_known)

    def to_json(self) -> dict[str, Any]:
        return {
            "applications": self.applications,
            "requested_amount": str(self.requested_amount),
            "candidate_amount": str(self.candidate_amount),
            "current_amount": str(self.current_amount),
            "expected_bad_rate": self.expected_bad_rate,
            "observed_known": self.observed_known,
            "observed_bads": self.observed_bads,
            "observed_bad_rate": self.observed_bad_rate,
        }


@dataclass(frozen=True)
class CurvePoint:
    """The book at one PD cut-off (审批阈值): approve every policy pass with PD ≤ cut-off."""

    cutoff: float
    approval_rate: float
    expected_bad_rate: float | None
    observed_bad_rate: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff,
            "approval_rate": self.approval_rate,
            "expected_bad_rate": self.expected_bad_rate,
            "observed_bad_rate": self.observed_bad_rate,
        }


@dataclass(frozen=True)
class BacktestReport:
    """The back-test of a candidate strategy, against a current one when given (回测报告)."""

    product: str
    target: str | None
    applications: int
    candidate: StrategyResult
    current: StrategyResult | None
    swap: dict[str, SwapCell] | None
    curve: tuple[CurvePoint, ...]
    lgd: float
    profit_formula: str = field(
        default=(
            "margin = A·T/12·(r − funding − operating); expected = Σ (1 − PD)·margin − PD·A·LGD; "
            "observed = Σ margin (no default) or −A·LGD (default), one period"
        )
    )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "xiaowei.backtest/1",
            "product": self.product,
            "target": self.target,
            "applications": self.applications,
            "lgd": self.lgd,
            "profit_formula": self.profit_formula,
            "candidate": self.candidate.to_json(),
            "current": None if self.current is None else self.current.to_json(),
            "swap_set": None
            if self.swap is None
            else {name: cell.to_json() for name, cell in self.swap.items()},
            "cutoff_curve": [p.to_json() for p in self.curve],
        }


def _counts(values: pl.Series, names: Sequence[str]) -> dict[str, int]:
    counts = dict(values.drop_nulls().value_counts().iter_rows())
    return {name: int(counts.get(name, 0)) for name in names}


def strategy_result(
    frame: pl.DataFrame,
    decided: pl.DataFrame,
    strategy: Strategy,
    *,
    target: str | None,
    pd_col: str = PD,
    policy_col: str = POLICY_OUTCOME,
) -> StrategyResult:
    """The figures of one strategy's decisions (``decided``, from :func:`apply_strategy`)."""
    grades = [b.grade for b in strategy.bands]
    groups = (
        decided["band"]
        .replace_strict(grades, list(range(len(grades))), return_dtype=pl.Int64)
        .to_numpy()
    )
    sums = _sums(
        frame,
        decided,
        strategy,
        pd_col=pd_col,
        target=target,
        groups=groups,
        n_groups=len(grades),
    )
    bands = []
    for i, band in enumerate(strategy.bands):
        group = {name: float(values[i]) for name, values in sums.items()}
        bands.append(
            BandRow(
                grade=band.grade,
                pd_max=band.pd_max,
                action=band.action.value,
                figures=_figures(group),
                mean_pd=_rate(group["pd"], group["applications"]),
                observed_bad_rate=_rate(group["bads"], group["known"]),
            )
        )
    total = {name: float(values.sum()) for name, values in sums.items()}
    return StrategyResult(
        code=strategy.code,
        version=strategy.version,
        sha256=strategy.sha256,
        name_zh=strategy.name_zh,
        name_en=strategy.name_en,
        book=_figures(total),
        bands=tuple(bands),
        limit_reasons=_counts(decided["limit_reason"], LIMIT_REASONS),
        policy_outcomes=_counts(frame[policy_col].cast(pl.String), [o.value for o in Outcome]),
    )


def swap_set(
    frame: pl.DataFrame,
    candidate: pl.DataFrame,
    current: pl.DataFrame,
    *,
    target: str | None,
    pd_col: str = PD,
) -> dict[str, SwapCell]:
    """The four cells of candidate-approves × current-approves (see the module docstring)."""
    pd = _pd(frame, pd_col)
    bad, known = _outcome(frame, target)
    requested = frame["requested_amount_fen"].cast(pl.Float64).to_numpy()
    new = (candidate["action"] == Action.APPROVE.value).to_numpy()
    old = (current["action"] == Action.APPROVE.value).to_numpy()
    new_amount = np.where(new, candidate["amount_fen"].fill_null(0).to_numpy(), 0)
    old_amount = np.where(old, current["amount_fen"].fill_null(0).to_numpy(), 0)
    masks = {
        "kept_in": new & old,
        "swap_in": new & ~old,
        "swap_out": ~new & old,
        "kept_out": ~new & ~old,
    }
    cells = {}
    for name, mask in masks.items():
        seen = mask & known
        cells[name] = SwapCell(
            name=name,
            applications=int(mask.sum()),
            requested_amount=_cny(float(requested[mask].sum())),
            candidate_amount=_cny(int(new_amount[mask].sum())),
            current_amount=_cny(int(old_amount[mask].sum())),
            expected_bad_rate=float(pd[mask].mean()) if mask.any() else None,
            observed_known=int(seen.sum()),
            observed_bads=int(bad[seen].sum()),
        )
    return cells


def cutoff_curve(
    frame: pl.DataFrame,
    *,
    target: str | None,
    eligible: BoolArray,
    points: int = 40,
    pd_col: str = PD,
) -> tuple[CurvePoint, ...]:
    """Approval rate and bad rates as a single PD cut-off moves over the ``eligible`` rows
    (those the policy passes): the trade-off every strategy sits near."""
    pd = _pd(frame, pd_col)
    bad, known = _outcome(frame, target)
    n = frame.height
    chosen = pd[eligible]
    if n == 0 or chosen.size == 0:
        return ()
    cutoffs = np.unique(np.quantile(chosen, np.linspace(0.0, 1.0, points + 1)[1:]))
    order = np.argsort(chosen, kind="stable")
    sorted_pd = chosen[order]
    sorted_bad = bad[eligible][order]
    sorted_known = known[eligible][order].astype(np.float64)
    cum_pd = np.cumsum(sorted_pd)
    cum_bad = np.cumsum(sorted_bad * sorted_known)
    cum_known = np.cumsum(sorted_known)
    out = []
    for cutoff in cutoffs:
        k = int(np.searchsorted(sorted_pd, cutoff, side="right"))
        if k == 0:
            continue
        seen = float(cum_known[k - 1])
        out.append(
            CurvePoint(
                cutoff=float(cutoff),
                approval_rate=k / n,
                expected_bad_rate=float(cum_pd[k - 1]) / k,
                observed_bad_rate=float(cum_bad[k - 1]) / seen if seen else None,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Backtest:
    """A back-test's report and the per-row decisions of each strategy (for charts, files)."""

    report: BacktestReport
    candidate: pl.DataFrame
    current: pl.DataFrame | None


def backtest(
    frame: pl.DataFrame,
    candidate: Strategy,
    product: LoanProduct,
    *,
    current: Strategy | None = None,
    target: str | None = None,
    pd_col: str = PD,
    policy_col: str = POLICY_OUTCOME,
    curve_points: int = 40,
) -> Backtest:
    """Run ``candidate`` (and ``current``) over ``frame`` and build the report."""
    if current is not None and current.product != candidate.product:
        raise InvalidInput(
            "current",
            f"{current.key} decides {current.product}, {candidate.key} {candidate.product}",
        )
    _outcome(frame, target)  # a bad target fails before any work
    decided = apply_strategy(frame, candidate, product, pd_col=pd_col, policy_col=policy_col)
    result = strategy_result(
        frame, decided, candidate, target=target, pd_col=pd_col, policy_col=policy_col
    )
    old: pl.DataFrame | None = None
    old_result: StrategyResult | None = None
    swap: dict[str, SwapCell] | None = None
    if current is not None:
        old = apply_strategy(frame, current, product, pd_col=pd_col, policy_col=policy_col)
        old_result = strategy_result(
            frame, old, current, target=target, pd_col=pd_col, policy_col=policy_col
        )
        swap = swap_set(frame, decided, old, target=target, pd_col=pd_col)
    eligible = _policy_action(frame, policy_col, candidate) == 0
    curve = cutoff_curve(
        frame, target=target, eligible=eligible, points=curve_points, pd_col=pd_col
    )
    report = BacktestReport(
        product=product.code,
        target=target,
        applications=frame.height,
        candidate=result,
        current=old_result,
        swap=swap,
        curve=curve,
        lgd=candidate.lgd,
    )
    return Backtest(report=report, candidate=decided, current=old)


__all__ = [
    "ACTIONS",
    "LIMIT_REASONS",
    "PD",
    "POLICY_CODES",
    "POLICY_OUTCOME",
    "SWAP_CELLS",
    "Backtest",
    "BacktestReport",
    "BandRow",
    "BookFigures",
    "CurvePoint",
    "StrategyResult",
    "SwapCell",
    "apply_strategy",
    "backtest",
    "compilable_graph",
    "cutoff_curve",
    "policy_input_fields",
    "policy_outcomes",
    "strategy_result",
    "swap_set",
]
