"""Credit factory use cases (信贷工厂): staff and their stations, job rotation (轮岗), cases
through the line (受理 → 核查 → 分析 → 审批 → 签约), queues and the manager's metrics.

Each state change is one transaction with its audit event (``factory_events``); a refused
change (wrong station, maker-checker breach, already claimed, not the holder, case closed,
return to a later station, a date that rewrites history) raises and writes nothing. Every
function takes an explicit ``at`` so that a timeline can be replayed (tests, course cases);
it defaults to now (UTC). A naive ``at`` is read as UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from xiaowei.adapters.factory_store import FactoryStore
from xiaowei.core.errors import InvalidInput, InvalidState, NotFound
from xiaowei.decision import factory as line
from xiaowei.decision.factory import (
    Assignment,
    AssignmentChange,
    CycleRotation,
    ExplicitPlan,
    FactoryCase,
    FactoryMetrics,
    Outcome,
    Staff,
    Station,
)


def _who(name: str, field: str = "by") -> str:
    who = name.strip()
    if not who:
        raise InvalidInput(field, "the name of the person acting is required")
    return who


def _now(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _stations(stations: Iterable[Station | str] | str) -> frozenset[Station]:
    if isinstance(stations, str):
        return line.parse_stations(stations)
    return line.parse_stations([s.value if isinstance(s, Station) else s for s in stations])


@dataclass(frozen=True, slots=True)
class StaffView:
    """A staff member and the stations they hold on ``on``."""

    name: str
    on: date
    stations: frozenset[Station]
    history: tuple[Assignment, ...]


# --------------------------------------------------------------------------- staff
def _staff(store: FactoryStore, name: str, day: date) -> Staff:
    if not store.staff_exists(name):
        raise NotFound(f"staff {name} is not registered (xiaowei factory staff add)")
    return Staff(name, line.stations_on(store.assignments(name), name, day))


def _apply(store: FactoryStore, change: AssignmentChange, *, by: str, at: datetime) -> None:
    for row in change.close:
        assert row.valid_to is not None
        store.close_assignment(row, row.valid_to)
    for row in change.open:
        store.add_assignment(row, by=by, at=at)


def _fmt(stations: frozenset[Station]) -> str:
    return ",".join(s.value for s in sorted(stations, key=lambda s: s.order)) or "-"


def add_staff(
    engine: Engine,
    name: str,
    *,
    stations: Iterable[Station | str] | str,
    by: str,
    from_date: date | None = None,
    at: datetime | None = None,
) -> StaffView:
    """Register a staff member (登记人员) with the stations they hold from ``from_date``."""
    who, when, person = _who(by), _now(at), _who(name, "name")
    wanted = _stations(stations)
    day = from_date or when.date()
    with engine.begin() as conn:
        store = FactoryStore(conn)
        if store.staff_exists(person):
            raise InvalidState(f"staff {person} is already registered; use factory assign")
        store.add_staff(person, by=who, at=when)
        change = line.assignment_change([], person, wanted, day)
        _apply(store, change, by=who, at=when)
        store.record(
            "staff-added",
            by=who,
            at=when,
            staff=person,
            to_state=_fmt(wanted),
            note=f"from {day.isoformat()}",
        )
    return get_staff(engine, person, on=day)


def get_staff(engine: Engine, name: str, *, on: date | None = None) -> StaffView:
    day = on or datetime.now(UTC).date()
    with engine.connect() as conn:
        store = FactoryStore(conn)
        if not store.staff_exists(name):
            raise NotFound(f"staff {name} is not registered")
        rows = store.assignments(name)
    return StaffView(name, day, line.stations_on(rows, name, day), tuple(rows))


def list_staff(engine: Engine, *, on: date | None = None) -> list[StaffView]:
    day = on or datetime.now(UTC).date()
    with engine.connect() as conn:
        store = FactoryStore(conn)
        names = store.staff_names()
        rows = store.assignments()
    return [
        StaffView(
            n,
            day,
            line.stations_on(rows, n, day),
            tuple(a for a in rows if a.staff == n),
        )
        for n in names
    ]


def assign(
    engine: Engine,
    name: str,
    *,
    stations: Iterable[Station | str] | str,
    from_date: date,
    by: str,
    note: str = "",
    at: datetime | None = None,
) -> AssignmentChange:
    """Hold ``name`` at exactly ``stations`` from ``from_date`` on (岗位调整); the history keeps
    the earlier rows. A change dated before one already recorded is refused."""
    who, when = _who(by), _now(at)
    wanted = _stations(stations)
    with engine.begin() as conn:
        store = FactoryStore(conn)
        if not store.staff_exists(name):
            raise NotFound(f"staff {name} is not registered")
        change = line.assignment_change(store.assignments(name), name, wanted, from_date)
        if change.empty:
            raise InvalidState(
                f"{name} already holds {_fmt(wanted)} on {from_date.isoformat()}; nothing to change"
            )
        _apply(store, change, by=who, at=when)
        store.record(
            "assigned",
            by=who,
            at=when,
            staff=name,
            from_state=_fmt(change.before),
            to_state=_fmt(change.after),
            note=(f"from {from_date.isoformat()}" + (f"; {note}" if note.strip() else "")),
        )
    return change


def rotate(
    engine: Engine,
    schedule: CycleRotation | ExplicitPlan,
    *,
    by: str,
    start: date | None = None,
    until: date | None = None,
    at: datetime | None = None,
) -> list[AssignmentChange]:
    """Apply a rotation schedule (轮岗): for each of its change dates (from ``start`` through
    ``until``) set everyone it names to the stations it gives for that date. All in one
    transaction; the changes are appended to the history, one event per person and date."""
    who, when = _who(by), _now(at)
    if isinstance(schedule, CycleRotation):
        dates = schedule.change_dates(until)
        kind = f"rotation every {schedule.every_weeks} weeks"
    else:
        dates = schedule.change_dates(start, until)
        kind = "rotation plan"
    if not dates:
        raise InvalidInput("from", "the schedule has no change in the dates given")
    changes: list[AssignmentChange] = []
    with engine.begin() as conn:
        store = FactoryStore(conn)
        history = store.assignments()
        known = set(store.staff_names())
        for day in dates:
            wanted = (
                schedule.assignments_on(day)
                if isinstance(schedule, CycleRotation)
                else schedule.changes_on(day)
            )
            for name, stations in wanted.items():
                if name not in known:
                    raise NotFound(f"staff {name} (in the rotation) is not registered")
                change = line.assignment_change(history, name, stations, day)
                if change.empty:
                    continue
                history = line.apply_change(history, change)
                changes.append(change)
        # write: closes of stored rows, then every row opened (closed later in the run or not)
        stored = {a.id: a for a in store.assignments() if a.id is not None}
        for row in history:
            if row.id is None:
                store.add_assignment(row, by=who, at=when)
            elif row.valid_to != stored[row.id].valid_to:
                assert row.valid_to is not None
                store.close_assignment(stored[row.id], row.valid_to)
        for change in changes:
            store.record(
                "rotated",
                by=who,
                at=when,
                staff=change.staff,
                from_state=_fmt(change.before),
                to_state=_fmt(change.after),
                note=f"{kind}, from {change.from_date.isoformat()}",
            )
    return changes


def rotate_every(
    engine: Engine,
    *,
    every_weeks: int,
    start: date,
    by: str,
    until: date | None = None,
    cycle: Sequence[Station | str] = (Station.VERIFICATION, Station.ANALYSIS),
    at: datetime | None = None,
) -> tuple[CycleRotation, list[AssignmentChange]]:
    """Rotate everyone who holds exactly one station of ``cycle`` the day before ``start``:
    on ``start`` (and every ``every_weeks`` weeks through ``until``) each moves on one
    station of the cycle."""
    order = tuple(s if isinstance(s, Station) else Station.parse(s) for s in cycle)
    with engine.connect() as conn:
        history = FactoryStore(conn).assignments()
    schedule = line.cycle_rotation(history, start=start, every_weeks=every_weeks, cycle=order)
    return schedule, rotate(engine, schedule, by=by, until=until, at=at)


# --------------------------------------------------------------------------- cases
def open_case(
    engine: Engine,
    *,
    application_id: str,
    borrower: str,
    amount: Decimal,
    term_months: int,
    decision_id: int | None = None,
    by: str,
    at: datetime | None = None,
) -> FactoryCase:
    """Receive an application at intake (受理): the case waits in the intake queue."""
    who, when = _who(by), _now(at)
    case = line.new_case(
        application_id=application_id,
        borrower=borrower,
        amount=amount,
        term_months=term_months,
        decision_id=decision_id,
        by=who,
        at=when,
    )
    with engine.begin() as conn:
        store = FactoryStore(conn)
        existing = store.open_case_for(case.application_id)
        if existing is not None:
            raise InvalidState(
                f"application {case.application_id} is already on the line (case {existing})"
            )
        case_id = store.add_case(case)
        store.record(
            "opened",
            by=who,
            at=when,
            case_id=case_id,
            station=Station.INTAKE,
            to_state=Station.INTAKE.value,
            note=f"application {case.application_id}, {case.borrower}, {case.amount} CNY, "
            f"{case.term_months} months",
        )
    return get_case(engine, case_id)


def get_case(engine: Engine, case_id: int) -> FactoryCase:
    with engine.connect() as conn:
        return _load(FactoryStore(conn), case_id)


def _load(store: FactoryStore, case_id: int) -> FactoryCase:
    found = store.get_case(case_id)
    if found is None:
        raise NotFound(f"factory case {case_id} does not exist")
    return found


def claim(engine: Engine, case_id: int, *, by: str, at: datetime | None = None) -> FactoryCase:
    """Take a case from its station's queue (领取): ``by`` must hold that station today and,
    at approval, must not have investigated the case."""
    who, when = _who(by), _now(at)
    with engine.begin() as conn:
        store = FactoryStore(conn)
        case = _load(store, case_id)
        after = line.claim(case, _staff(store, who, when.date()), when)
        store.save_case(case, after)
        station = after.station
        store.record("claimed", by=who, at=when, case_id=case_id, staff=who, station=station)
    return get_case(engine, case_id)


def _committee_gate(conn: Any, case: FactoryCase) -> None:
    """A case that fusion routing sent to the committee (factory-committee) is approved at the
    approval station only after the committee approved it (融合路由: 工厂调查、委员会审批)."""
    if case.decision_id is None:
        return
    from xiaowei.adapters.committee_store import CommitteeStore
    from xiaowei.adapters.decision_store import DecisionStore
    from xiaowei.decision.committee import CaseStatus as CommitteeStatus
    from xiaowei.decision.committee import Resolution

    route = DecisionStore(conn).route_of(case.decision_id)
    if route is None or route["route"] != "factory-committee":
        return
    number = route["committee_case_id"]
    committee_case = None if number is None else CommitteeStore(conn).case(int(number))
    if committee_case is None or committee_case.status is not CommitteeStatus.DECIDED:
        raise InvalidState(
            f"case {case.id} was routed to the credit committee (decision "
            f"{case.decision_id}): it can be approved only after the committee's resolution"
        )
    if committee_case.resolution is Resolution.REJECTED:
        raise InvalidState(
            f"case {case.id}: the credit committee rejected it; the factory can only decline"
        )


def complete(
    engine: Engine,
    case_id: int,
    *,
    by: str,
    outcome: Outcome | str,
    to: Station | str | None = None,
    note: str = "",
    at: datetime | None = None,
) -> FactoryCase:
    """Finish the claimed step (完成): pass, return to an earlier station (返工), decline, or
    approve at approval. Only the holder completes."""
    who, when = _who(by), _now(at)
    if isinstance(outcome, str):
        try:
            outcome = Outcome(outcome.strip().lower())
        except ValueError:
            names = ", ".join(o.value for o in Outcome)
            raise InvalidInput("outcome", f"{outcome!r} is not an outcome ({names})") from None
    target = Station.parse(to, "to") if isinstance(to, str) else to
    with engine.begin() as conn:
        store = FactoryStore(conn)
        case = _load(store, case_id)
        station = case.station
        if station is Station.APPROVAL and outcome is Outcome.APPROVE:
            _committee_gate(conn, case)
        after = line.complete(
            case, _staff(store, who, when.date()), outcome, when, to=target, note=note
        )
        store.save_case(case, after)
        store.record(
            "completed",
            by=who,
            at=when,
            case_id=case_id,
            staff=who,
            station=station,
            from_state=None if station is None else station.value,
            to_state=after.station.value if after.station is not None else after.status.value,
            note=f"{outcome.value}" + (f": {note.strip()}" if note.strip() else ""),
        )
    return get_case(engine, case_id)


def reassign(
    engine: Engine,
    case_id: int,
    *,
    to: str,
    by: str,
    reason: str,
    at: datetime | None = None,
) -> FactoryCase:
    """Hand a claimed case to another eligible person (改派), with a reason."""
    who, when = _who(by), _now(at)
    with engine.begin() as conn:
        store = FactoryStore(conn)
        case = _load(store, case_id)
        holder = case.current.staff if case.current is not None else None
        after = line.reassign(
            case, _staff(store, _who(to, "to"), when.date()), reason=reason, at=when
        )
        store.save_case(case, after)
        store.record(
            "reassigned",
            by=who,
            at=when,
            case_id=case_id,
            staff=to.strip(),
            station=after.station,
            from_state=holder,
            to_state=to.strip(),
            note=reason.strip(),
        )
    return get_case(engine, case_id)


def queue(engine: Engine, station: Station | str) -> list[FactoryCase]:
    """The open cases at ``station`` (waiting and in service), oldest queued first."""
    where = Station.parse(station) if isinstance(station, str) else station
    with engine.connect() as conn:
        cases = FactoryStore(conn).cases(station=where)
    return sorted(cases, key=lambda c: (c.steps[-1].enqueued_at, c.id or 0))


def events(engine: Engine, case_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        store = FactoryStore(conn)
        _load(store, case_id)
        return store.events(case_id=case_id)


def staff_events(engine: Engine, name: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return FactoryStore(conn).events(staff=name)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def metrics(
    engine: Engine, *, start: date | datetime | None = None, end: date | datetime | None = None
) -> FactoryMetrics:
    """The manager's figures (see :func:`xiaowei.decision.factory.factory_metrics`) over
    ``[start, end)``; dates are midnights UTC. By default the period runs from the first day a
    case was opened to the day after the last recorded timestamp (so the figures depend on the
    data, not on when they are asked)."""
    with engine.connect() as conn:
        cases = FactoryStore(conn).cases()
    if not cases and (start is None or end is None):
        raise InvalidState("the factory has no cases yet; give --from and --to")

    def as_dt(value: date | datetime) -> datetime:
        if isinstance(value, datetime):
            return _now(value)
        return _midnight(value)

    if start is None:
        start = _midnight(min(c.opened_at for c in cases).date())
    if end is None:
        last = max(
            t
            for c in cases
            for s in c.steps
            for t in (s.enqueued_at, s.claimed_at, s.completed_at)
            if t is not None
        )
        end = _midnight(last.date()) + timedelta(days=1)
    return line.factory_metrics(cases, start=as_dt(start), end=as_dt(end))
