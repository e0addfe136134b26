"""Fusion routing (融合架构): the table's rows, and the path through the automated decision, the
credit factory and the committee on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from sqlalchemy import Engine, func, select

from xiaowei.adapters import orm
from xiaowei.adapters.model_artefact import save_model
from xiaowei.core.errors import InvalidInput, InvalidState
from xiaowei.decision.automated import Application
from xiaowei.decision.fusion import (
    Route,
    Router,
    load_routing_file,
    parse_routing,
    shipped_routing_path,
)
from xiaowei.decision.policy import shipped_policy_path
from xiaowei.decision.strategy import load_strategy_file, shipped_strategy_path
from xiaowei.scoring.calibration import Calibrator
from xiaowei.scoring.scorecard import Scorecard
from xiaowei.services import committee, factory
from xiaowei.services.fusion import escalate_to_committee, route_application, route_of
from xiaowei.services.policies import activate_policy, approve_policy, register_policy

TABLE = load_routing_file(shipped_routing_path())
STRATEGY = load_strategy_file(shipped_strategy_path())
ROUTER = Router()
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("action", "amount", "counter", "route", "rule"),
    [
        ("decline", 50_000.0, False, Route.AUTOMATED, "AUTO_DECLINE"),
        ("decline", 5_000_000.0, False, Route.AUTOMATED, "AUTO_DECLINE"),
        ("approve", 300_000.0, False, Route.AUTOMATED, "AUTO_SMALL"),
        ("approve", 300_000.01, False, Route.AUTOMATED_FACTORY, "FACTORY"),
        ("approve", 200_000.0, True, Route.AUTOMATED_FACTORY, "FACTORY"),
        ("refer", 100_000.0, False, Route.AUTOMATED_FACTORY, "FACTORY"),
        ("approve", 1_000_000.0, False, Route.AUTOMATED_FACTORY, "FACTORY"),
        ("refer", 1_000_000.01, False, Route.FACTORY_COMMITTEE, "COMMITTEE_LARGE"),
    ],
)
def test_the_default_table_row_by_row(
    action: str, amount: float, counter: bool, route: Route, rule: str
) -> None:
    inputs = {"action": action, "amount": amount, "pd": 0.03, "counter_offer": counter}
    choice = ROUTER.route(TABLE, inputs)
    assert (choice.route, choice.rule) == (route, rule)
    assert choice.reason_zh
    assert choice.reason_en
    assert choice.to_json()["stages"] == list(route.stages)


def test_a_table_without_a_catch_all_is_an_error_not_a_default() -> None:
    document = copy.deepcopy(TABLE.graph)
    table = next(n for n in document["nodes"] if n["type"] == "decisionTableNode")
    table["content"]["rules"] = table["content"]["rules"][:1]  # decline only
    narrow = parse_routing(document)
    with pytest.raises(InvalidInput, match="routes application A-9 nowhere"):
        ROUTER.route(
            narrow,
            {"action": "approve", "amount": 1.0, "pd": 0.01, "counter_offer": False},
            application_id="A-9",
        )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t["content"].update(hitPolicy="collect"), "first hit policy"),
        (lambda t: t["content"]["inputs"][0].update(field="colour"), "unknown inputs"),
        (lambda t: t["content"]["rules"][0].update(out_route="'somewhere'"), "somewhere"),
    ],
)
def test_a_bad_table_is_refused(mutate: Any, message: str) -> None:
    document = copy.deepcopy(TABLE.graph)
    mutate(next(n for n in document["nodes"] if n["type"] == "decisionTableNode"))
    with pytest.raises(InvalidInput, match=message):
        parse_routing(document)


# --------------------------------------------------------------------------- the service
@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(3)
    n = 3000
    ratio = rng.uniform(0.0, 1.2, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-4.0 + 2.0 * ratio)))).astype(np.int8)
    frame = pl.DataFrame({"fin_installment_ratio": ratio})
    card = Scorecard().fit(frame, y)
    calibrator = Calibrator().fit(np.asarray(card.score(frame), dtype=np.float64), y)
    path = tmp_path_factory.mktemp("fusion-model") / "card"
    save_model(card, path, name="card", calibrator=calibrator)
    return path


def _application(app_id: str, amount: str, **features: Any) -> Application:
    base = {
        "soft_owner_age": 40,
        "fin_installment_ratio": 0.2,
        "bureau_credit_history_months": 60,
        "fin_max_affordable_fen": 500_000_000,  # capacity 5,000,000 CNY
        "flow_revenue_12m": 1_600_000_000,  # 16 million a year: revenue limit 4,000,000
        "flow_months_12m": 12,
    }
    return Application(
        application_id=app_id,
        product="SME-OP",
        as_of=date(2026, 3, 10),
        requested_amount=Decimal(amount),
        requested_term=12,
        fields={"industry": "service", "blacklist_hit": False},
        features={**base, **features},
    )


def _setup(db: Engine) -> None:
    register_policy(db, shipped_policy_path(), by="analyst-li")
    approve_policy(db, "SME-OP-KO", 1, by="head-wang")
    activate_policy(db, "SME-OP-KO", 1, by="head-wang")
    staff = {
        "clerk-zhao": "intake",
        "verifier-qian": "verification",
        "analyst-sun": "analysis",
        "approver-li": "approval",
    }
    for name, station in staff.items():
        factory.add_staff(db, name, stations=station, by="manager", from_date=date(2026, 1, 1))
    for name, role in (("chair-zhou", "chair"), ("m-wu", "member"), ("m-zheng", "member")):
        committee.add_member(db, name, role=role, by="secretary")


def _route(db: Engine, app: Application, model_dir: Path) -> Any:
    return route_application(
        db,
        app,
        strategy=STRATEGY,
        model_path=model_dir,
        routing=TABLE,
        borrower=f"Borrower of {app.application_id}",
        by="auto",
        at=T0,
    )


def _count(db: Engine, table: Any) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_small_clean_applications_stay_automated(db: Engine, model_dir: Path) -> None:
    _setup(db)
    routed = _route(db, _application("A-SMALL", "200000.00"), model_dir)
    assert routed.decision.acted.action.value == "approve"
    assert routed.choice["route"] == "automated"
    assert routed.factory_case_id is None
    assert _count(db, orm.factory_cases) == 0


def test_a_mid_sized_application_goes_to_the_factory_once(db: Engine, model_dir: Path) -> None:
    _setup(db)
    first = _route(db, _application("A-MID", "600000.00"), model_dir)
    assert first.choice["route"] == "automated-factory"
    assert first.factory_case_id is not None
    case = factory.get_case(db, first.factory_case_id)
    assert case.decision_id == first.decision.decision_id
    assert case.amount == Decimal("600000.00")
    again = _route(db, _application("A-MID", "600000.00"), model_dir)
    assert again.repeated
    assert again.factory_case_id == first.factory_case_id
    assert _count(db, orm.factory_cases) == 1
    assert _count(db, orm.decision_routes) == 1
    with pytest.raises(InvalidState, match="only a factory-committee route"):
        escalate_to_committee(db, first.decision.decision_id, by="manager")


def test_a_large_application_goes_through_the_factory_to_the_committee(
    db: Engine, model_dir: Path
) -> None:
    _setup(db)
    routed = _route(db, _application("A-LARGE", "2000000.00", fin_installment_ratio=0.0), model_dir)
    assert routed.choice["route"] == "factory-committee"
    decision_id = routed.decision.decision_id
    case_id = routed.factory_case_id
    assert case_id is not None
    with pytest.raises(InvalidState, match="has not passed verification and analysis"):
        escalate_to_committee(db, decision_id, by="manager")
    assert route_of(db, decision_id)["committee_case_id"] is None
    at = T0
    for who in ("clerk-zhao", "verifier-qian", "analyst-sun"):
        at += timedelta(hours=1)
        factory.claim(db, case_id, by=who, at=at)
        at += timedelta(hours=2)
        factory.complete(db, case_id, by=who, outcome="pass", at=at)
    committee_id = escalate_to_committee(db, decision_id, by="manager", at=at)
    opened = committee.get_case(db, committee_id)
    assert opened.investigated_by == "verifier-qian"
    assert opened.referred_by == "analyst-sun"
    assert opened.decision_id == decision_id
    stored = json.loads(route_of(db, decision_id)["choice"])
    assert stored["rule"] == "COMMITTEE_LARGE"
    assert route_of(db, decision_id)["committee_case_id"] == committee_id
    with pytest.raises(InvalidState, match="already before the committee"):
        escalate_to_committee(db, decision_id, by="manager")


def test_the_factory_approves_a_committee_case_only_after_the_committee(
    db: Engine, model_dir: Path
) -> None:
    _setup(db)
    routed = _route(db, _application("A-GATE", "2000000.00", fin_installment_ratio=0.0), model_dir)
    case_id = routed.factory_case_id
    assert case_id is not None
    at = T0
    for who in ("clerk-zhao", "verifier-qian", "analyst-sun"):
        at += timedelta(hours=1)
        factory.claim(db, case_id, by=who, at=at)
        factory.complete(db, case_id, by=who, outcome="pass", at=at + timedelta(minutes=30))
        at += timedelta(hours=1)
    factory.claim(db, case_id, by="approver-li", at=at)
    before = factory.get_case(db, case_id)
    with pytest.raises(InvalidState, match="only after the committee's resolution"):
        factory.complete(db, case_id, by="approver-li", outcome="approve", at=at)
    assert factory.get_case(db, case_id) == before  # refused: nothing changed
    committee_id = escalate_to_committee(db, routed.decision.decision_id, by="manager", at=at)
    with pytest.raises(InvalidState, match="only after the committee's resolution"):
        factory.complete(db, case_id, by="approver-li", outcome="approve", at=at)
    day = at.date()
    committee.convene(
        db,
        committee_id,
        present=["chair-zhou", "m-wu", "m-zheng"],
        by="secretary",
        meeting_date=day,
        at=at,
    )
    for member in ("chair-zhou", "m-wu", "m-zheng"):
        committee.vote(db, committee_id, member=member, choice="approve", opinion="sound", at=at)
    committee.decide(db, committee_id, by="secretary", at=at)
    done = factory.complete(
        db, case_id, by="approver-li", outcome="approve", at=at + timedelta(hours=1)
    )
    assert done.station is not None
    assert done.station.value == "contract"


def test_a_routing_table_never_changes_under_its_version(db: Engine, model_dir: Path) -> None:
    _setup(db)
    _route(db, _application("A-ONE", "200000.00"), model_dir)
    document = copy.deepcopy(TABLE.graph)
    table = next(n for n in document["nodes"] if n["type"] == "decisionTableNode")
    table["content"]["rules"][1]["in_amount"] = "<= 500000"
    changed = parse_routing(document)
    before = _count(db, orm.decision_records)
    with pytest.raises(InvalidState, match="new version"):
        route_application(
            db,
            _application("A-TWO", "200000.00"),
            strategy=STRATEGY,
            model_path=model_dir,
            routing=changed,
            by="auto",
            at=T0,
        )
    assert _count(db, orm.decision_records) == before
