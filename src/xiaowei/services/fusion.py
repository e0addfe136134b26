"""Fusion routing use cases (融合审批): decide, route, open the factory and committee cases.

:func:`route_application` stores the automated decision (``services.decisions``), evaluates the
institution's routing table on it (``decision.fusion``), stores the route, and — for a route
through the credit factory — opens the factory case at intake (``services.factory``) linked to
the decision. Routing again the same application under the same versions returns the stored
route (the decision is idempotent, and so is its route). The route row is written before the
factory case is opened and completed with its id after: an interrupted run is finished by
running it again, never duplicated.

:func:`escalate_to_committee` puts a ``factory-committee`` application before the credit
committee once the factory has verified and analysed it: the factory's verifier is recorded as
the investigator (调查人) and its analyst as the referrer (推荐人) — both therefore recused from
voting — and the proposal is the automated decision's offer (amount, term, method, rate).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from xiaowei.adapters.decision_store import DecisionStore
from xiaowei.core.errors import InvalidState, NotFound
from xiaowei.decision.automated import Application
from xiaowei.decision.factory import Outcome, Station
from xiaowei.decision.fusion import Route, RouteChoice, Router, RoutingTable, routing_inputs
from xiaowei.decision.policy import canonical_json
from xiaowei.decision.strategy import Strategy
from xiaowei.services import committee, factory
from xiaowei.services.decisions import DecideResult, decide_application, get_decision

_ROUTER = Router()


@dataclass
class RoutedResult:
    """The decision, the route chosen and the cases opened for it."""

    decision: DecideResult
    choice: dict[str, Any]
    route_id: int
    factory_case_id: int | None
    committee_case_id: int | None
    repeated: bool


def _proposal(record: dict[str, Any]) -> tuple[Decimal, int, Decimal | None, str | None]:
    offer = record.get("offer")
    requested = record["requested"]
    if offer is None:
        return Decimal(requested["amount"]), int(requested["term_months"]), None, None
    return (
        Decimal(offer["amount"]),
        int(offer["term_months"]),
        Decimal(offer["rate"]),
        str(offer["method"]),
    )


def _check_routing(store: DecisionStore, routing: RoutingTable) -> str | None:
    """The stored hash of the table's version (None: first use); a different one is refused:
    a routing table, like a strategy, never changes under the same version."""
    stored = store.routing_sha256(routing.code, routing.version)
    if stored is not None and stored != routing.sha256:
        raise InvalidState(
            f"routing table {routing.code} v{routing.version} is stored with different "
            "content; give the change a new version"
        )
    return stored


def route_application(
    engine: Engine,
    application: Application,
    *,
    strategy: Strategy,
    model_path: Path,
    routing: RoutingTable,
    borrower: str | None = None,
    by: str = "auto",
    at: datetime | None = None,
) -> RoutedResult:
    """Decide (stored), route and open the factory case when the route goes through it."""
    when = at or datetime.now(UTC)
    with engine.connect() as conn:  # refuse a changed table before anything is written
        _check_routing(DecisionStore(conn), routing)
    decided = decide_application(
        engine, application, strategy=strategy, model_path=model_path, by=by, at=when
    )
    decision_id = decided.decision_id
    assert decision_id is not None
    with engine.begin() as conn:
        store = DecisionStore(conn)
        if _check_routing(store, routing) is None:
            store.add_routing(
                routing.code,
                routing.version,
                routing.sha256,
                canonical_json(routing.graph),
                by=by,
                at=when,
            )
        row = store.route_of(decision_id)
        repeated = row is not None
        if row is None:
            choice: RouteChoice = _ROUTER.route(
                routing, routing_inputs(decided.acted), application_id=application.application_id
            )
            store.add_route(
                decision_id,
                application_id=application.application_id,
                choice=choice.to_json(),
                by=by,
                at=when,
            )
            row = store.route_of(decision_id)
    assert row is not None
    route = Route(row["route"])
    factory_case = row["factory_case_id"]
    if factory_case is None and "factory" in route.stages:
        amount, term, _, _ = _proposal(decided.acted.result)
        case = factory.open_case(
            engine,
            application_id=application.application_id,
            borrower=borrower or application.application_id,
            amount=amount,
            term_months=term,
            decision_id=decision_id,
            by=by,
            at=when,
        )
        assert case.id is not None
        factory_case = case.id
        with engine.begin() as conn:
            DecisionStore(conn).set_route_case(row["id"], factory_case_id=factory_case)
    return RoutedResult(
        decision=decided,
        choice=json.loads(row["choice"]),
        route_id=int(row["id"]),
        factory_case_id=factory_case,
        committee_case_id=row["committee_case_id"],
        repeated=repeated,
    )


def route_of(engine: Engine, decision_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = DecisionStore(conn).route_of(decision_id)
    if row is None:
        raise NotFound(f"decision {decision_id} has not been routed")
    return row


def _last_worker(case: Any, station: Station) -> str | None:
    done = [
        s
        for s in case.steps
        if s.station is station and s.outcome is Outcome.PASS and s.staff is not None
    ]
    return done[-1].staff if done else None


def escalate_to_committee(
    engine: Engine,
    decision_id: int,
    *,
    by: str,
    memo_path: Path | None = None,
    at: datetime | None = None,
) -> int:
    """Open the committee case of a ``factory-committee`` route once the factory has passed
    verification and analysis; returns the committee case id."""
    row = route_of(engine, decision_id)
    if row["route"] != Route.FACTORY_COMMITTEE.value:
        raise InvalidState(
            f"decision {decision_id} is routed {row['route']}; only a factory-committee route "
            "goes to the committee"
        )
    if row["committee_case_id"] is not None:
        raise InvalidState(
            f"decision {decision_id} is already before the committee (case id "
            f"{row['committee_case_id']})"
        )
    if row["factory_case_id"] is None:
        raise InvalidState(f"decision {decision_id} has no factory case yet: route it again")
    case = factory.get_case(engine, int(row["factory_case_id"]))
    verifier = _last_worker(case, Station.VERIFICATION)
    analyst = _last_worker(case, Station.ANALYSIS)
    if verifier is None or analyst is None:
        raise InvalidState(
            f"factory case {row['factory_case_id']} has not passed verification and analysis "
            "yet: the committee needs the factory's investigation first"
        )
    record = json.loads(get_decision(engine, decision_id)["record"])
    amount, term, rate, method = _proposal(record)
    opened = committee.open_case(
        engine,
        application_id=str(row["application_id"]),
        borrower=case.borrower,
        amount=amount,
        term_months=term,
        annual_rate=rate if rate is not None else Decimal("0"),
        method=method or "equal-installment",
        investigated_by=verifier,
        referred_by=analyst,
        memo_path=memo_path,
        decision_id=decision_id,
        by=by,
        at=at,
    )
    case_id = int(opened.id) if opened.id is not None else 0
    with engine.begin() as conn:
        DecisionStore(conn).set_route_case(int(row["id"]), committee_case_id=case_id)
    return case_id


__all__ = ["RoutedResult", "escalate_to_committee", "route_application", "route_of"]
