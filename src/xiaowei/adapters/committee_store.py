"""Persistence of the credit committee (信贷审批委员会): members, cases, meetings, votes, events.

Tables of ``adapters/orm.py`` (section "committee", migration 0004). Money is stored in fen and
the rate in parts per million. A meeting stores one attendance row per member of the committee
as it stood (a snapshot: later changes of membership do not alter a past meeting). Writes that
move a case are guarded by its version (optimistic locking: a stale writer gets
:class:`~xiaowei.core.errors.ConcurrencyConflict`), and ``committee_events`` is append-only. The
rules live in ``decision/committee.py`` and the use cases in ``services/committee.py``; this
module only reads and writes, inside the caller's transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from xiaowei.adapters.orm import (
    committee_attendance,
    committee_cases,
    committee_events,
    committee_members,
    committee_recusals,
    committee_votes,
)
from xiaowei.adapters.repository import rate_ppm
from xiaowei.adapters.rows import count_rows
from xiaowei.core.errors import ConcurrencyConflict
from xiaowei.core.money import from_cents, to_cents
from xiaowei.decision.committee import (
    CaseStatus,
    Choice,
    CommitteeCase,
    Member,
    Outcome,
    Proposal,
    Recusal,
    RecusalKind,
    Resolution,
    Role,
    Seat,
    Vote,
    VotingRule,
)

PPM = Decimal(1_000_000)


class CommitteeStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # ------------------------------------------------------------------ members
    def add_member(self, member: Member, *, by: str, at: datetime) -> None:
        self.conn.execute(
            insert(committee_members).values(
                name=member.name, role=member.role.value, active=True, added_by=by, added_at=at
            )
        )

    def member(self, name: str) -> Member | None:
        row = self.conn.execute(
            select(committee_members).where(committee_members.c.name == name)
        ).first()
        return None if row is None else _member(row._mapping)

    def members(self, *, active_only: bool = False) -> list[Member]:
        """Chair first, then members, then the secretary; by name within a role."""
        query = select(committee_members)
        if active_only:
            query = query.where(committee_members.c.active.is_(True))
        members = [_member(r._mapping) for r in self.conn.execute(query)]
        order = {Role.CHAIR: 0, Role.MEMBER: 1, Role.SECRETARY: 2}
        return sorted(members, key=lambda m: (order[m.role], m.name))

    def deactivate_member(self, name: str, *, by: str, at: datetime) -> None:
        result = self.conn.execute(
            update(committee_members)
            .where(committee_members.c.name == name, committee_members.c.active.is_(True))
            .values(active=False, deactivated_by=by, deactivated_at=at)
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"member {name} changed meanwhile; read it again")

    # ------------------------------------------------------------------ cases
    def add_case(
        self,
        *,
        application_id: str,
        borrower: str,
        proposal: Proposal,
        investigated_by: str,
        referred_by: str,
        memo_path: str | None,
        memo_sha256: str | None,
        decision_id: int | None,
        by: str,
        at: datetime,
    ) -> int:
        result = self.conn.execute(
            insert(committee_cases)
            .values(
                application_id=application_id,
                borrower=borrower,
                amount_fen=to_cents(proposal.amount),
                term_months=proposal.term_months,
                rate_ppm=rate_ppm(proposal.annual_rate),
                method=proposal.method,
                guarantee=proposal.guarantee,
                investigated_by=investigated_by,
                referred_by=referred_by,
                memo_path=memo_path,
                memo_sha256=memo_sha256,
                decision_id=decision_id,
                status=CaseStatus.OPEN.value,
                opened_by=by,
                opened_at=at,
                version=1,
            )
            .returning(committee_cases.c.id)
        )
        return int(result.scalar_one())

    def undecided_for(self, application_id: str) -> list[int]:
        rows = self.conn.execute(
            select(committee_cases.c.id).where(
                committee_cases.c.application_id == application_id,
                committee_cases.c.status != CaseStatus.DECIDED.value,
            )
        )
        return [int(r[0]) for r in rows]

    def case(self, case_id: int) -> CommitteeCase | None:
        row = self.conn.execute(
            select(committee_cases).where(committee_cases.c.id == case_id)
        ).first()
        if row is None:
            return None
        seats = tuple(
            Seat(r.member, Role(r.role), bool(r.present))
            for r in self.conn.execute(
                select(committee_attendance)
                .where(committee_attendance.c.case_id == case_id)
                .order_by(committee_attendance.c.seat)
            )
        )
        recusals = tuple(
            Recusal(r.member, RecusalKind(r.kind), r.reason)
            for r in self.conn.execute(
                select(committee_recusals)
                .where(committee_recusals.c.case_id == case_id)
                .order_by(committee_recusals.c.at, committee_recusals.c.member)
            )
        )
        votes = tuple(
            Vote(r.member, Choice(r.choice), r.opinion, r.conditions, r.at)
            for r in self.conn.execute(
                select(committee_votes)
                .where(committee_votes.c.case_id == case_id)
                .order_by(committee_votes.c.seq)
            )
        )
        return _case(row._mapping, seats, recusals, votes)

    def case_ids(self, status: CaseStatus | None = None) -> list[int]:
        query = select(committee_cases.c.id).order_by(committee_cases.c.id)
        if status is not None:
            query = query.where(committee_cases.c.status == status.value)
        return [int(r[0]) for r in self.conn.execute(query)]

    def _move(self, case: CommitteeCase, **values: Any) -> None:
        """Update the case if nobody changed it since it was read; bump its version."""
        result = self.conn.execute(
            update(committee_cases)
            .where(
                committee_cases.c.id == case.id,
                committee_cases.c.version == case.version,
                committee_cases.c.status == case.status.value,
            )
            .values(version=case.version + 1, **values)
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"case {case.number} changed meanwhile; read it again")

    def start_meeting(
        self,
        case: CommitteeCase,
        *,
        seats: tuple[Seat, ...],
        recusals: tuple[Recusal, ...],
        rule: VotingRule,
        meeting_date: date,
        by: str,
        at: datetime,
    ) -> None:
        self._move(
            case,
            status=CaseStatus.IN_MEETING.value,
            rule=rule.to_json(),
            meeting_date=meeting_date,
        )
        self.conn.execute(
            insert(committee_attendance),
            [
                {
                    "case_id": case.id,
                    "member": s.member,
                    "seat": i,
                    "role": s.role.value,
                    "present": s.present,
                }
                for i, s in enumerate(seats, start=1)
            ],
        )
        known = {r.member for r in case.recusals}
        for r in recusals:
            if r.member not in known:
                self.add_recusal(case.id, r, by=by, at=at)

    def add_recusal(self, case_id: int, recusal: Recusal, *, by: str, at: datetime) -> None:
        self.conn.execute(
            insert(committee_recusals).values(
                case_id=case_id,
                member=recusal.member,
                kind=recusal.kind.value,
                reason=recusal.reason,
                by=by,
                at=at,
            )
        )

    def touch(self, case: CommitteeCase) -> None:
        """Bump the version: a change to the case's votes or recusals (guards concurrent
        writers, e.g. a vote racing the decision)."""
        self._move(case)

    def add_vote(self, case: CommitteeCase, vote: Vote, *, at: datetime) -> None:
        self._move(case)
        seq = self.conn.execute(
            select(func.coalesce(func.max(committee_votes.c.seq), 0)).where(
                committee_votes.c.case_id == case.id
            )
        ).scalar_one()
        self.conn.execute(
            insert(committee_votes).values(
                case_id=case.id,
                member=vote.member,
                seq=int(seq) + 1,
                choice=vote.choice.value,
                opinion=vote.opinion,
                conditions=vote.conditions,
                at=at,
            )
        )

    def resolve(self, case: CommitteeCase, outcome: Outcome, *, by: str, at: datetime) -> None:
        q, tl = outcome.quorum, outcome.tally
        self._move(
            case,
            status=CaseStatus.DECIDED.value,
            resolution=outcome.resolution.value,
            conditions=list(tl.conditions_text),
            tally={
                "approve": tl.approve,
                "conditions": tl.conditions,
                "reject": tl.reject,
                "eligible": tl.eligible,
                "threshold": str(tl.threshold),
                "chair_vetoed": tl.chair_vetoed,
                "voting_members": q.voting_members,
                "present": q.present,
                "recused": q.recused,
                "required": q.required,
            },
            decided_by=by,
            decided_at=at,
        )

    def stored_tally(self, case_id: int) -> dict[str, Any] | None:
        value = self.conn.execute(
            select(committee_cases.c.tally).where(committee_cases.c.id == case_id)
        ).scalar_one_or_none()
        return None if value is None else dict(value)

    # ------------------------------------------------------------------ events
    def record(
        self,
        action: str,
        *,
        by: str,
        at: datetime,
        case_id: int | None = None,
        member: str | None = None,
        from_status: str | None = None,
        to_status: str | None = None,
        note: str = "",
    ) -> None:
        self.conn.execute(
            insert(committee_events).values(
                case_id=case_id,
                member=member,
                action=action,
                from_status=from_status,
                to_status=to_status,
                by=by,
                at=at,
                note=note,
            )
        )

    def events(self, case_id: int | None = None) -> list[dict[str, Any]]:
        query = select(committee_events).order_by(committee_events.c.id)
        if case_id is not None:
            query = query.where(committee_events.c.case_id == case_id)
        return [dict(r._mapping) for r in self.conn.execute(query)]

    def count_rows(self) -> dict[str, int]:
        """Rows per committee table (tests check that a refusal wrote nothing)."""
        return count_rows(
            self.conn,
            (
                committee_members,
                committee_cases,
                committee_attendance,
                committee_recusals,
                committee_votes,
                committee_events,
            ),
        )


def _member(row: Any) -> Member:
    return Member(name=row["name"], role=Role(row["role"]), active=bool(row["active"]))


def _case(
    row: Any,
    seats: tuple[Seat, ...],
    recusals: tuple[Recusal, ...],
    votes: tuple[Vote, ...],
) -> CommitteeCase:
    proposal = Proposal(
        amount=from_cents(int(row["amount_fen"])),
        term_months=row["term_months"],
        annual_rate=(Decimal(row["rate_ppm"]) / PPM).quantize(Decimal("0.000001")),
        method=row["method"],
        guarantee=row["guarantee"],
    )
    return CommitteeCase(
        id=int(row["id"]),
        application_id=row["application_id"],
        borrower=row["borrower"],
        proposal=proposal,
        investigated_by=row["investigated_by"],
        referred_by=row["referred_by"],
        status=CaseStatus(row["status"]),
        opened_by=row["opened_by"],
        opened_at=row["opened_at"],
        memo_path=row["memo_path"],
        memo_sha256=row["memo_sha256"],
        decision_id=row["decision_id"],
        meeting_date=row["meeting_date"],
        rule=None if row["rule"] is None else VotingRule.from_json(row["rule"]),
        seats=seats,
        recusals=recusals,
        votes=votes,
        resolution=None if row["resolution"] is None else Resolution(row["resolution"]),
        conditions=tuple(row["conditions"] or ()),
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        version=int(row["version"]),
    )
