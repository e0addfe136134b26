"""The automated decision (大数据风控自动审批) on a small fitted scorecard and the shipped policy.

Each part of a record is checked against the part computed on its own (policy engine, scorer,
band, size_limit, suggest_term, price_loan, generate_schedule); the record's hash is
deterministic and replayable; the champion/challenger split is a pure function of the id.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.adapters.model_artefact import Artefact
from xiaowei.core.errors import InvalidInput
from xiaowei.decision.automated import (
    Application,
    Experiment,
    application_from_row,
    decide,
    parse_application,
    replay_matches,
    result_sha256,
)
from xiaowei.decision.policy import PolicyEngine, load_policy_file, shipped_policy_path
from xiaowei.decision.pricing import price_loan
from xiaowei.decision.strategy import (
    Action,
    load_strategy_file,
    shipped_strategy_path,
    size_limit,
    suggest_term,
)
from xiaowei.lending.catalogue import load_catalogue
from xiaowei.lending.schedule import ScheduleTerms, generate_schedule
from xiaowei.scoring.calibration import Calibrator, MasterScale
from xiaowei.scoring.realtime import RealtimeScorer
from xiaowei.scoring.scorecard import Scorecard
from xiaowei.services.scoring import score_frame

POLICY = load_policy_file(shipped_policy_path())
STRATEGY = load_strategy_file(shipped_strategy_path())
GROWTH = load_strategy_file(shipped_strategy_path("sme-op-growth.json"))
PRODUCT = next(p for p in load_catalogue() if p.code == "SME-OP")
ENGINE = PolicyEngine()
INDUSTRIES = ["trade", "service", "catering", "manufacturing"]


def _training(n: int, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    ratio = rng.uniform(0.0, 1.2, n)
    inquiries = rng.poisson(1.5, n)
    industry = rng.choice(INDUSTRIES, n)
    owns = rng.random(n) < 0.5
    logit = -3.2 + 2.0 * ratio + 0.4 * inquiries + 0.8 * (industry == "catering") - 0.5 * owns
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    ratio_list: list[float | None] = ratio.tolist()
    for i in range(0, n, 10):
        ratio_list[i] = None
    frame = pl.DataFrame(
        {
            "fin_installment_ratio": ratio_list,
            "bureau_hard_inquiries_3m": inquiries.tolist(),
            "industry": industry.tolist(),
            "soft_owns_home": owns.tolist(),
        }
    )
    return frame, y


@pytest.fixture(scope="module")
def fitted() -> tuple[Scorecard, Calibrator, MasterScale]:
    frame, y = _training(4000, 7)
    card = Scorecard().fit(frame.with_columns(pl.col("soft_owns_home").cast(pl.Int8)), y)
    calibrator = Calibrator().fit(np.asarray(card.score(frame), dtype=np.float64), y)
    return card, calibrator, MasterScale()


@pytest.fixture(scope="module")
def scorer(fitted: tuple[Scorecard, Calibrator, MasterScale]) -> RealtimeScorer:
    card, calibrator, scale = fitted
    identity = {"name": "test-card", "version": 1, "kind": "scorecard", "sha256": "0" * 64}
    return RealtimeScorer(card, calibrator=calibrator, master_scale=scale, identity=identity)


CLEAN: dict[str, Any] = {
    "soft_owner_age": 40,
    "fin_installment_ratio": 0.2,
    "bureau_credit_history_months": 60,
    "bureau_overdue_months_3plus_24m": 0,
    "bureau_accounts_bad_class": 0,
    "bureau_accounts_delinquent_now": 0,
    "bureau_lending_institutions": 2,
    "bureau_hard_inquiry_institutions_3m": 1,
    "bureau_hard_inquiries_3m": 0,
    "flow_round_trip_pairs_12m": 0,
    "flow_gambling_12m": 0,
    "net_in_circle": 0,
    "bureau_enforcements": 0,
    "soft_owns_home": True,
    "fin_max_affordable_fen": 30_000_000,  # 300,000 CNY
    "flow_revenue_12m": 240_000_000,  # 2.4 million CNY in 12 months
    "flow_months_12m": 12,
}
FIELDS = {
    "industry": "trade",
    "blacklist_hit": False,
    "equity_check": "pass",
    "sales_check": "pass",
}


def _application(
    amount: str = "200000.00", term: int = 12, fields: Any = None, **features: Any
) -> Application:
    return Application(
        application_id="APP-T-1",
        product="SME-OP",
        as_of=date(2026, 3, 10),
        requested_amount=Decimal(amount),
        requested_term=term,
        fields={**FIELDS, **(fields or {})},
        features={**CLEAN, **features},
    )


def _decide(app: Application, scorer: RealtimeScorer, strategy: Any = STRATEGY) -> Any:
    return decide(
        app, strategy=strategy, policy=POLICY, product=PRODUCT, scorer=scorer, engine=ENGINE
    )


# --------------------------------------------------------------------------- the scorer
def test_realtime_scores_equal_the_batch_path(
    fitted: tuple[Scorecard, Calibrator, MasterScale], scorer: RealtimeScorer
) -> None:
    """Every row of a fresh sample — missing ratios, NaN, booleans, an unseen industry — gets
    the batch path's score, PD, grade and reason codes exactly."""
    card, calibrator, scale = fitted
    frame, _ = _training(500, 99)
    rows = frame.to_dicts()
    rows[1]["industry"] = "mining"  # never seen at fit
    rows[2]["fin_installment_ratio"] = float("nan")
    rows[3]["industry"] = None
    frame = pl.DataFrame(rows).with_columns(
        pl.col("soft_owns_home").cast(pl.Int8), business_id=pl.int_range(pl.len())
    )
    artefact = Artefact(model=card, manifest={}, calibrator=calibrator, master_scale=scale)
    batch = score_frame(artefact, frame, n_reasons=4).to_dicts()
    for row, expected in zip(rows, batch, strict=True):
        got = scorer.score(row)
        codes = [expected[f"reason_{k}"] for k in range(1, 5) if expected[f"reason_{k}"]]
        assert (got.score, got.pd, got.grade) == (
            expected["score"],
            expected["pd"],
            expected["grade"],
        )
        assert [r.code for r in got.reasons] == codes


