"""Policy rules as JDM graphs on zen-engine: every reason collected, validation naming node/row."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.core.errors import InvalidInput
from xiaowei.decision.policy import (
    APPLICATION_FIELDS,
    SMOKE_CONTEXT,
    Outcome,
    PolicyEngine,
    graph_sha256,
    load_policy_file,
    load_policy_text,
    parse_policy_document,
    policy_context,
    shipped_policy_path,
)

POLICY = load_policy_file(shipped_policy_path())
ENGINE = PolicyEngine()
CLEAN: dict[str, Any] = {
    **SMOKE_CONTEXT,
    "bureau_overdue_months_3plus_24m": 0,
    "bureau_accounts_bad_class": 0,
    "bureau_accounts_delinquent_now": 0,
    "bureau_lending_institutions": 2,
    "bureau_hard_inquiry_institutions_3m": 1,
    "flow_round_trip_pairs_12m": 0,
    "flow_gambling_12m": 0,
    "net_in_circle": 0,
    "bureau_enforcements": 0,
}


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(shipped_policy_path().read_text(encoding="utf-8"))
    return document


def _codes(context: dict[str, Any]) -> list[str]:
    return [h.code for h in ENGINE.evaluate(POLICY, context).hits]


def test_shipped_policy_metadata() -> None:
    assert (POLICY.code, POLICY.version, POLICY.product) == ("SME-OP-KO", 1, "SME-OP")
    assert len(POLICY.rules()) == 22
    assert POLICY.sha256 == graph_sha256(_document())


def test_clean_applicant_passes() -> None:
    result = ENGINE.evaluate(POLICY, CLEAN)
    assert result.outcome is Outcome.PASS
    assert result.hits == ()
    assert (result.policy_code, result.policy_version) == ("SME-OP-KO", 1)
    assert result.policy_sha256 == POLICY.sha256
    assert result.elapsed_us > 0


@pytest.mark.parametrize(
    ("change", "code", "outcome"),
    [
        pytest.param({"soft_owner_age": 17}, "KO_AGE", Outcome.DECLINE, id="age-17"),
        pytest.param({"soft_owner_age": 66}, "KO_AGE", Outcome.DECLINE, id="age-66"),
        pytest.param({"blacklist_hit": True}, "KO_BLACKLIST", Outcome.DECLINE, id="blacklist"),
        pytest.param({"industry": "real_estate"}, "KO_INDUSTRY", Outcome.DECLINE, id="industry"),
        pytest.param(
            {"bureau_overdue_months_3plus_24m": 1}, "KO_BUREAU_SERIOUS", Outcome.DECLINE, id="m3"
        ),
        pytest.param({"bureau_accounts_bad_class": 1}, "KO_BUREAU_BAD_CLASS", Outcome.DECLINE),
        pytest.param({"bureau_accounts_delinquent_now": 1}, "KO_CURRENT_OVERDUE", Outcome.DECLINE),
        pytest.param({"bureau_lending_institutions": 5}, "KO_MULTI_LENDING", Outcome.DECLINE),
        pytest.param(
            {"bureau_hard_inquiry_institutions_3m": 4}, "KO_HARD_INQUIRIES", Outcome.DECLINE
        ),
        pytest.param({"flow_round_trip_pairs_12m": 12}, "KO_ROUND_TRIP", Outcome.DECLINE),
        pytest.param({"flow_round_trip_pairs_12m": 4}, "REF_ROUND_TRIP", Outcome.REFER),
        pytest.param({"flow_gambling_12m": 1_000_000}, "KO_GAMBLING", Outcome.DECLINE),
        pytest.param({"flow_gambling_12m": 999_999}, "REF_GAMBLING", Outcome.REFER),
        pytest.param({"equity_check": "fail"}, "KO_EQUITY_CHECK", Outcome.DECLINE),
        pytest.param({"sales_check": "fail"}, "KO_SALES_CHECK", Outcome.DECLINE),
        pytest.param({"equity_check": "explain"}, "REF_EQUITY_EXPLAIN", Outcome.REFER),
        pytest.param({"sales_check": "explain"}, "REF_SALES_EXPLAIN", Outcome.REFER),
        pytest.param({"fin_installment_ratio": 1.51}, "KO_CAPACITY", Outcome.DECLINE),
        pytest.param({"fin_installment_ratio": 1.5}, "REF_CAPACITY", Outcome.REFER),
        pytest.param({"fin_installment_ratio": None}, "REF_CAPACITY_UNKNOWN", Outcome.REFER),
        pytest.param({"bureau_credit_history_months": 5}, "REF_THIN_FILE", Outcome.REFER),
        pytest.param({"bureau_credit_history_months": None}, "REF_THIN_FILE", Outcome.REFER),
        pytest.param({"net_in_circle": 1}, "REF_GUARANTEE_CIRCLE", Outcome.REFER),
        pytest.param({"bureau_enforcements": 1}, "REF_ENFORCEMENT", Outcome.REFER),
    ],
)
def test_each_rule_fires_alone(change: dict[str, Any], code: str, outcome: Outcome) -> None:
    result = ENGINE.evaluate(POLICY, {**CLEAN, **change})
    assert [h.code for h in result.hits] == [code]
    assert result.outcome is outcome
    ((field, value),) = change.items()
    assert result.hits[0].values == {field: value}  # a missing value is reported as None


@pytest.mark.parametrize(
    "change",
    [
        {"soft_owner_age": 18},
        {"soft_owner_age": 65},
        {"fin_installment_ratio": 1.0},
        {"flow_round_trip_pairs_12m": 3},
        {"bureau_lending_institutions": 4},
        {"bureau_credit_history_months": 6},
    ],
)
def test_boundaries_pass(change: dict[str, Any]) -> None:
    assert _codes({**CLEAN, **change}) == []


def test_every_reason_is_collected() -> None:
    """Collect hit policy: three knock-outs and a referral come back together, in table order."""
    context = {
        **CLEAN,
        "soft_owner_age": 70,
        "blacklist_hit": True,
        "bureau_accounts_delinquent_now": 2,
        "net_in_circle": 1,
    }
    result = ENGINE.evaluate(POLICY, context)
    assert [h.code for h in result.hits] == [
        "KO_AGE",
        "KO_BLACKLIST",
        "KO_CURRENT_OVERDUE",
        "REF_GUARANTEE_CIRCLE",
    ]
    assert result.outcome is Outcome.DECLINE
    assert result.hits[0].reason_zh == "经营者年龄不在18至65周岁之间"
    assert result.hits[0].reason_en == "Owner's age is outside 18 to 65"
    assert result.to_json()["hits"][2]["values"] == {"bureau_accounts_delinquent_now": 2}


@settings(max_examples=60, deadline=None)
@given(
    age=st.one_of(st.none(), st.integers(0, 100)),
    ratio=st.one_of(st.none(), st.floats(0, 5, allow_nan=False)),
    pairs=st.integers(0, 40),
    blacklist=st.booleans(),
)
def test_outcome_is_the_worst_severity(
    age: int | None, ratio: float | None, pairs: int, blacklist: bool
) -> None:
    """Property: outcome = decline if any decline hit, refer if any refer hit, else pass; and
    the hits equal a plain-Python reading of the same thresholds."""
    context = {
        **CLEAN,
        "soft_owner_age": age,
        "fin_installment_ratio": ratio,
        "flow_round_trip_pairs_12m": pairs,
        "blacklist_hit": blacklist,
    }
    result = ENGINE.evaluate(POLICY, context)
    expected = []
    if age is not None and (age < 18 or age > 65):
        expected.append("KO_AGE")
    if blacklist:
        expected.append("KO_BLACKLIST")
    if pairs >= 12:
        expected.append("KO_ROUND_TRIP")
    if ratio is not None and ratio > 1.5:
        expected.append("KO_CAPACITY")
    if ratio is not None and 1 < ratio <= 1.5:
        expected.append("REF_CAPACITY")
    if ratio is None:
        expected.append("REF_CAPACITY_UNKNOWN")
    if 4 <= pairs < 12:
        expected.append("REF_ROUND_TRIP")
    assert [h.code for h in result.hits] == expected
    severities = {h.severity for h in result.hits}
    want = (
        Outcome.DECLINE
        if "decline" in severities
        else Outcome.REFER
        if severities
        else Outcome.PASS
    )
    assert result.outcome is want


def test_sha_ignores_formatting_but_not_content() -> None:
    doc = _document()
    reformatted = load_policy_text(json.dumps(doc, indent=None, sort_keys=True))
    assert reformatted.sha256 == POLICY.sha256
    doc["nodes"][1]["content"]["rules"][0]["in_soft_owner_age"] = "$ < 20 or $ > 65"
    assert parse_policy_document(doc).sha256 != POLICY.sha256


def _broken(mutate: Any) -> str:
    doc = _document()
    mutate(doc)
    with pytest.raises(InvalidInput) as info:
        parse_policy_document(doc)
    return str(info.value)


def _table(doc: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = doc["nodes"][1]["content"]
    return content


def test_validation_names_node_and_row() -> None:
    def first(doc: dict[str, Any]) -> None:
        _table(doc)["hitPolicy"] = "first"

    assert "node knock_out: hitPolicy is 'first'" in _broken(first)

    def unknown_field(doc: dict[str, Any]) -> None:
        _table(doc)["inputs"][0]["field"] = "owner_shoe_size"

    assert "input field 'owner_shoe_size'" in _broken(unknown_field)

    def no_text(doc: dict[str, Any]) -> None:
        _table(doc)["rules"][2]["out_reason_zh"] = ""

    assert "node knock_out row 3 (KO_INDUSTRY): reason_zh" in _broken(no_text)

    def bad_severity(doc: dict[str, Any]) -> None:
        _table(doc)["rules"][1]["out_severity"] = "'maybe'"

    assert "row 2 (KO_BLACKLIST): severity 'maybe'" in _broken(bad_severity)

    def duplicate(doc: dict[str, Any]) -> None:
        _table(doc)["rules"][1]["out_code"] = "'KO_AGE'"

    assert "rule code KO_AGE is used twice" in _broken(duplicate)

    def dangling(doc: dict[str, Any]) -> None:
        doc["edges"][1]["targetId"] = "nowhere"

    message = _broken(dangling)
    assert "edge e_ko_response: targetId 'nowhere' is not a node" in message
    assert "node response: no edge leads into it" in message

    def no_meta(doc: dict[str, Any]) -> None:
        del doc["policy"]["version"]

    assert "policy.version" in _broken(no_meta)


def test_not_json_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not JSON"):
        load_policy_text("{nodes: [")


def test_engine_is_cached_per_version() -> None:
    engine = PolicyEngine()
    engine.evaluate(POLICY, CLEAN)
    engine.evaluate(POLICY, CLEAN)
    other = parse_policy_document(
        {
            **copy.deepcopy(_document()),
            "policy": {"code": "SME-OP-KO", "version": 2, "product": "SME-OP"},
        }
    )
    engine.evaluate(other, CLEAN)
    assert len(engine._engines) == 2


def test_context_of_a_credit_file() -> None:
    """The credit file's cross-check verdicts and intake facts reach the rules."""
    from xiaowei.analysis.credit_file import (
        CreditFile,
        CrossChecks,
        EquityCrossCheck,
        SalesCrossCheck,
    )

    # Only the parts a policy reads; model_construct skips validation of the rest.
    partial: dict[str, Any] = {
        "features": {k: v for k, v in CLEAN.items() if k not in APPLICATION_FIELDS},
        "cross_checks": CrossChecks(
            equity=EquityCrossCheck(
                verdict="fail", deviation_fen=-5_000_000, deviation_rate=-0.4, breakdown=[]
            ),
            sales=SalesCrossCheck(
                verdict="explain",
                declared_sales_fen=100_000_000,
                reconciled_sales_fen=80_000_000,
                deviation=0.2,
                sources=[],
            ),
        ),
    }
    credit_file = CreditFile.model_construct(**partial)
    context = policy_context(credit_file, {"industry": "mining"}, blacklist_hit=True)
    assert _codes(context) == [
        "KO_BLACKLIST",
        "KO_INDUSTRY",
        "KO_EQUITY_CHECK",
        "REF_SALES_EXPLAIN",
    ]
    with pytest.raises(InvalidInput, match="shoe_size"):
        policy_context(credit_file, {"shoe_size": 44})
