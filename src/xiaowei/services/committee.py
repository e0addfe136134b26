"""Credit committee use cases (信贷审批委员会): members, cases, the meeting, votes, the resolution.

Each state change is one transaction with its event row in ``committee_events``; a refusal
(no quorum, a conflicted or absent voter, a non-member, a second vote, a vote or a decision
after the decision, the secretary voting, a missing opinion) raises
:class:`~xiaowei.core.errors.InvalidState` or :class:`~xiaowei.core.errors.InvalidInput` before
anything is written, so it changes nothing. The rules are :mod:`xiaowei.decision.committee`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from xiaowei.adapters.committee_store import CommitteeStore
from xiaowei.adapters.files import write_atomically
from xiaowei.core.errors import InvalidInput, InvalidState, NotFound
from xiaowei.core.i18n import Lang
from xiaowei.decision.committee import (
    CaseStatus,
    Choice,
    CommitteeCase,
    Member,
    Proposal,
    Recusal,
    RecusalKind,
    Role,
    Vote,
    VotingRule,
    case_number,
    check_recusal,
    check_vote,
)
from xiaowei.decision.committee import convene as plan_meeting
from xiaowei.decision.committee import decide as resolve
from xiaowei.reports.resolution_form import (
    MemoAttachment,
    render_resolution_html,
    render_resolution_pdf,
)

__all__ = [
    "add_member",
    "convene",
    "deactivate_member",
    "decide",
    "declare_conflict",
    "events",
    "get_case",
    "list_cases",
    "list_members",
    "memo_sha256",
    "open_case",
    "resolution_memo",
    "stored_tally",
    "vote",
    "write_resolution_form",
]


def _who(by: str, field: str = "by") -> str:
    name = by.strip()
    if not name:
        raise InvalidInput(field, "the name of the person acting is required")
    if len(name) > 80:
        raise InvalidInput(field, "at most 80 characters")
    return name


def _now(at: datetime | None) -> datetime:
    return at or datetime.now(UTC)


def memo_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- members
def add_member(
    engine: Engine, name: str, role: Role | str, *, by: str, at: datetime | None = None
) -> Member:
    """Put a person on the committee (增补委员) as chair, member or secretary. A committee has
    one active chair."""
    who, when = _who(by), _now(at)
    try:
        as_role = Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInput("role", f"{role!r} is not one of {roles}") from None
    member = Member(name, as_role)
    with engine.begin() as conn:
        store = CommitteeStore(conn)
        if store.member(member.name) is not None:
            raise InvalidState(f"{member.name} is already on the committee's roll")
        if member.role is Role.CHAIR:
            chair = [m.name for m in store.members(active_only=True) if m.role is Role.CHAIR]
            if chair:
                raise InvalidState(
                    f"the committee already has a chair ({chair[0]}); deactivate them first"
                )
        store.add_member(member, by=who, at=when)
        store.record(
            "member_added",
            member=member.name,
            to_status="active",
            note=member.role.value,
            by=who,
            at=when,
        )
    return member


def deactivate_member(engine: Engine, name: str, *, by: str, at: datetime | None = None) -> Member:
    """Take a member off the committee (免去委员资格); past meetings keep their attendance."""
    who, when = _who(by), _now(at)
    with engine.begin() as conn:
        store = CommitteeStore(conn)
        member = store.member(name)
        if member is None:
            raise NotFound(f"{name} is not on the committee's roll")
        if not member.active:
            raise InvalidState(f"{name} is already inactive")
        store.deactivate_member(name, by=who, at=when)
        store.record(
            "member_deactivated",
            member=name,
            from_status="active",
            to_status="inactive",
            by=who,
            at=when,
        )
        return Member(member.name, member.role, active=False)


def list_members(engine: Engine, *, active_only: bool = False) -> list[Member]:
    with engine.connect() as conn:
        return CommitteeStore(conn).members(active_only=active_only)


# --------------------------------------------------------------------------- cases
def _load(store: CommitteeStore, case_id: int) -> CommitteeCase:
    case = store.case(case_id)
    if case is None:
        raise NotFound(f"no committee case {case_number(case_id)} (id {case_id})")
    return case


def get_case(engine: Engine, case_id: int) -> CommitteeCase:
    with engine.connect() as conn:
        return _load(CommitteeStore(conn), case_id)


def list_cases(engine: Engine, status: CaseStatus | None = None) -> list[CommitteeCase]:
    with engine.connect() as conn:
        store = CommitteeStore(conn)
        return [_load(store, i) for i in store.case_ids(status)]


def stored_tally(engine: Engine, case_id: int) -> dict[str, Any] | None:
    """The tally stored with the resolution (counts, quorum and the rule's threshold)."""
    with engine.connect() as conn:
        return CommitteeStore(conn).stored_tally(case_id)


def events(engine: Engine, case_id: int | None = None) -> list[dict[str, Any]]:
    """The audit trail (审计记录), oldest first: of one case, or of everything."""
    with engine.connect() as conn:
        store = CommitteeStore(conn)
        if case_id is not None:
            _load(store, case_id)
        return store.events(case_id)


def open_case(
    engine: Engine,
    *,
    application_id: str,
    borrower: str,
    amount: Decimal,
    term_months: int,
    annual_rate: Decimal,
    method: str,
    investigated_by: str,
    referred_by: str,
    memo_path: Path | None = None,
    decision_id: int | None = None,
    by: str,
    at: datetime | None = None,
    guarantee: str = "",
) -> CommitteeCase:
    """Put an application before the committee (提交上会): the case is open (待上会).

    The credit memo, when given, is fingerprinted (sha256) so that the resolution form attaches
    exactly the memo the committee saw. One undecided case per application."""
    who, when = _who(by), _now(at)
    app_id = application_id.strip()
    if not app_id or len(app_id) > 64:
        raise InvalidInput("application_id", "1 to 64 characters")
    name = borrower.strip()
    if not name or len(name) > 200:
        raise InvalidInput("borrower", "the borrower's name (1 to 200 characters) is required")
    investigator = _who(investigated_by, "investigated_by")
    referrer = _who(referred_by, "referred_by")
    proposal = Proposal(amount, term_months, annual_rate, method, guarantee)
    if decision_id is not None and (isinstance(decision_id, bool) or decision_id < 1):
        raise InvalidInput("decision_id", f"{decision_id} is not a decision id")
    memo: str | None = None
    digest: str | None = None
    if memo_path is not None:
        path = Path(memo_path).expanduser().resolve()
        if not path.is_file():
            raise InvalidInput("memo", f"{memo_path} is not a file")
        memo, digest = str(path), memo_sha256(path)
    with engine.begin() as conn:
        store = CommitteeStore(conn)
        pending = store.undecided_for(app_id)
        if pending:
            raise InvalidState(
                f"application {app_id} is already before the committee as case "
                f"{case_number(pending[0])}"
            )
        case_id = store.add_case(
            application_id=app_id,
            borrower=name,
            proposal=proposal,
            investigated_by=investigator,
            referred_by=referrer,
            memo_path=memo,
            memo_sha256=digest,
            decision_id=decision_id,
            by=who,
            at=when,
        )
        store.record(
            "opened",
            case_id=case_id,
            to_status=CaseStatus.OPEN.value,
            note=f"application {app_id}, {name}, {proposal.amount} CNY",
            by=who,
            at=when,
        )
        return _load(store, case_id)


def convene(
    engine: Engine,
    case_id: int,
    *,
    present: Sequence[str],
    by: str,
    meeting_date: date | None = None,
    rule: VotingRule | None = None,
    at: datetime | None = None,
) -> CommitteeCase:
    """Hold the meeting on a case (上会审议): record who of the active members is present,
    recuse the investigator and the referrer, check the quorum (refused without it) and fix the
    voting rule for this case. open → in_meeting."""
    who, when = _who(by), _now(at)
    rule = rule or VotingRule()
    day = meeting_date or when.date()
    with engine.begin() as conn:
        store = CommitteeStore(conn)
        case = _load(store, case_id)
        seats, recusals, quorum = plan_meeting(case, store.members(), present, rule)
        store.start_meeting(
            case, seats=seats, recusals=recusals, rule=rule, meeting_date=day, by=who, at=when
        )
        for r in recusals[len(case.recusals) :]:
            store.record(
                "recused",
                case_id=case.id,
                member=r.member,
                note=f"{r.kind.value}: {r.reason}",
                by=who,
                at=when,
            )
        absent = [s.member for s in seats if not s.present]
        store.record(
            "convened",
            case_id=case.id,
            from_status=case.status.value,
            to_status=CaseStatus.IN_MEETING.value,
            note=(
                f"meeting {day.isoformat()}; present: "
                f"{', '.join(s.member for s in seats if s.present)}; absent: "
                f"{', '.join(absent) or '-'}; quorum {quorum.eligible}/{quorum.required}"
            ),
            by=who,
            at=when,
        )
        return _load(store, case_id)


def declare_conflict(
    engine: Engine,
    case_id: int,
    *,
    member: str,
    reason: str,
    by: str | None = None,
    at: datetime | None = None,
) -> CommitteeCase:
    """A member declares a conflict of interest and is recused (申报利益冲突, 回避)."""
    name = _who(member, "member")
    who, when = _who(by if by is not None else name), _now(at)
    recusal = Recusal(name, RecusalKind.DECLARED, reason.strip())
    with engine.begin() as conn:
        store = CommitteeStore(conn)
        case = _load(store, case_id)
        check_recusal(case, store.members(), recusal)
        store.touch(case)
        store.add_recusal(case.id, recusal, by=who, at=when)
        store.record(
            "recused",
            case_id=case.id,
            member=name,
            note=f"declared: {recusal.reason}",
            by=who,
            at=when,
        )
        return _load(store, case_id)


def vote(
    engine: Engine,
    case_id: int,
    *,
    member: str,
    choice: Choice | str,
    opinion: str,
    conditions: str = "",
    at: datetime | None = None,
) -> CommitteeCase:
    """Record a member's vote with the written opinion (表决并签署意见). A vote stands once cast."""
    name, when = _who(member, "member"), _now(at)
    try:
        chosen = Choice(choice)
    except ValueError:
        options = ", ".join(c.value for c in Choice)
        raise InvalidInput("vote", f"{choice!r} is not one of {options}") from None
    with engine.begin() as conn:
        store = CommitteeStore(conn)
        case = _load(store, case_id)
        cast = check_vote(case, Vote(name, chosen, opinion, conditions, when))
        store.add_vote(case, cast, at=when)
        store.record(
            "voted", case_id=case.id, member=name, note=cast.choice.value, by=name, at=when
        )
        return _load(store, case_id)


def decide(engine: Engine, case_id: int, *, by: str, at: datetime | None = None) -> CommitteeCase:
    """Count the votes and record the resolution (形成决议). in_meeting → decided. Refused
    without quorum or while an eligible member present has not voted."""
    who, when = _who(by), _now(at)
    with engine.begin() as conn:
        store = CommitteeStore(conn)
        case = _load(store, case_id)
        outcome = resolve(case)
        store.resolve(case, outcome, by=who, at=when)
        tl = outcome.tally
        note = (
            f"{outcome.resolution.value}: {tl.in_favour} of {tl.eligible} in favour "
            f"(threshold {tl.threshold}), {tl.reject} against"
            + ("; vetoed by the chair" if tl.chair_vetoed else "")
        )
        store.record(
            "decided",
            case_id=case.id,
            from_status=case.status.value,
            to_status=CaseStatus.DECIDED.value,
            note=note,
            by=who,
            at=when,
        )
        return _load(store, case_id)


def resolution_memo(case: CommitteeCase) -> MemoAttachment | None:
    """The credit memo submitted with ``case``, checked against the fingerprint taken when the
    case was opened: a memo changed or gone since is refused, never attached silently."""
    if case.memo_path is None:
        return None
    path = Path(case.memo_path)
    if not path.is_file():
        raise InvalidState(f"the credit memo of case {case.number} is missing: {path}")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != case.memo_sha256:
        raise InvalidState(
            f"the credit memo {path} changed after case {case.number} was opened "
            f"(sha256 {case.memo_sha256}); the form attaches only the memo the committee saw"
        )
    return MemoAttachment(path.name, data.decode("utf-8"))


def write_resolution_form(
    engine: Engine,
    case_id: int,
    *,
    html: Path | None = None,
    pdf: Path | None = None,
    lang: Lang = "zh-CN",
    institution: str = "xiaowei 小微",
) -> CommitteeCase:
    """Write the resolution form (决议表) as HTML and/or PDF, the credit memo attached; each
    file is written atomically (a reader never sees half a form)."""
    if html is None and pdf is None:
        raise InvalidInput("html", "name an --html or a --pdf file (or both)")
    for option, out in (("html", html), ("pdf", pdf)):
        if out is not None and out.is_dir():
            raise InvalidInput(option, f"{out} is a folder")
    case = get_case(engine, case_id)
    memo = resolution_memo(case)
    pages: list[tuple[Path, bytes]] = []
    if html is not None:
        page = render_resolution_html(case, lang, memo=memo, institution=institution)
        pages.append((html, page.encode("utf-8")))
    if pdf is not None:
        pages.append((pdf, render_resolution_pdf(case, lang, memo=memo, institution=institution)))
    for out, content in pages:
        write_atomically(out, lambda tmp, content=content: tmp.write_bytes(content))  # type: ignore[misc]
    return case
