"""Strategy back-test (策略回测) and swap set (换入换出), worked by hand on nine applications.

The shipped strategies: SME-OP-STD (current: bands A ≤ 1 %, B ≤ 3 %, C ≤ 6 % approve, D ≤ 12 %
refer; revenue × 0.25; margin 0.5 %) and SME-OP-GROWTH (candidate: C up to 8 %, D up to 15 %;
revenue × 0.30; margin 1 %), product SME-OP (30,000–3,000,000 CNY, 3–36 months, legal cap
4 × LPR 3 % = 12 %). Amounts in fen.

1. PD 2 %, pass, 300,000 for 12 months, capacity 500k, flows 1.2m over 12 months: band B,
   approve; limit = revenue 300k (STD) / 360k (GROWTH); offer 300k.
2. PD 5 %, pass, 200,000 for 24, trade, capacity 100k, declared sales 800k: band C, approve,
   counter-offer of 100k (capacity), equal principal (24 months, installment ratio 0.3).
3. PD 7 %, pass, 100,000 for 12, trade, capacity 300k, flows 600k over 6 months: STD band D
   refers, GROWTH band C approves (the swap-in); interest-only (a trader, 12 months).
4. PD 10 %, pass: band D refers under both (an offer is still sized and priced).
5. PD 0.5 %, declined by the policy under both.
6. PD 5.5 %, referred by the policy under both.
7. PD 0.5 %, pass, a request of 20,000 below the product minimum: REQUEST_BELOW_MIN.
8. PD 1.5 %, pass, capacity 25.5k: limit 25,000 < 30,000, LIMIT_BELOW_MIN; outcome unknown.
9. PD 6 % (on band C's bound), pass, neither capacity nor revenue: LIMIT_UNSIZED, refer.

Rows 3 and 7 under STD: capacity and revenue × 0.25 tie; the first component (capacity)
binds, as ``min`` picks it in :func:`size_limit`.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pytest

from xiaowei.core.errors import InvalidInput
from xiaowei.decision.backtest import (
    apply_strategy,
    backtest,
    compilable_graph,
    policy_input_fields,
    policy_outcomes,
)
from xiaowei.decision.jdm_compile import compile_graph
from xiaowei.decision.policy import (
    Outcome,
    PolicyEngine,
    load_policy_file,
    shipped_policy_path,
)
from xiaowei.decision.pricing import price_loan
from xiaowei.decision.strategy import (
    Strategy,
    load_strategy_file,
    shipped_strategy_path,
    size_limit,
    suggest_term,
)
from xiaowei.lending.catalogue import load_catalogue
from xiaowei.lending.product import LoanProduct

D = Decimal
N = None


@functools.cache
def product() -> LoanProduct:
    return next(p for p in load_catalogue() if p.code == "SME-OP")


@functools.cache
def strategy(name: str) -> Strategy:
    return load_strategy_file(shipped_strategy_path(f"sme-op-{name}.json"))


ROWS = [
    # pd, policy, request fen, term, industry, affordable, revenue 12m, months, declared,
    # installment ratio, default_12m
    (0.02, "pass", 30_000_000, 12, "retail", 50_000_000, 120_000_000, 12, N, 0.5, 0),
    (0.05, "pass", 20_000_000, 24, "trade", 10_000_000, N, N, 80_000_000, 0.3, 1),
    (0.07, "pass", 10_000_000, 12, "trade", 30_000_000, 60_000_000, 6, N, N, 0),
    (0.10, "pass", 10_000_000, 12, "retail", 20_000_000.5, N, N, 100_000_000, 0.2, 1),
    (0.005, "decline", 50_000_000, 36, "retail", 90_000_000, N, N, 400_000_000, 0.2, 1),
    (0.055, "refer", 10_000_000, 12, "retail", 40_000_000, N, N, 200_000_000, 0.2, 0),
    (0.005, "pass", 2_000_000, 12, "retail", 50_000_000, N, N, 200_000_000, 0.2, 0),
    (0.015, "pass", 10_000_000, 36, "retail", 2_550_000, N, N, 10_000_000, 0.2, N),
    (0.06, "pass", 5_000_000, 6, "retail", N, N, N, N, N, 0),
]
COLUMNS = (
    "pd",
    "policy_outcome",
    "requested_amount_fen",
    "requested_term",
    "industry",
    "fin_max_affordable_fen",
    "flow_revenue_12m",
    "flow_months_12m",
    "fin_annual_sales_fen",
    "fin_installment_ratio",
    "default_12m",
)
SCHEMA = {
    "pd": pl.Float64,
    "policy_outcome": pl.String,
    "requested_amount_fen": pl.Int64,
    "requested_term": pl.Int64,
    "industry": pl.String,
    "fin_max_affordable_fen": pl.Float64,
    "flow_revenue_12m": pl.Float64,
    "flow_months_12m": pl.Float64,
    "fin_annual_sales_fen": pl.Float64,
    "fin_installment_ratio": pl.Float64,
    "default_12m": pl.Int64,
}


def frame() -> pl.DataFrame:
    return pl.DataFrame([dict(zip(COLUMNS, r, strict=True)) for r in ROWS], schema=SCHEMA)


def test_each_application_by_hand() -> None:
    std = apply_strategy(frame(), strategy("standard"), product())
    growth = apply_strategy(frame(), strategy("growth"), product())
    assert std["band"].to_list() == ["B", "C", "D", "D", "A", "C", "A", "B", "C"]
    assert growth["band"].to_list() == ["B", "C", "C", "D", "A", "C", "A", "B", "C"]
    assert std["action"].to_list() == [
        "approve", "approve", "refer", "refer", "decline", "refer", "decline", "decline", "refer",
    ]  # fmt: skip
    assert growth["action"].to_list() == [
        "approve", "approve", "approve", "refer", "decline", "refer", "decline", "decline", "refer",
    ]  # fmt: skip
    assert std["limit_fen"].to_list() == [
        30_000_000, 10_000_000, 30_000_000, 20_000_000, 90_000_000, 40_000_000, 50_000_000,
        2_500_000, None,
    ]  # fmt: skip
    assert std["binding"].to_list() == [
        "revenue", "capacity", "capacity", "capacity", "capacity", "capacity", "capacity",
        "revenue", None,
    ]  # fmt: skip
    assert growth["limit_fen"].to_list()[:4] == [36_000_000, 10_000_000, 30_000_000, 20_000_000]
    assert growth["binding"][7] == "capacity"  # 25,500 < 30,000; rounded down to 25,000
    assert growth["limit_fen"][7] == 2_500_000
    assert std["limit_reason"].to_list() == [
        N, N, N, N, N, N, "REQUEST_BELOW_MIN", "LIMIT_BELOW_MIN", "LIMIT_UNSIZED",
    ]  # fmt: skip
    # the offer: min(request, limit) unless declined or unsized; referrals carry theirs
    assert std["amount_fen"].to_list() == [
        30_000_000, 10_000_000, 10_000_000, 10_000_000, N, 10_000_000, N, N, N,
    ]  # fmt: skip
    assert std["counter_offer"].to_list() == [False, True] + [False] * 7
    assert std["term"].to_list() == [12, 24, 12, 12, 36, 12, 12, 36, 6]
    ei, ep, io = "equal-installment", "equal-principal", "interest-only"
    # equal principal: 24+ months at an installment ratio ≤ 0.4 (rows 2, 5, 8)
    assert std["method"].to_list() == [ei, ep, io, ei, ep, ei, ei, ep, ei]
    # PD 2 %, 12 months: 6.3871 % under STD (test_pricing's hand-worked rate), + 0.5 % GROWTH
    assert std["rate_ppm"][0] == 63_871
    assert growth["rate_ppm"][0] == 68_871
    assert std["rate_ppm"].null_count() == 4
    for name, decided in (("standard", std), ("growth", growth)):
        s = strategy(name)
        for i, row in enumerate(ROWS):
            if decided["amount_fen"][i] is None:
                continue
            quote = price_loan(
                pd=row[0], lgd=s.lgd, term_months=decided["term"][i], policy=s.pricing,
                product=product(), asset_class=s.asset_class,
            )  # fmt: skip
            assert decided["rate_ppm"][i] == int(quote.rate * 10**6)
            assert decided["raroc"][i] == pytest.approx(quote.raroc, rel=1e-12)


def test_report_and_swap_set_by_hand() -> None:
    result = backtest(
        frame(), strategy("growth"), product(), current=strategy("standard"), target="default_12m"
    )
    report = result.report
    growth, std = report.candidate, report.current
    assert std is not None
    assert (growth.book.approved, growth.book.referred, growth.book.declined) == (3, 3, 3)
    assert (std.book.approved, std.book.referred, std.book.declined) == (2, 4, 3)
    assert growth.book.approval_rate == pytest.approx(3 / 9)
    assert growth.book.approved_amount == D("500000.00")
    assert growth.book.requested_amount == D("1470000.00")
    assert growth.book.counter_offers == 1
    assert growth.book.expected_bad_rate == pytest.approx((0.02 + 0.05 + 0.07) / 3)
    assert growth.book.expected_bad_rate_amount == pytest.approx(0.036)
    assert (growth.book.observed_known, growth.book.observed_bads) == (3, 1)
    assert growth.book.observed_bad_rate == pytest.approx(1 / 3)
    assert growth.book.observed_bad_rate_amount == pytest.approx(0.2)
    assert growth.limit_reasons == {
        "REQUEST_BELOW_MIN": 1,
        "LIMIT_UNSIZED": 1,
        "LIMIT_BELOW_MIN": 1,
    }
    assert growth.policy_outcomes == {"pass": 7, "refer": 1, "decline": 1}
    # profit, one period: margin = A·T/12·(r − 2.5 % − 2 %); expected = (1 − p)·margin − p·A·0.45
    rates = [D("0.068871"), None, None]
    for i in (1, 2):
        rates[i] = price_loan(
            pd=ROWS[i][0], lgd=0.45, term_months=[24, 12][i - 1],
            policy=strategy("growth").pricing, product=product(),
        ).rate  # fmt: skip
    loans = [(D(300_000), 12, 0.02, 0), (D(100_000), 24, 0.05, 1), (D(100_000), 12, 0.07, 0)]
    expected = observed = D(0)
    for (amount, term, p, bad), rate in zip(loans, rates, strict=True):
        assert rate is not None
        margin = amount * term / 12 * (rate - D("0.045"))
        expected += (1 - D(repr(p))) * margin - D(repr(p)) * amount * D("0.45")
        observed += -amount * D("0.45") if bad else margin
    assert growth.book.expected_profit == expected.quantize(D("0.01"))
    assert growth.book.observed_profit == observed.quantize(D("0.01"))
    assert growth.book.mean_rate == pytest.approx(
        float(sum(a * r for (a, *_), r in zip(loans, rates, strict=True)) / D(500_000))  # type: ignore[operator]
    )
    # bands of the candidate
    assert [b.figures.applications for b in growth.bands] == [2, 2, 4, 1, 0]
    assert [b.figures.approved for b in growth.bands] == [0, 1, 2, 0, 0]
    assert growth.bands[2].observed_bad_rate == pytest.approx(1 / 4)
    assert growth.bands[4].mean_pd is None
    # swap set: rows 1–2 kept in, row 3 swapped in, nothing swapped out, six kept out
    swap = report.swap
    assert swap is not None
    assert {k: c.applications for k, c in swap.items()} == {
        "kept_in": 2,
        "swap_in": 1,
        "swap_out": 0,
        "kept_out": 6,
    }
    assert swap["kept_in"].candidate_amount == swap["kept_in"].current_amount == D("400000.00")
    assert swap["swap_in"].candidate_amount == D("100000.00")
    assert swap["swap_in"].current_amount == D("0.00")
    assert swap["swap_in"].expected_bad_rate == pytest.approx(0.07)
    assert swap["swap_in"].observed_bad_rate == 0.0
    assert swap["kept_in"].observed_bad_rate == pytest.approx(0.5)
    assert (swap["kept_out"].observed_known, swap["kept_out"].observed_bads) == (5, 2)
    assert swap["swap_out"].expected_bad_rate is None
    assert swap["swap_out"].observed_bad_rate is None
    # the other way round, the candidate's swap-in is the current's swap-out
    reverse = backtest(
        frame(), strategy("standard"), product(), current=strategy("growth"), target="default_12m"
    ).report.swap
    assert reverse is not None
    assert reverse["swap_out"].applications == 1
    assert reverse["swap_out"].current_amount == D("100000.00")
    # the cut-off curve runs over the seven policy passes: all of them at the top
    top = report.curve[-1]
    assert top.approval_rate == pytest.approx(7 / 9)
    assert top.observed_bad_rate == pytest.approx(2 / 6)  # rows 2 and 4 bad, row 8 unknown
    json = report.to_json()
    assert json["swap_set"]["swap_in"]["candidate_amount"] == "100000.00"
    assert json["candidate"]["approved_amount"] == "500000.00"


def test_without_outcomes_or_current() -> None:
    result = backtest(frame(), strategy("growth"), product())
    report = result.report
    assert report.swap is None
    assert report.current is None
    assert report.candidate.book.observed_known == 0
    assert report.candidate.book.observed_bad_rate is None
    assert report.candidate.book.observed_profit == D("0.00")
    assert all(p.observed_bad_rate is None for p in report.curve)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda f: f.drop("pd"), "pd"),
        (lambda f: f.with_columns(pd=pl.lit(1.5)), "pd"),
        (lambda f: f.with_columns(pd=pl.lit(None, pl.Float64)), "pd"),
        (lambda f: f.with_columns(policy_outcome=pl.lit("maybe")), "policy"),
        (lambda f: f.drop("requested_amount_fen"), "requested_amount_fen"),
        (lambda f: f.with_columns(requested_term=pl.lit(0)), "requested"),
        (lambda f: f.with_columns(default_12m=pl.lit(2)), "target"),
        (lambda f: f.with_columns(fin_max_affordable_fen=pl.lit("x")), "fin_max_affordable_fen"),
    ],
)
def test_bad_input_is_refused_naming_the_column(change: Any, field: str) -> None:
    with pytest.raises(InvalidInput, match=field):
        backtest(change(frame()), strategy("growth"), product(), target="default_12m")


def test_a_strategy_for_another_product_is_refused() -> None:
    other = next(p for p in load_catalogue() if p.code != "SME-OP")
    with pytest.raises(InvalidInput, match="product"):
        apply_strategy(frame(), strategy("growth"), other)


# --------------------------------------------------------------------------- random rows
def _random_frame(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)

    def maybe(values: Any, p_null: float) -> list[Any]:
        out = [float(v) for v in values]
        return [None if rng.random() < p_null else v for v in out]

    half = rng.integers(0, 2, n) * 0.5  # whole and half fen: the half-even rounding
    return pl.DataFrame(
        {
            "pd": np.exp(rng.uniform(np.log(1e-4), 0.0, n)),
            "policy_outcome": rng.choice(["pass", "refer", "decline"], n, p=[0.6, 0.25, 0.15]),
            "requested_amount_fen": rng.integers(1_000_000, 400_000_000, n),
            "requested_term": rng.integers(1, 61, n),
            "industry": rng.choice(["trade", "retail", "catering", "manufacturing"], n),
            "fin_max_affordable_fen": maybe(rng.integers(-1_000_000, 300_000_000, n) + half, 0.15),
            "flow_revenue_12m": maybe(rng.integers(-5, 2_000_000_000, n) + half, 0.3),
            "flow_months_12m": maybe(rng.integers(0, 13, n), 0.3),
            "fin_annual_sales_fen": maybe(rng.integers(0, 1_500_000_000, n) + half, 0.3),
            "fin_installment_ratio": maybe(rng.uniform(0.0, 1.0, n).round(3), 0.2),
        },
        schema_overrides={"fin_installment_ratio": pl.Float64},
    ).with_columns(
        fin_installment_ratio=pl.when(pl.int_range(pl.len()) % 97 == 0)
        .then(float("nan"))
        .otherwise(pl.col("fin_installment_ratio"))
    )


@pytest.mark.parametrize("name", ["standard", "growth"])
def test_random_rows_equal_the_scalar_functions(name: str) -> None:
    """Band, limit (every rounding), term, method and rate of 1,500 random rows equal
    :func:`size_limit`, :func:`suggest_term` and :func:`price_loan` called row by row."""
    s = strategy(name)
    data = _random_frame(1_500, seed=len(name))
    decided = apply_strategy(data, s, product())
    for i, row in enumerate(data.iter_rows(named=True)):
        mine = decided.row(i, named=True)
        band = s.band_for(row["pd"])
        features = {k: v for k, v in row.items() if v is not None}
        limit = size_limit(s, product(), band, features)
        term = suggest_term(s, product(), band, row["requested_term"], features, row["industry"])
        assert mine["band"] == band.grade
        assert mine["limit_fen"] == (None if limit.limit is None else int(limit.limit * 100)), i
        assert mine["binding"] == limit.binding
        assert (mine["term"], mine["method"]) == (term.term_months, term.method.value)
        action = s.action(Outcome(row["policy_outcome"]), band).value
        requested = D(row["requested_amount_fen"]) / 100
        if requested < product().amount_min or (
            limit.limit is not None and limit.limit < product().amount_min
        ):
            action = "decline"
        elif limit.limit is None and action == "approve":
            action = "refer"
        assert mine["action"] == action
        if mine["amount_fen"] is not None:
            assert limit.limit is not None
            assert mine["amount_fen"] == int(min(requested, limit.limit) * 100)
            quote = price_loan(
                pd=max(row["pd"], 1e-9), lgd=s.lgd, term_months=term.term_months,
                policy=s.pricing, product=product(), asset_class=s.asset_class,
            )  # fmt: skip
            assert mine["rate_ppm"] == int(quote.rate * 10**6)
        else:
            assert action == "decline" or limit.limit is None
    assert decided["limit_reason"].drop_nulls().n_unique() == 3


# --------------------------------------------------------------------------- the policy step
def test_the_compiled_shipped_policy_gives_the_engines_outcome() -> None:
    """The shipped knock-out table, compiled (with an outputPath added) and through zen-engine,
    on applications built to hit declines, referrals and nothing."""
    policy = load_policy_file(shipped_policy_path())
    graph = compilable_graph(policy.graph)
    assert all(
        n["content"].get("outputPath") == "_hits0"
        for n in graph["nodes"]
        if n["type"] == "decisionTableNode"
    )
    assert (
        "outputPath"
        not in next(n for n in policy.graph["nodes"] if n["type"] == "decisionTableNode")["content"]
    )  # the policy itself is untouched
    fields = policy_input_fields(graph)
    assert "soft_owner_age" in fields
    base: dict[str, Any] = {
        "soft_owner_age": 40.0,
        "industry": "retail",
        "bureau_overdue_months_3plus_24m": 0.0,
        "bureau_accounts_bad_class": 0.0,
        "bureau_accounts_delinquent_now": 0.0,
        "bureau_lending_institutions": 1.0,
        "bureau_hard_inquiry_institutions_3m": 0.0,
        "flow_round_trip_pairs_12m": 0.0,
        "flow_gambling_12m": 0.0,
        "fin_installment_ratio": 0.3,
        "bureau_credit_history_months": 48.0,
        "net_in_circle": 0.0,
        "bureau_enforcements": 0.0,
    }
    variants = [
        {},
        {"soft_owner_age": 17.0},
        {"fin_installment_ratio": 1.2},
        {"fin_installment_ratio": None},
        {"bureau_credit_history_months": 3.0, "soft_owner_age": 70.0},
        {"equity_check": "fail"},
        {"blacklist_hit": True},
        {"net_in_circle": 1.0, "flow_gambling_12m": 500.0},
    ]
    rows = [{**base, **v} for v in variants]
    data = pl.DataFrame(
        {f: [r.get(f) for r in rows] for f in fields},
        schema={f: (pl.String if f in ("industry", "equity_check", "sales_check") else
                    pl.Boolean if f == "blacklist_hit" else pl.Float64) for f in fields},
    )  # fmt: skip
    out = policy_outcomes(compile_graph(graph).evaluate(data))
    engine = PolicyEngine()
    for i, row in enumerate(rows):
        result = engine.evaluate(policy, {k: v for k, v in row.items() if v is not None})
        assert out["policy_outcome"][i] == result.outcome.value, (i, row)
        assert out["policy_codes"][i].to_list() == [h.code for h in result.hits]
    assert set(out["policy_outcome"].to_list()) == {"pass", "refer", "decline"}


def test_policy_outcomes_of_compiled_hits() -> None:
    hit = pl.Struct({"code": pl.String, "severity": pl.String})
    compiled = pl.DataFrame(
        {
            "_hits0": [[], [{"code": "R1", "severity": "refer"}], None, [
                {"code": "R1", "severity": "refer"}, {"code": "D1", "severity": "decline"}]],
            "_error": [None, None, "expr", None],
        },
        schema={"_hits0": pl.List(hit), "_error": pl.String},
    )  # fmt: skip
    out = policy_outcomes(compiled)
    assert out["policy_outcome"].to_list() == ["pass", "refer", "refer", "decline"]
    assert out["policy_codes"].to_list() == [[], ["R1"], [], ["R1", "D1"]]
    with pytest.raises(InvalidInput, match="policy"):
        policy_outcomes(pl.DataFrame({"x": [1]}))