def test_a_text_in_a_numeric_feature_is_refused(scorer: RealtimeScorer) -> None:
    with pytest.raises(InvalidInput, match="fin_installment_ratio"):
        scorer.score({**CLEAN, "fin_installment_ratio": "high"})


# --------------------------------------------------------------------------- decisions
def test_an_approval_is_composed_of_its_parts(scorer: RealtimeScorer) -> None:
    app = _application()
    record = _decide(app, scorer)
    policy = ENGINE.evaluate(POLICY, app.context())
    score = scorer.score(app.context())  # the model reads the industry field too
    band = STRATEGY.band_for(score.pd)
    assert policy.outcome.value == "pass"
    assert record.action is STRATEGY.action(policy.outcome, band)
    assert record.action is Action.APPROVE, f"PD {score.pd} fell in band {band.grade}"
    limit = size_limit(STRATEGY, PRODUCT, band, app.features)
    assert record.limit == limit
    assert limit.limit == Decimal("300000.00")  # capacity 300,000 < revenue 600,000
    assert record.amount == Decimal("200000.00")
    assert not record.counter_offer
    term = suggest_term(STRATEGY, PRODUCT, band, 12, app.features, "trade")
    assert record.term == term
    quote = price_loan(
        pd=score.pd, lgd=0.45, term_months=12, policy=STRATEGY.pricing, product=PRODUCT
    )
    assert record.price == quote
    offer = record.result["offer"]
    assert offer["rate"] == str(quote.rate)
    schedule = generate_schedule(
        ScheduleTerms(
            principal=Decimal("200000.00"),
            annual_rate=quote.rate,
            term_months=12,
            start_date=date(2026, 3, 10),
            method=term.method,
            repayment_day=PRODUCT.repayment_day,
            rounding=PRODUCT.rounding,
            day_count=PRODUCT.day_count,
            interest_basis=PRODUCT.interest_basis,
        )
    )
    assert offer["schedule"]["total_interest"] == str(schedule.total_interest)
    assert offer["schedule"]["first_payment"] == str(schedule.installments[0].total)
    assert offer["schedule"]["installments"] == 12
    assert record.versions["policy"] == {
        "code": "SME-OP-KO",
        "version": 1,
        "sha256": POLICY.sha256,
    }
    assert record.versions["strategy"]["sha256"] == STRATEGY.sha256
    assert record.versions["model"]["name"] == "test-card"
    assert record.reasons == ()


