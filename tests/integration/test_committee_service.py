"""The committee workflow on SQLite and PostgreSQL: open, convene, recuse, vote, decide, the audit
trail, the resolution form; every refusal is a clear error that writes nothing."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from xiaowei.adapters.committee_store import CommitteeStore
from xiaowei.adapters.migrate import current_revision
from xiaowei.core.errors import InvalidInput, InvalidState, NotFound
from xiaowei.decision.committee import CaseStatus, Choice, Resolution
from xiaowei.services import committee as cc

T0 = datetime(2025, 5, 8, 9, 0, tzinfo=UTC)
MEMBERS = ["wang", "li", "zhao", "chen", "sun", "zhou", "wu"]  # wang chairs


def _committee(db: Engine) -> None:
    cc.add_member(db, "wang", "chair", by="admin", at=T0)
    for name in MEMBERS[1:]:
        cc.add_member(db, name, "member", by="admin", at=T0)
    cc.add_member(db, "qian", "secretary", by="admin", at=T0)


def _open(db: Engine, memo: Path | None = None, application_id: str = "APP-3") -> int:
    case = cc.open_case(
        db,
        application_id=application_id,
        borrower="台州市安泰副食品商行",
        amount=Decimal("200000.00"),
        term_months=12,
        annual_rate=Decimal("0.0865"),
        method="equal-installment",
        investigated_by="zhou",
        referred_by="li",
        memo_path=memo,
        by="zhou",
        at=T0,
    )
    return case.id


def _rows(db: Engine) -> dict[str, int]:
    with db.connect() as conn:
        return CommitteeStore(conn).count_rows()


def _refused(db: Engine, error: type[Exception], match: str, call: Any) -> None:
    before = _rows(db)
    with pytest.raises(error, match=match):
        call()
    assert _rows(db) == before


def test_schema_is_at_or_past_committee(db: Engine) -> None:
    assert (current_revision(db) or "") >= "0004"


def test_the_whole_meeting(db: Engine, tmp_path: Path) -> None:
    memo = tmp_path / "memo.html"
    memo.write_text("<!DOCTYPE html><html><body><h1>授信审查报告</h1></body></html>", "utf-8")
    _committee(db)
    case_id = _open(db, memo)
    case = cc.get_case(db, case_id)
    assert case.proposal.amount == Decimal("200000.00")
    assert case.proposal.annual_rate == Decimal("0.086500")
    assert case.memo_sha256 == hashlib.sha256(memo.read_bytes()).hexdigest()

    present = [*MEMBERS, "qian"]
    case = cc.convene(db, case_id, present=present, by="qian", meeting_date=date(2025, 5, 8), at=T0)
    assert case.status is CaseStatus.IN_MEETING
    assert case.meeting_date == date(2025, 5, 8)
    assert {r.member for r in case.recusals} == {"zhou", "li"}
    assert [s.member for s in case.seats if s.role.value == "secretary"] == ["qian"]
    # wu declares a conflict during the meeting: eligible wang, zhao, chen, sun = 4 < 5 required
    cc.declare_conflict(db, case_id, member="wu", reason="supplies the borrower", at=T0)
    for member, choice in (("wang", "approve"), ("zhao", "approve"), ("chen", "approve")):
        cc.vote(db, case_id, member=member, choice=choice, opinion="cash flow covers", at=T0)
    cc.vote(db, case_id, member="sun", choice="reject", opinion="thin margin", at=T0)
    _refused(
        db,
        InvalidState,
        r"no quorum .*4 eligible voter\(s\).*5 required; the committee cannot decide",
        lambda: cc.decide(db, case_id, by="qian", at=T0),
    )
    assert cc.get_case(db, case_id).status is CaseStatus.IN_MEETING


def test_decide_with_conditions_and_the_audit_trail(db: Engine) -> None:
    _committee(db)
    case_id = _open(db)
    cc.convene(db, case_id, present=[*MEMBERS, "qian"], by="qian", at=T0)
    cc.vote(db, case_id, member="wang", choice=Choice.APPROVE, opinion="同意", at=T0)
    cc.vote(
        db, case_id, member="zhao", choice="conditions", opinion="ok", conditions="配偶担保", at=T0
    )
    cc.vote(db, case_id, member="chen", choice="approve", opinion="ok", at=T0)
    cc.vote(db, case_id, member="sun", choice="reject", opinion="weak", at=T0)
    cc.vote(db, case_id, member="wu", choice="approve", opinion="ok", at=T0)
    case = cc.decide(db, case_id, by="qian", at=T0)
    assert case.status is CaseStatus.DECIDED
    assert case.resolution is Resolution.CONDITIONAL
    assert case.conditions == ("配偶担保",)
    tally = cc.stored_tally(db, case_id)
    assert tally is not None
    assert (tally["approve"], tally["conditions"], tally["reject"], tally["eligible"]) == (
        3,
        1,
        1,
        5,
    )
    trail = [
        (e["action"], e["member"], e["from_status"], e["to_status"]) for e in cc.events(db, case_id)
    ]
    assert trail == [
        ("opened", None, None, "open"),
        ("recused", "zhou", None, None),
        ("recused", "li", None, None),
        ("convened", None, "open", "in_meeting"),
        ("voted", "wang", None, None),
        ("voted", "zhao", None, None),
        ("voted", "chen", None, None),
        ("voted", "sun", None, None),
        ("voted", "wu", None, None),
        ("decided", None, "in_meeting", "decided"),
    ]
    # after the decision: no vote, no second decision, no recusal
    _refused(db, InvalidState, "already decided", lambda: cc.decide(db, case_id, by="qian"))
    _refused(
        db,
        InvalidState,
        "already decided",
        lambda: cc.vote(db, case_id, member="wu", choice="reject", opinion="late"),
    )
    _refused(
        db,
        InvalidState,
        "decided",
        lambda: cc.declare_conflict(db, case_id, member="wu", reason="late"),
    )
    # a new case for the same application may be opened once this one is decided
    assert _open(db) != case_id


def test_refusals_change_nothing(db: Engine, tmp_path: Path) -> None:
    _committee(db)
    case_id = _open(db)
    _refused(
        db,
        InvalidState,
        "already on the committee",
        lambda: cc.add_member(db, "li", "member", by="a"),
    )
    _refused(
        db, InvalidState, "already has a chair", lambda: cc.add_member(db, "x", "chair", by="a")
    )
    _refused(db, InvalidInput, "role", lambda: cc.add_member(db, "x", "boss", by="a"))
    _refused(db, InvalidState, "already before the committee", lambda: _open(db))
    _refused(db, InvalidInput, "memo", lambda: _open(db, tmp_path / "none.html", "APP-9"))
    _refused(
        db,
        InvalidState,
        "not been convened",
        lambda: cc.vote(db, case_id, member="wang", choice="approve", opinion="ok"),
    )
    _refused(db, InvalidState, "not been convened", lambda: cc.decide(db, case_id, by="qian"))
    _refused(
        db,
        InvalidState,
        "no quorum",
        lambda: cc.convene(db, case_id, present=["wang", "zhao", "chen", "sun"], by="qian"),
    )
    _refused(
        db,
        InvalidState,
        "not active members",
        lambda: cc.convene(db, case_id, present=[*MEMBERS, "stranger"], by="qian"),
    )
    _refused(db, NotFound, "CC-0099", lambda: cc.get_case(db, 99))
    _refused(
        db,
        InvalidState,
        "secretary",
        lambda: cc.declare_conflict(db, case_id, member="qian", reason="x"),
    )
    # a declared conflict before the meeting is kept and counted at the meeting
    cc.declare_conflict(db, case_id, member="wu", reason="supplier of the borrower", at=T0)
    _refused(
        db,
        InvalidState,
        "already recused",
        lambda: cc.declare_conflict(db, case_id, member="wu", reason="again"),
    )
    # with wu, zhou and li recused only 4 can vote: the meeting cannot be held
    _refused(
        db,
        InvalidState,
        r"no quorum .*4 eligible voter\(s\) present \(7 of 7 voting members present, 3 recused\)",
        lambda: cc.convene(db, case_id, present=[*MEMBERS, "qian"], by="qian"),
    )
    assert cc.get_case(db, case_id).status is CaseStatus.OPEN


def test_votes_refused_in_meeting(db: Engine) -> None:
    _committee(db)
    case_id = _open(db)
    cc.convene(db, case_id, present=[*MEMBERS, "qian"], by="qian", at=T0)

    def vote(
        member: str, choice: str = "approve", opinion: str = "ok", conditions: str = ""
    ) -> Any:
        return lambda: cc.vote(
            db, case_id, member=member, choice=choice, opinion=opinion, conditions=conditions
        )

    _refused(db, InvalidState, r"zhou is recused .*调查人", vote("zhou"))
    _refused(db, InvalidState, r"li is recused .*推荐人", vote("li"))
    _refused(db, InvalidState, "secretary", vote("qian"))
    _refused(db, InvalidState, "not a member", vote("stranger"))
    _refused(db, InvalidInput, "opinion", vote("wang", opinion=" "))
    _refused(db, InvalidInput, "conditions", vote("wang", choice="conditions"))
    _refused(db, InvalidInput, "vote", vote("wang", choice="abstain"))
    cc.vote(db, case_id, member="wang", choice="reject", opinion="no", at=T0)
    _refused(db, InvalidState, "already voted", vote("wang"))
    _refused(db, InvalidState, "waits for the vote", lambda: cc.decide(db, case_id, by="qian"))
    for member in ("zhao", "chen", "sun", "wu"):
        cc.vote(db, case_id, member=member, choice="approve", opinion="ok", at=T0)
    case = cc.decide(db, case_id, by="qian", at=T0)
    # 4 of 5 in favour, but the chair voted reject: vetoed
    assert case.resolution is Resolution.REJECTED
    tally = cc.stored_tally(db, case_id)
    assert tally is not None
    assert tally["chair_vetoed"] is True


def test_member_deactivation_keeps_past_meetings(db: Engine) -> None:
    _committee(db)
    case_id = _open(db)
    cc.convene(db, case_id, present=[*MEMBERS, "qian"], by="qian", at=T0)
    member = cc.deactivate_member(db, "wu", by="admin", at=T0)
    assert not member.active
    assert "wu" in [s.member for s in cc.get_case(db, case_id).seats]
    _refused(db, InvalidState, "already inactive", lambda: cc.deactivate_member(db, "wu", by="a"))
    _refused(db, NotFound, "not on the committee", lambda: cc.deactivate_member(db, "x", by="a"))
    assert [m.name for m in cc.list_members(db, active_only=True)] == [
        "wang", "chen", "li", "sun", "zhao", "zhou", "qian",
    ]  # fmt: skip


def test_the_form_attaches_only_the_memo_the_committee_saw(db: Engine, tmp_path: Path) -> None:
    memo = tmp_path / "memo.html"
    memo.write_text("<html><body><h1>授信审查报告</h1><p>business 3</p></body></html>", "utf-8")
    _committee(db)
    case_id = _open(db, memo)
    html, pdf = tmp_path / "form.html", tmp_path / "form.pdf"
    cc.write_resolution_form(db, case_id, html=html, pdf=pdf, lang="en")
    page = html.read_text("utf-8")
    assert "CC-0001" in page
    assert "DRAFT" in page
    assert "&lt;h1&gt;授信审查报告&lt;/h1&gt;" in page  # inside the iframe's srcdoc
    assert pdf.read_bytes()[:5] == b"%PDF-"
    memo.write_text("<html><body>edited afterwards</body></html>", "utf-8")
    with pytest.raises(InvalidState, match="changed after case CC-0001 was opened"):
        cc.write_resolution_form(db, case_id, html=tmp_path / "again.html")
    assert not (tmp_path / "again.html").exists()
    with pytest.raises(InvalidInput, match="html"):
        cc.write_resolution_form(db, case_id)
