"""Credit factory use cases on SQLite and PostgreSQL: every step stored with its event, every
refusal a clear error that writes nothing, rotation stored as history."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from xiaowei.adapters.factory_store import FactoryStore
from xiaowei.core.errors import InvalidInput, InvalidState, NotFound
from xiaowei.decision.factory import CaseStatus, Station
from xiaowei.services import factory as f


def t(day: int, hour: float) -> datetime:
    return datetime(2025, 3, day, tzinfo=UTC) + timedelta(hours=hour)


TEAM = [
    ("zhang", "intake"),
    ("li", "verification"),
    ("wang", "analysis"),
    ("sun", "verification,approval"),
    ("zhao", "approval"),
    ("chen", "contract"),
]


@pytest.fixture
def line(db: Engine) -> Engine:
    for name, stations in TEAM:
        f.add_staff(db, name, stations=stations, by="boss", from_date=date(2025, 3, 1), at=t(1, 8))
    return db


def snapshot(engine: Engine, case_id: int | None = None) -> tuple[Any, ...]:
    with engine.connect() as conn:
        store = FactoryStore(conn)
        case = None if case_id is None else store.get_case(case_id)
        return store.count_rows(), case, store.assignments()


def refused(
    engine: Engine, case_id: int | None, error: type[Exception], match: str, action: Any
) -> None:
    before = snapshot(engine, case_id)
    with pytest.raises(error, match=match):
        action()
    assert snapshot(engine, case_id) == before


def to_approval(engine: Engine, verifier: str = "sun") -> int:
    c = f.open_case(
        engine,
        application_id="APP-7",
        borrower="安泰商行",
        amount=Decimal("150000.00"),
        term_months=12,
        by="zhang",
        at=t(3, 9),
    )
    f.claim(engine, c.id, by="zhang", at=t(3, 9.5))
    f.complete(engine, c.id, by="zhang", outcome="pass", at=t(3, 10))
    f.claim(engine, c.id, by=verifier, at=t(3, 11))
    f.complete(engine, c.id, by=verifier, outcome="pass", at=t(3, 13))
    f.claim(engine, c.id, by="wang", at=t(3, 14))
    f.complete(engine, c.id, by="wang", outcome="pass", at=t(3, 16))
    assert c.id is not None
    return c.id


def test_a_case_through_the_line_is_stored_and_audited(line: Engine) -> None:
    case_id = to_approval(line, verifier="li")
    f.claim(line, case_id, by="zhao", at=t(4, 9))
    f.complete(line, case_id, by="zhao", outcome="approve", note="within limit", at=t(4, 10))
    f.claim(line, case_id, by="chen", at=t(4, 11))
    done = f.complete(line, case_id, by="chen", outcome="pass", at=t(4, 12))
    assert done.status is CaseStatus.SIGNED
    assert done.amount == Decimal("150000.00")
    assert done.closed_at == t(4, 12)
    assert [s.waiting_hours for s in done.steps] == [0.5, 1, 1, 17, 1]
    assert done.version == 11  # one version per change after opening
    actions = [e["action"] for e in f.events(line, case_id)]
    assert actions == ["opened"] + ["claimed", "completed"] * 5
    last = f.events(line, case_id)[-1]
    assert (last["from_state"], last["to_state"], last["by"]) == ("contract", "signed", "chen")
    m = f.metrics(line)
    assert (m.signed, m.start, m.end) == (1, t(3, 0), t(5, 0))
    assert m.cycle_p50_days == pytest.approx(27 / 24)


def test_refusals_write_nothing(line: Engine) -> None:
    case_id = to_approval(line)
    refused(
        line,
        case_id,
        InvalidState,
        "maker-checker",
        lambda: f.claim(line, case_id, by="sun", at=t(4, 9)),
    )
    refused(
        line,
        case_id,
        InvalidState,
        "not assigned to approval",
        lambda: f.claim(line, case_id, by="wang", at=t(4, 9)),
    )
    refused(
        line,
        case_id,
        NotFound,
        "not registered",
        lambda: f.claim(line, case_id, by="nobody", at=t(4, 9)),
    )
    refused(
        line,
        case_id,
        InvalidState,
        "not claimed",
        lambda: f.complete(line, case_id, by="zhao", outcome="approve", at=t(4, 9)),
    )
    f.claim(line, case_id, by="zhao", at=t(4, 9))
    refused(
        line,
        case_id,
        InvalidState,
        "already claimed by zhao",
        lambda: f.claim(line, case_id, by="zhao", at=t(4, 9)),
    )
    refused(
        line,
        case_id,
        InvalidState,
        "claimed by zhao, not sun",
        lambda: f.complete(line, case_id, by="sun", outcome="approve", at=t(4, 10)),
    )
    refused(
        line,
        case_id,
        InvalidState,
        "maker-checker",
        lambda: f.reassign(line, case_id, to="sun", by="boss", reason="busy", at=t(4, 10)),
    )
    refused(
        line,
        case_id,
        InvalidInput,
        "not before approval",
        lambda: f.complete(
            line, case_id, by="zhao", outcome="return", to="contract", note="x", at=t(4, 10)
        ),
    )
    refused(
        line,
        case_id,
        InvalidInput,
        "not an outcome",
        lambda: f.complete(line, case_id, by="zhao", outcome="maybe", at=t(4, 10)),
    )
    f.complete(line, case_id, by="zhao", outcome="decline", note="debt too high", at=t(4, 10))
    refused(
        line,
        case_id,
        InvalidState,
        "closed",
        lambda: f.claim(line, case_id, by="chen", at=t(4, 11)),
    )
    refused(
        line, None, NotFound, "does not exist", lambda: f.claim(line, 999, by="chen", at=t(4, 11))
    )


def test_return_for_rework_and_reassignment(line: Engine) -> None:
    case_id = to_approval(line, verifier="li")
    f.claim(line, case_id, by="zhao", at=t(4, 9))
    back = f.complete(
        line,
        case_id,
        by="zhao",
        outcome="return",
        to="verification",
        note="visit the shop again",
        at=t(4, 10),
    )
    assert back.station is Station.VERIFICATION
    assert back.current.rework  # type: ignore[union-attr]
    f.claim(line, case_id, by="li", at=t(4, 11))
    moved = f.reassign(line, case_id, to="sun", by="boss", reason="li on leave", at=t(4, 12))
    assert moved.current.staff == "sun"  # type: ignore[union-attr]
    assert moved.current.reassigned_from == ("li",)  # type: ignore[union-attr]
    assert f.get_case(line, case_id).investigators == {"li", "sun", "wang"}
    queue = f.queue(line, "verification")
    assert [c.id for c in queue] == [case_id]
    event = f.events(line, case_id)[-1]
    assert (event["action"], event["from_state"], event["to_state"], event["note"]) == (
        "reassigned",
        "li",
        "sun",
        "li on leave",
    )


def test_one_open_case_per_application(line: Engine) -> None:
    to_approval(line)
    refused(
        line,
        None,
        InvalidState,
        "already on the line",
        lambda: f.open_case(
            line,
            application_id="APP-7",
            borrower="x",
            amount=Decimal("1.00"),
            term_months=6,
            by="zhang",
            at=t(5, 9),
        ),
    )


def test_assignments_and_rotation_are_history(line: Engine, tmp_path: Any) -> None:
    f.add_staff(
        line, "qian", stations="analysis", by="boss", from_date=date(2025, 3, 1), at=t(1, 8)
    )
    schedule, changes = f.rotate_every(
        line, every_weeks=2, start=date(2025, 3, 10), until=date(2025, 3, 24), by="boss", at=t(7, 8)
    )
    assert {n for n, _ in schedule.members} == {"li", "wang", "qian"}
    assert len(changes) == 6  # three people, two dates (10 and 24 March)
    on = {v.name: v.stations for v in f.list_staff(line, on=date(2025, 3, 12))}
    assert on["li"] == {Station.ANALYSIS}
    assert on["wang"] == {Station.VERIFICATION}
    assert on["sun"] == {Station.VERIFICATION, Station.APPROVAL}  # two stations: not rotated
    on = {v.name: v.stations for v in f.list_staff(line, on=date(2025, 3, 24))}
    assert on["li"] == {Station.VERIFICATION}
    assert on["li"] == {v.name: v.stations for v in f.list_staff(line, on=date(2025, 3, 9))}["li"]
    # on its day, the rotated analyst works analysis and no longer verification
    c = f.open_case(
        line,
        application_id="APP-9",
        borrower="b",
        amount=Decimal("10.00"),
        term_months=3,
        by="zhang",
        at=t(12, 9),
    )
    f.claim(line, c.id, by="zhang", at=t(12, 9))
    f.complete(line, c.id, by="zhang", outcome="pass", at=t(12, 10))
    refused(
        line,
        c.id,
        InvalidState,
        "not assigned to verification",
        lambda: f.claim(line, c.id, by="li", at=t(12, 11)),
    )
    f.claim(line, c.id, by="wang", at=t(12, 11))
    # a change dated inside the stored rotation would rewrite history
    refused(
        line,
        None,
        InvalidInput,
        "history is not rewritten",
        lambda: f.assign(
            line, "li", stations="approval", from_date=date(2025, 3, 20), by="boss", at=t(20, 8)
        ),
    )
    events = f.staff_events(line, "li")
    assert [e["action"] for e in events] == ["staff-added", "rotated", "rotated"]


def test_explicit_plan_and_assign(line: Engine) -> None:
    from xiaowei.decision.factory import parse_plan

    plan = parse_plan(
        json.loads(
            json.dumps(
                [
                    {"from": "2025-04-01", "staff": "li", "stations": "analysis"},
                    {"from": "2025-04-01", "staff": "wang", "stations": "verification"},
                ]
            )
        )
    )
    changes = f.rotate(line, plan, by="boss", at=t(20, 8))
    assert [(c.staff, c.from_date) for c in changes] == [
        ("li", date(2025, 4, 1)),
        ("wang", date(2025, 4, 1)),
    ]
    change = f.assign(
        line,
        "zhao",
        stations="approval,contract",
        from_date=date(2025, 4, 2),
        by="boss",
        at=t(20, 9),
    )
    assert change.after == {Station.APPROVAL, Station.CONTRACT}
    refused(
        line,
        None,
        InvalidState,
        "nothing to change",
        lambda: f.assign(
            line,
            "zhao",
            stations="contract,approval",
            from_date=date(2025, 4, 3),
            by="boss",
            at=t(20, 9),
        ),
    )
    refused(
        line,
        None,
        InvalidState,
        "already registered",
        lambda: f.add_staff(line, "li", stations="intake", by="boss"),
    )