def test_a_request_above_the_limit_gets_a_counter_offer(scorer: RealtimeScorer) -> None:
    record = _decide(_application(amount="500000.00"), scorer)
    assert record.action is Action.APPROVE
    assert (record.amount, record.counter_offer) == (Decimal("300000.00"), True)


def test_a_policy_decline_gives_no_offer_and_every_reason(scorer: RealtimeScorer) -> None:
    app = _application(fields={"blacklist_hit": True}, bureau_accounts_delinquent_now=1)
    record = _decide(app, scorer)
    assert record.action is Action.DECLINE
    assert record.amount is None
    assert record.price is None
    assert record.result["offer"] is None
    codes = [r["code"] for r in record.reasons]
    assert codes[:2] == ["KO_BLACKLIST", "KO_CURRENT_OVERDUE"]
    hit = record.reasons[1]
    assert hit["values"] == {"bureau_accounts_delinquent_now": 1}
    assert hit["reason_zh"]
    assert hit["reason_en"]


def test_a_capacity_below_the_product_minimum_declines(scorer: RealtimeScorer) -> None:
    record = _decide(_application(fin_max_affordable_fen=2_000_000), scorer)
    assert record.action is Action.DECLINE
    assert [r["code"] for r in record.reasons] == ["LIMIT_BELOW_MIN"]
    assert record.limit.limit == Decimal("20000.00")


def test_a_request_below_the_product_minimum_declines(scorer: RealtimeScorer) -> None:
    record = _decide(_application(amount="10000.00"), scorer)
    assert record.action is Action.DECLINE
    assert "REQUEST_BELOW_MIN" in [r["code"] for r in record.reasons]


def test_an_unsizeable_loan_is_referred(scorer: RealtimeScorer) -> None:
    app = _application(fin_max_affordable_fen=None, flow_revenue_12m=None)
    record = _decide(app, scorer)
    assert record.action is Action.REFER
    assert "LIMIT_UNSIZED" in [r["code"] for r in record.reasons]
    assert record.result["offer"] is None


def test_a_referral_still_carries_a_proposed_offer(scorer: RealtimeScorer) -> None:
    record = _decide(_application(bureau_enforcements=1), scorer)
    assert record.action is Action.REFER
    assert record.result["offer"] is not None  # the reviewer starts from it


def test_the_record_is_deterministic_and_replayable(scorer: RealtimeScorer) -> None:
    app = _application()
    first, second = _decide(app, scorer), _decide(app, scorer)
    assert first.result == second.result
    assert first.result_sha256 == second.result_sha256
    stored = json.loads(json.dumps(first.to_json()))
    assert result_sha256(stored) == first.result_sha256
    assert replay_matches(stored, second)
    other = _decide(_application(bureau_hard_inquiries_3m=3), scorer)
    assert other.result_sha256 != first.result_sha256
    assert not replay_matches(stored, other)
    assert set(first.timing_us) == {
        "policy",
        "model",
        "strategy",
        "pricing",
        "schedule",
        "record",
        "total",
    }


