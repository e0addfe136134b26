"""Strategies (审批策略): bands, actions, limits, term and method, documents — worked by hand."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaowei.core.errors import InvalidInput
from xiaowei.decision.policy import Outcome
from xiaowei.decision.strategy import (
    Action,
    annual_revenue,
    load_strategy_file,
    parse_strategy,
    shipped_strategy_path,
    size_limit,
    suggest_term,
    worst,
)
from xiaowei.lending.catalogue import load_catalogue
from xiaowei.lending.schedule import RepaymentMethod

STANDARD = load_strategy_file(shipped_strategy_path())
GROWTH = load_strategy_file(shipped_strategy_path("sme-op-growth.json"))
PRODUCT = next(p for p in load_catalogue() if p.code == "SME-OP")


def _document() -> dict[str, Any]:
    return copy.deepcopy(STANDARD.document)


def test_shipped_strategies_load_with_their_hash() -> None:
    assert STANDARD.key == "SME-OP-STD@1"
    assert [b.grade for b in STANDARD.bands] == ["A", "B", "C", "D", "E"]
    assert STANDARD.product == GROWTH.product == "SME-OP"
    assert STANDARD.policy == "SME-OP-KO"
    assert len(STANDARD.sha256) == 64
    assert STANDARD.sha256 != GROWTH.sha256
    # re-indenting the file does not change its identity
    again = parse_strategy(json.loads(json.dumps(STANDARD.document, indent=4)))
    assert again.sha256 == STANDARD.sha256


@pytest.mark.parametrize(
    ("pd", "grade"),
    [(0.0003, "A"), (0.01, "A"), (0.010001, "B"), (0.03, "B"), (0.06, "C"), (0.12, "D")],
)
def test_a_pd_belongs_to_the_first_band_it_does_not_exceed(pd: float, grade: str) -> None:
    assert STANDARD.band_for(pd).grade == grade


def test_the_last_band_catches_every_pd() -> None:
    assert STANDARD.band_for(0.5).grade == "E"
    assert STANDARD.band_for(1.0).action is Action.DECLINE


@pytest.mark.parametrize(
    ("outcome", "grade", "expected"),
    [
        (Outcome.PASS, "A", Action.APPROVE),
        (Outcome.REFER, "A", Action.REFER),
        (Outcome.DECLINE, "A", Action.DECLINE),
        (Outcome.PASS, "D", Action.REFER),
        (Outcome.REFER, "D", Action.REFER),
        (Outcome.PASS, "E", Action.DECLINE),
        (Outcome.REFER, "E", Action.DECLINE),
    ],
)
def test_action_is_the_worse_of_policy_and_band(
    outcome: Outcome, grade: str, expected: Action
) -> None:
    band = next(b for b in STANDARD.bands if b.grade == grade)
    assert STANDARD.action(outcome, band) is expected


def test_a_policy_referral_can_be_waived_by_the_strategy() -> None:
    doc = _document()
    doc["refer_on_policy_refer"] = False
    lenient = parse_strategy(doc)
    assert lenient.action(Outcome.REFER, lenient.bands[0]) is Action.APPROVE
    assert lenient.action(Outcome.DECLINE, lenient.bands[0]) is Action.DECLINE


@given(st.lists(st.sampled_from(list(Action)), min_size=1, max_size=5))
def test_worst_is_the_most_severe(actions: list[Action]) -> None:
    ranks = {Action.APPROVE: 0, Action.REFER: 1, Action.DECLINE: 2}
    assert ranks[worst(*actions)] == max(ranks[a] for a in actions)


# --------------------------------------------------------------------------- limits
def test_capacity_binds_and_the_limit_is_rounded_down_to_a_thousand() -> None:
    """Capacity 153,573.16; revenue 2,700,000 over 9 months → 3,600,000 a year × 0.25 =
    900,000; band C cap 1,000,000; product 3,000,000 → 153,573.16 → 153,000.00."""
    features = {
        "fin_max_affordable_fen": 15_357_316,
        "flow_revenue_12m": 270_000_000,
        "flow_months_12m": 9,
    }
    band = STANDARD.band_for(0.05)
    result = size_limit(STANDARD, PRODUCT, band, features)
    amounts = {c.name: c.amount for c in result.components}
    assert amounts == {
        "product_max": Decimal("3000000"),
        "capacity": Decimal("153573.16"),
        "revenue": Decimal("900000.00"),
        "band_cap": Decimal("1000000"),
    }
    assert result.binding == "capacity"
    assert result.limit == Decimal("153000.00")


def test_declared_sales_stand_in_when_the_statements_give_no_revenue() -> None:
    """No statement revenue: declared annual sales 2,000,000 × 0.25 = 500,000 binds in band B
    (cap 2,000,000) against a capacity of 5,000,000."""
    features = {"fin_max_affordable_fen": 500_000_000, "fin_annual_sales_fen": 200_000_000}
    assert annual_revenue(features) == (Decimal("2000000.00"), "fin_annual_sales_fen")
    result = size_limit(STANDARD, PRODUCT, STANDARD.band_for(0.02), features)
    assert (result.binding, result.limit) == ("revenue", Decimal("500000.00"))


def test_the_product_maximum_binds_for_a_large_strong_business() -> None:
    features = {
        "fin_max_affordable_fen": 10_000_000_000,
        "flow_revenue_12m": 4_000_000_000,
        "flow_months_12m": 12,
    }
    result = size_limit(STANDARD, PRODUCT, STANDARD.band_for(0.005), features)
    assert (result.binding, result.limit) == ("product_max", Decimal("3000000.00"))


def test_without_capacity_and_revenue_the_loan_cannot_be_sized() -> None:
    result = size_limit(STANDARD, PRODUCT, STANDARD.band_for(0.02), {"flow_months_12m": 0})
    assert result.limit is None
    assert result.binding is None
    assert {c.name: c.amount for c in result.components}["capacity"] is None


def test_a_negative_capacity_counts_as_zero() -> None:
    features = {"fin_max_affordable_fen": -5_000, "fin_annual_sales_fen": 100_000_000}
    result = size_limit(STANDARD, PRODUCT, STANDARD.band_for(0.02), features)
    assert (result.binding, result.limit) == ("capacity", Decimal("0.00"))


@given(
    capacity=st.integers(min_value=0, max_value=10**11),
    revenue=st.integers(min_value=1, max_value=10**11),
    pd=st.floats(min_value=0.0003, max_value=1.0),
)
def test_the_limit_never_exceeds_any_component(capacity: int, revenue: int, pd: float) -> None:
    features = {"fin_max_affordable_fen": capacity, "fin_annual_sales_fen": revenue}
    result = size_limit(STANDARD, PRODUCT, STANDARD.band_for(pd), features)
    assert result.limit is not None
    assert result.limit % 1000 == 0
    for component in result.components:
        assert component.amount is not None
        assert result.limit <= component.amount
        assert component.amount - result.limit < 1000 or component.name != result.binding


# --------------------------------------------------------------------------- term and method
def test_the_term_is_clamped_to_the_band_and_the_product() -> None:
    band_c = STANDARD.band_for(0.05)
    longer = suggest_term(STANDARD, PRODUCT, band_c, 48, {}, "service")
    assert longer.term_months == 24
    assert longer.term_reason == "shortened to the band maximum of 24 months"
    shorter = suggest_term(STANDARD, PRODUCT, STANDARD.band_for(0.005), 1, {}, "service")
    assert shorter.term_months == 3
    assert shorter.term_reason == "lengthened to the product minimum of 3 months"
    asked = suggest_term(STANDARD, PRODUCT, band_c, 18, {}, "service")
    assert (asked.term_months, asked.term_reason) == (18, "as requested")


def test_the_method_follows_the_business() -> None:
    band_a = STANDARD.band_for(0.005)
    trader = suggest_term(STANDARD, PRODUCT, band_a, 12, {}, "trade")
    assert trader.method is RepaymentMethod.INTEREST_ONLY
    long_trader = suggest_term(STANDARD, PRODUCT, band_a, 24, {}, "trade")
    assert long_trader.method is RepaymentMethod.EQUAL_INSTALLMENT
    roomy = suggest_term(STANDARD, PRODUCT, band_a, 36, {"fin_installment_ratio": 0.3}, "service")
    assert roomy.method is RepaymentMethod.EQUAL_PRINCIPAL
    tight = suggest_term(STANDARD, PRODUCT, band_a, 36, {"fin_installment_ratio": 0.5}, "service")
    assert tight.method is RepaymentMethod.EQUAL_INSTALLMENT
    unknown = suggest_term(STANDARD, PRODUCT, band_a, 36, {}, None)
    assert unknown.method is RepaymentMethod.EQUAL_INSTALLMENT


# --------------------------------------------------------------------------- documents
@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(format="other"), "strategy.format"),
        (lambda d: d.update(version=0), "version"),
        (lambda d: d.update(policy=""), "policy"),
        (lambda d: d["bands"][1].update(pd_max=0.005), "bands[1].pd_max"),
        (lambda d: d["bands"][-1].update(pd_max=0.5), "bands"),
        (lambda d: d["bands"][0].update(action="maybe"), "bands[0].action"),
        (lambda d: d["bands"][0].update(limit_cap=1000.5), "bands[0].limit_cap"),
        (lambda d: d["bands"][1].update(grade="A"), "bands[1].grade"),
        (lambda d: d["limit"].update(revenue_multiple="-1"), "limit.revenue_multiple"),
        (lambda d: d["pricing"].update(lgd=1.5), "pricing.lgd"),
        (lambda d: d["pricing"].update(surprise="1"), "pricing"),
        (lambda d: d["term"].update(default_method="monthly"), "term.default_method"),
    ],
)
def test_a_bad_document_names_its_field(change: Any, field: str) -> None:
    doc = _document()
    change(doc)
    with pytest.raises(InvalidInput) as raised:
        parse_strategy(doc)
    assert raised.value.field == field


def test_a_file_that_is_not_json_is_refused(tmp_path: Any) -> None:
    bad = tmp_path / "s.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not JSON"):
        load_strategy_file(bad)
    with pytest.raises(InvalidInput, match="is not a file"):
        load_strategy_file(tmp_path / "missing.json")
