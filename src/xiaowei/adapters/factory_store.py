"""Persistence of the credit factory (信贷工厂): staff, assignment history, cases, steps, events.

Reads and writes inside the caller's transaction; the rules live in ``decision.factory`` and
the use cases in ``services.factory``. A case is saved as the difference between the state
read and the state the domain returned: the case row is updated under its version (optimistic
lock: a concurrent writer gets :class:`ConcurrencyConflict`), changed steps are updated and new
steps inserted. Timestamps are stored in UTC; SQLite hands them back naive, so they are read
back as UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from xiaowei.adapters.orm import (
    factory_assignments,
    factory_cases,
    factory_events,
    factory_staff,
    factory_steps,
)
from xiaowei.adapters.rows import count_rows, inserted_id
from xiaowei.core.errors import ConcurrencyConflict
from xiaowei.core.money import from_cents, to_cents
from xiaowei.decision.factory import (
    Assignment,
    CaseStatus,
    FactoryCase,
    Outcome,
    Station,
    Step,
)


def _utc(value: datetime) -> datetime:
    """A stored time as an aware UTC time (SQLite gives it back naive)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


class FactoryStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # ----------------------------------------------------------------------- staff
    def add_staff(self, name: str, *, by: str, at: datetime) -> None:
        self.conn.execute(insert(factory_staff).values(name=name, created_by=by, created_at=at))

    def staff_exists(self, name: str) -> bool:
        found = self.conn.execute(
            select(factory_staff.c.name).where(factory_staff.c.name == name)
        ).first()
        return found is not None

    def staff_names(self) -> list[str]:
        rows = self.conn.execute(select(factory_staff.c.name).order_by(factory_staff.c.name))
        return [r[0] for r in rows]

    # ----------------------------------------------------------------------- assignments
    def assignments(self, staff: str | None = None) -> list[Assignment]:
        query = select(factory_assignments)
        if staff is not None:
            query = query.where(factory_assignments.c.staff == staff)
        rows = self.conn.execute(
            query.order_by(factory_assignments.c.valid_from, factory_assignments.c.id)
        )
        return [
            Assignment(
                staff=r.staff,
                station=Station(r.station),
                valid_from=r.valid_from,
                valid_to=r.valid_to,
                id=r.id,
            )
            for r in rows
        ]

    def close_assignment(self, row: Assignment, valid_to: date) -> None:
        result = self.conn.execute(
            update(factory_assignments)
            .where(factory_assignments.c.id == row.id, factory_assignments.c.valid_to.is_(None))
            .values(valid_to=valid_to)
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(
                f"the assignment of {row.staff} to {row.station.value} changed meanwhile"
            )

    def add_assignment(self, row: Assignment, *, by: str, at: datetime) -> None:
        self.conn.execute(
            insert(factory_assignments).values(
                staff=row.staff,
                station=row.station.value,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                created_by=by,
                created_at=at,
            )
        )

    # ----------------------------------------------------------------------- cases
    def add_case(self, case: FactoryCase) -> int:
        result = self.conn.execute(
            insert(factory_cases).values(
                application_id=case.application_id,
                borrower=case.borrower,
                amount_fen=to_cents(case.amount),
                term_months=case.term_months,
                decision_id=case.decision_id,
                status=case.status.value,
                station=None if case.station is None else case.station.value,
                opened_by=case.opened_by,
                opened_at=case.opened_at,
                closed_at=case.closed_at,
                version=1,
            )
        )
        case_id = inserted_id(result)
        self._insert_steps(case_id, case.steps)
        return case_id

    def _insert_steps(self, case_id: int, steps: Sequence[Step]) -> None:
        if steps:
            self.conn.execute(insert(factory_steps), [_step_row(case_id, s) for s in steps])

    def open_case_for(self, application_id: str) -> int | None:
        found = self.conn.execute(
            select(factory_cases.c.id).where(
                factory_cases.c.application_id == application_id,
                factory_cases.c.status == CaseStatus.OPEN.value,
            )
        ).first()
        return None if found is None else int(found[0])

    def get_case(self, case_id: int) -> FactoryCase | None:
        row = self.conn.execute(select(factory_cases).where(factory_cases.c.id == case_id)).first()
        if row is None:
            return None
        steps = self.conn.execute(
            select(factory_steps)
            .where(factory_steps.c.case_id == case_id)
            .order_by(factory_steps.c.seq)
        )
        return _case(row._mapping, [_step(s._mapping) for s in steps])

    def cases(
        self, *, station: Station | None = None, open_only: bool = False
    ) -> list[FactoryCase]:
        """Cases with their steps (all, the open ones, or the open ones at ``station``)."""
        query = select(factory_cases)
        if open_only or station is not None:
            query = query.where(factory_cases.c.status == CaseStatus.OPEN.value)
        if station is not None:
            query = query.where(factory_cases.c.station == station.value)
        rows = list(self.conn.execute(query.order_by(factory_cases.c.id)))
        if not rows:
            return []
        ids = [r.id for r in rows]
        by_case: dict[int, list[Step]] = {i: [] for i in ids}
        step_query = select(factory_steps).order_by(factory_steps.c.case_id, factory_steps.c.seq)
        if open_only or station is not None:
            step_query = step_query.where(factory_steps.c.case_id.in_(ids))
        for s in self.conn.execute(step_query):
            if s.case_id in by_case:
                by_case[s.case_id].append(_step(s._mapping))
        return [_case(r._mapping, by_case[r.id]) for r in rows]

    def save_case(self, before: FactoryCase, after: FactoryCase) -> FactoryCase:
        """Write ``after`` over ``before`` (read in this transaction), guarded by the version."""
        assert before.id is not None
        assert before.id == after.id
        result = self.conn.execute(
            update(factory_cases)
            .where(factory_cases.c.id == before.id, factory_cases.c.version == before.version)
            .values(
                status=after.status.value,
                station=None if after.station is None else after.station.value,
                closed_at=after.closed_at,
                version=before.version + 1,
            )
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"{before.label} changed meanwhile; read it again")
        old = {s.seq: s for s in before.steps}
        new_steps = []
        for step in after.steps:
            if step.seq not in old:
                new_steps.append(step)
            elif step != old[step.seq]:
                row = _step_row(before.id, step)
                self.conn.execute(
                    update(factory_steps)
                    .where(
                        factory_steps.c.case_id == before.id,
                        factory_steps.c.seq == step.seq,
                    )
                    .values(**{k: v for k, v in row.items() if k not in ("case_id", "seq")})
                )
        self._insert_steps(before.id, new_steps)
        return replace(after, version=before.version + 1)

    # ----------------------------------------------------------------------- events
    def record(
        self,
        action: str,
        *,
        by: str,
        at: datetime,
        case_id: int | None = None,
        staff: str | None = None,
        station: Station | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        note: str = "",
    ) -> None:
        self.conn.execute(
            insert(factory_events).values(
                case_id=case_id,
                staff=staff,
                action=action,
                station=None if station is None else station.value,
                from_state=from_state,
                to_state=to_state,
                by=by,
                at=at,
                note=note,
            )
        )

    def events(
        self, *, case_id: int | None = None, staff: str | None = None
    ) -> list[dict[str, Any]]:
        query = select(factory_events)
        if case_id is not None:
            query = query.where(factory_events.c.case_id == case_id)
        if staff is not None:
            query = query.where(factory_events.c.staff == staff)
        rows = self.conn.execute(query.order_by(factory_events.c.id))
        return [{**dict(r._mapping), "at": _utc(r.at)} for r in rows]

    def count_rows(self) -> dict[str, int]:
        """Rows per factory table (tests read them to prove a refusal wrote nothing)."""
        return count_rows(
            self.conn,
            (factory_staff, factory_assignments, factory_cases, factory_steps, factory_events),
        )


def _step_row(case_id: int, s: Step) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "seq": s.seq,
        "station": s.station.value,
        "rework": s.rework,
        "staff": s.staff,
        "enqueued_at": s.enqueued_at,
        "claimed_at": s.claimed_at,
        "completed_at": s.completed_at,
        "outcome": None if s.outcome is None else s.outcome.value,
        "note": s.note,
        "reassigned_from": list(s.reassigned_from),
    }


def _step(row: Any) -> Step:
    return Step(
        seq=row["seq"],
        station=Station(row["station"]),
        enqueued_at=_utc(row["enqueued_at"]),
        rework=bool(row["rework"]),
        staff=row["staff"],
        claimed_at=utc(row["claimed_at"]),
        completed_at=utc(row["completed_at"]),
        outcome=None if row["outcome"] is None else Outcome(row["outcome"]),
        note=row["note"],
        reassigned_from=tuple(row["reassigned_from"] or ()),
    )


def _case(row: Any, steps: Iterable[Step]) -> FactoryCase:
    return FactoryCase(
        id=int(row["id"]),
        application_id=row["application_id"],
        borrower=row["borrower"],
        amount=from_cents(row["amount_fen"]),
        term_months=row["term_months"],
        decision_id=row["decision_id"],
        status=CaseStatus(row["status"]),
        opened_by=row["opened_by"],
        opened_at=_utc(row["opened_at"]),
        closed_at=utc(row["closed_at"]),
        steps=tuple(steps),
        version=row["version"],
    )