def test_the_application_document_round_trips(scorer: RealtimeScorer) -> None:
    app = _application()
    again = parse_application(json.loads(json.dumps(app.to_json())))
    assert again == app
    assert again.sha256 == app.sha256
    assert _decide(again, scorer).result_sha256 == _decide(app, scorer).result_sha256


def test_strategy_policy_and_product_must_agree(scorer: RealtimeScorer) -> None:
    app = _application()
    other_product = next(p for p in load_catalogue() if p.code != "SME-OP")
    with pytest.raises(InvalidInput, match="must agree"):
        decide(
            app,
            strategy=STRATEGY,
            policy=POLICY,
            product=other_product,
            scorer=scorer,
            engine=ENGINE,
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"requested_amount": Decimal("-1")}, "requested_amount"),
        ({"requested_amount": Decimal("100.001")}, "requested_amount"),
        ({"requested_term": 0}, "requested_term"),
        ({"application_id": " "}, "application_id"),
        ({"fields": {"colour": "red"}}, "fields.colour"),
    ],
)
def test_an_impossible_application_is_refused(change: dict[str, Any], field: str) -> None:
    base: dict[str, Any] = {
        "application_id": "A-1",
        "product": "SME-OP",
        "as_of": date(2026, 1, 5),
        "requested_amount": Decimal("100000"),
        "requested_term": 12,
        "fields": {},
        "features": {},
    }
    with pytest.raises(InvalidInput) as raised:
        Application(**{**base, **change})
    assert raised.value.field == field


def test_an_amount_written_as_a_float_is_refused() -> None:
    document = {**_application().to_json(), "requested_amount": 200000.5}
    with pytest.raises(InvalidInput, match="as a string"):
        parse_application(document)


def test_a_feature_table_row_leaves_outcomes_out() -> None:
    row = {
        "business_id": 12,
        "application_date": date(2025, 6, 30),
        "industry": "trade",
        "region": "GZ",
        "requested_amount_fen": 30_000_000,
        "requested_term": 12,
        "default_12m": 1,
        **CLEAN,
    }
    app = application_from_row(row, product="SME-OP")
    assert app.application_id == "APP-000012"
    assert app.requested_amount == Decimal("300000.00")
    assert app.fields == {"industry": "trade", "region": "GZ"}
    assert "default_12m" not in app.features
    assert "business_id" not in app.features
    assert app.context()["requested_amount_fen"] == 30_000_000


# --------------------------------------------------------------------------- champion/challenger
def test_the_split_is_a_pure_function_of_the_id() -> None:
    experiment = Experiment.champion_challenger("CC", "2026Q4", "champion", [("challenger", 0.2)])
    ids = [f"APP-{i:06d}" for i in range(20_000)]
    arms = [experiment.assign(i) for i in ids]
    assert [experiment.assign(i) for i in reversed(ids)] == arms[::-1]
    share = arms.count("challenger") / len(arms)
    assert 0.19 < share < 0.21  # 20 % ± 5 standard errors (0.28 %)
    resalted = Experiment.champion_challenger("CC", "other", "champion", [("challenger", 0.2)])
    moved = sum(a != resalted.assign(i) for a, i in zip(arms, ids, strict=True))
    assert moved > 4_000  # a new salt reshuffles the arms
    # the bucket is the first 8 bytes of sha256("2026Q4:APP-000000") over 2^64
    import hashlib

    digest = hashlib.sha256(b"2026Q4:APP-000000").digest()
    assert experiment.bucket("APP-000000") == int.from_bytes(digest[:8], "big") / 2.0**64


@pytest.mark.parametrize(
    "arms",
    [[], [("a", 0.5), ("a", 0.5)], [("a", 0.7), ("b", 0.7)], [("a", 1.5), ("b", -0.5)]],
)
def test_a_bad_split_is_refused(arms: list[tuple[str, float]]) -> None:
    from xiaowei.decision.automated import Arm

    with pytest.raises(InvalidInput):
        Experiment("X", "s", tuple(Arm(n, s) for n, s in arms))


def test_the_growth_challenger_prices_with_its_own_margin(scorer: RealtimeScorer) -> None:
    app = _application()
    champion, challenger = _decide(app, scorer), _decide(app, scorer, GROWTH)
    assert champion.price is not None
    assert challenger.price is not None
    if champion.price.bound is None and challenger.price.bound is None:
        assert challenger.price.rate - champion.price.rate == Decimal("0.005")


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_the_realtime_pd_equals_the_calibrator(
    fitted: tuple[Scorecard, Calibrator, MasterScale], method: str
) -> None:
    card, _, scale = fitted
    frame, y = _training(4000, 7)
    calibrator = Calibrator(method=method).fit(np.asarray(card.score(frame), dtype=np.float64), y)
    scorer = RealtimeScorer(card, calibrator=calibrator, master_scale=scale)
    outputs = np.linspace(-2000.0, 3000.0, 5001)
    expected = calibrator.transform(outputs)
    assert [scorer._pd(float(s)) for s in outputs] == expected.tolist()
    assert scorer._pd(-1e6) == calibrator.transform(np.asarray([-1e6]))[0]  # e^z overflows


_amounts = st.integers(min_value=1_000, max_value=6_000_000).map(lambda y: Decimal(y))


@settings(max_examples=150, deadline=None)
@given(
    requested=_amounts,
    term=st.integers(min_value=1, max_value=60),
    capacity=st.one_of(st.none(), st.integers(min_value=-(10**6), max_value=10**10)),
    revenue=st.one_of(st.none(), st.integers(min_value=0, max_value=10**11)),
    ratio=st.one_of(st.none(), st.floats(min_value=0.0, max_value=3.0)),
    inquiries=st.integers(min_value=0, max_value=8),
    age=st.integers(min_value=16, max_value=80),
    industry=st.sampled_from([*INDUSTRIES, "finance"]),
)
def test_every_decision_keeps_its_invariants(
    scorer: RealtimeScorer,
    requested: Decimal,
    term: int,
    capacity: int | None,
    revenue: int | None,
    ratio: float | None,
    inquiries: int,
    age: int,
    industry: str,
) -> None:
    """Whatever the credit file: a decline carries no offer and a reason; an offer is within
    the request, the limit and the product, priced within the floor and the ceiling, on a term
    and method the product and the band allow; the limit is a round thousand; the record's
    hash is the same when decided again."""
    app = _application(
        amount=f"{requested}.00",
        term=term,
        fields={"industry": industry},
        fin_max_affordable_fen=capacity,
        flow_revenue_12m=revenue,
        fin_installment_ratio=ratio,
        bureau_hard_inquiries_3m=inquiries,
        soft_owner_age=age,
    )
    record = _decide(app, scorer)
    again = _decide(app, scorer)
    assert record.result_sha256 == again.result_sha256
    offer = record.result["offer"]
    if record.limit.limit is not None:
        assert record.limit.limit % 1000 == 0
        assert record.limit.limit <= PRODUCT.amount_max
    if record.action is Action.DECLINE:
        assert offer is None
        assert record.reasons
        return
    if record.action is Action.REFER:
        assert record.reasons
    if offer is None:
        assert "LIMIT_UNSIZED" in [r["code"] for r in record.reasons]
        return
    assert record.amount is not None
    assert record.limit.limit is not None
    assert record.amount == min(requested, record.limit.limit)
    assert PRODUCT.amount_min <= record.amount <= PRODUCT.amount_max
    assert record.counter_offer == (record.amount < requested)
    assert record.price is not None
    assert record.price.floor <= record.price.rate <= record.price.ceiling
    band = STRATEGY.band_for(record.score.pd)
    longest = PRODUCT.term_max if band.term_max is None else min(PRODUCT.term_max, band.term_max)
    assert PRODUCT.term_min <= record.term.term_months <= longest
    assert record.term.method in PRODUCT.methods
    assert offer["schedule"]["installments"] >= 1
