"""The credit committee (信贷审批委员会, 贷审会): members, quorum, votes, recusal, the resolution.

A committee case (上会项目) is one loan application put before the committee: the borrower, the
proposal (amount, term, rate, repayment method, guarantee), who investigated it (调查人) and who
referred and presented it (推荐人 / 主审人), optionally the automated decision and the credit memo
(授信审查报告) it comes with. The case moves open (待上会) → in_meeting (审议中) → decided (已决议).

Rules, as built (each a field of :class:`VotingRule`, so an institution sets its own charter):

* **Voting members** are the chair (主任委员) and the members (委员); the secretary (秘书) records
  the meeting and does not vote.
* **Recusal** (利益冲突回避): whoever investigated or referred the application cannot vote on it
  (a loan officer does not approve his own case, the four-eyes principle of 审贷分离); any member
  may also declare a conflict. A recused member may attend but neither votes nor counts towards
  the quorum.
* **Quorum** (法定人数): the eligible voters present (voting members present, less the recused)
  must be at least ``max(min_present, ceil(quorum_share × voting members of the committee))``;
  defaults ⅔ and 3. With 7 voting members, 5 must be present and eligible. Without quorum the
  meeting cannot open and the committee cannot decide.
* **Approval**: (approve + approve with conditions) ÷ eligible voters present ≥ ``threshold``
  (default ⅔). Every eligible member present must have voted before the committee decides, and
  every vote carries a written opinion (意见); a conditional approval names its conditions.
* **Chair's veto** (主任委员一票否决, on by default): a chair who votes reject turns an approval
  into a rejection. The chair's vote counts as one vote otherwise, so the chair can never turn a
  rejection into an approval.
* **Resolution**: approved (同意), approved with conditions (附条件同意: the union of the
  conditions of every conditional vote, in voting order) or rejected (否决).

Everything here is pure: frozen dataclasses and functions; a refusal raises
:class:`~xiaowei.core.errors.InvalidState` or :class:`~xiaowei.core.errors.InvalidInput` and
changes nothing. Storage is ``adapters/committee_store.py``, use cases ``services/committee.py``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from xiaowei.core.errors import InvalidInput, InvalidState
from xiaowei.core.money import parse_amount
from xiaowei.lending.schedule import RepaymentMethod

__all__ = [
    "CaseStatus",
    "Choice",
    "CommitteeCase",
    "Member",
    "Outcome",
    "Proposal",
    "QuorumCheck",
    "Recusal",
    "RecusalKind",
    "Resolution",
    "Role",
    "Seat",
    "Tally",
    "Vote",
    "VotingRule",
    "case_number",
    "check_quorum",
    "check_recusal",
    "check_vote",
    "convene",
    "decide",
    "eligible_voters",
    "mandatory_recusals",
    "parse_fraction",
    "required_quorum",
    "tally",
    "tally_case",
]

NAME_MAX = 80
TEXT_MAX = 4000


class Role(StrEnum):
    """A member's role on the committee (委员会职务)."""

    CHAIR = "chair"  # 主任委员
    MEMBER = "member"  # 委员
    SECRETARY = "secretary"  # 秘书: records, does not vote

    @property
    def votes(self) -> bool:
        return self is not Role.SECRETARY

    @property
    def name_zh(self) -> str:
        return {"chair": "主任委员", "member": "委员", "secretary": "秘书"}[self.value]


class Choice(StrEnum):
    """A vote (表决意见)."""

    APPROVE = "approve"  # 同意
    CONDITIONS = "conditions"  # 附条件同意
    REJECT = "reject"  # 否决

    @property
    def name_zh(self) -> str:
        return {"approve": "同意", "conditions": "附条件同意", "reject": "否决"}[self.value]

    @property
    def approves(self) -> bool:
        return self is not Choice.REJECT


class CaseStatus(StrEnum):
    """Where a case stands (上会状态)."""

    OPEN = "open"  # 待上会
    IN_MEETING = "in_meeting"  # 审议中
    DECIDED = "decided"  # 已决议

    @property
    def name_zh(self) -> str:
        return {"open": "待上会", "in_meeting": "审议中", "decided": "已决议"}[self.value]


class Resolution(StrEnum):
    """The committee's resolution (决议)."""

    APPROVED = "approved"  # 同意
    CONDITIONAL = "conditional"  # 附条件同意
    REJECTED = "rejected"  # 否决

    @property
    def name_zh(self) -> str:
        return {"approved": "同意", "conditional": "附条件同意", "rejected": "否决"}[self.value]


class RecusalKind(StrEnum):
    """Why a member does not vote (回避事由)."""

    INVESTIGATED = "investigated"  # 调查人
    REFERRED = "referred"  # 推荐人 / 主审人
    DECLARED = "declared"  # 自行申报利益冲突

    @property
    def name_zh(self) -> str:
        return {"investigated": "调查人", "referred": "推荐人/主审人", "declared": "申报利益冲突"}[
            self.value
        ]


def _name(value: str, field_name: str) -> str:
    name = value.strip()
    if not name:
        raise InvalidInput(field_name, "a name is required")
    if len(name) > NAME_MAX:
        raise InvalidInput(field_name, f"at most {NAME_MAX} characters")
    if "," in name:
        raise InvalidInput(field_name, f"{name!r}: a name cannot contain a comma")
    return name


def _text(value: str, field_name: str, *, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise InvalidInput(field_name, "is required")
    if len(text) > TEXT_MAX:
        raise InvalidInput(field_name, f"at most {TEXT_MAX} characters")
    return text


@dataclass(frozen=True)
class Member:
    """A committee member (委员会成员); ``name`` identifies the person."""

    name: str
    role: Role
    active: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _name(self.name, "name"))
        try:
            object.__setattr__(self, "role", Role(self.role))
        except ValueError:
            roles = ", ".join(r.value for r in Role)
            raise InvalidInput("role", f"{self.role!r} is not one of {roles}") from None


def parse_fraction(value: str | Fraction | int, field_name: str) -> Fraction:
    """``"2/3"``, ``"0.5"`` or a Fraction, in (0, 1]."""
    try:
        result = Fraction(value) if not isinstance(value, str) else Fraction(value.strip())
    except (ValueError, ZeroDivisionError):
        raise InvalidInput(field_name, f"{value!r} is not a fraction such as 2/3") from None
    if not 0 < result <= 1:
        raise InvalidInput(field_name, f"{value} must be in (0, 1]")
    return result


@dataclass(frozen=True)
class VotingRule:
    """The committee's charter on quorum and voting (议事规则).

    ``quorum_share`` of the committee's voting members, and never fewer than ``min_present``,
    must be present and eligible; ``threshold`` of the eligible voters present must approve;
    ``chair_veto``: the chair's reject vote rejects whatever the count."""

    threshold: Fraction = Fraction(2, 3)
    quorum_share: Fraction = Fraction(2, 3)
    min_present: int = 3
    chair_veto: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", parse_fraction(self.threshold, "threshold"))
        object.__setattr__(self, "quorum_share", parse_fraction(self.quorum_share, "quorum_share"))
        if isinstance(self.min_present, bool) or not 1 <= int(self.min_present) <= 100:
            raise InvalidInput("min_present", f"{self.min_present} must be between 1 and 100")

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": str(self.threshold),
            "quorum_share": str(self.quorum_share),
            "min_present": self.min_present,
            "chair_veto": self.chair_veto,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VotingRule:
        return cls(
            threshold=Fraction(data["threshold"]),
            quorum_share=Fraction(data["quorum_share"]),
            min_present=int(data["min_present"]),
            chair_veto=bool(data["chair_veto"]),
        )


@dataclass(frozen=True)
class Proposal:
    """The loan proposed to the committee (授信方案). Amount to the fen, rate to 1e-6."""

    amount: Decimal
    term_months: int
    annual_rate: Decimal
    method: str
    guarantee: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.amount, float):
            raise InvalidInput("amount", "money is never a float; pass a Decimal or a string")
        object.__setattr__(self, "amount", parse_amount(self.amount, field="amount"))
        if isinstance(self.term_months, bool) or not 1 <= int(self.term_months) <= 360:
            raise InvalidInput("term_months", f"{self.term_months} must be 1 to 360 months")
        rate = self.annual_rate
        if isinstance(rate, float) or not isinstance(rate, Decimal | int | str):
            raise InvalidInput("annual_rate", "pass a Decimal such as 0.0865")
        try:
            rate = Decimal(str(rate).strip())
        except ArithmeticError:
            raise InvalidInput("annual_rate", f"{self.annual_rate!r} is not a number") from None
        if not rate.is_finite() or not 0 <= rate <= 1:
            raise InvalidInput("annual_rate", f"{rate} must be between 0 and 1 (e.g. 0.0865)")
        if rate != rate.quantize(Decimal("0.000001")):
            raise InvalidInput("annual_rate", f"{rate} has more than six decimals")
        object.__setattr__(self, "annual_rate", rate)
        methods = [m.value for m in RepaymentMethod]
        if self.method not in methods:
            raise InvalidInput("method", f"{self.method!r} is not one of {', '.join(methods)}")
        object.__setattr__(self, "guarantee", _text(self.guarantee, "guarantee", required=False))

    @property
    def method_zh(self) -> str:
        return RepaymentMethod(self.method).name_zh


@dataclass(frozen=True)
class Seat:
    """One committee member as the meeting found them (出席情况): role and presence."""

    member: str
    role: Role
    present: bool


@dataclass(frozen=True)
class Recusal:
    """A member who does not vote on this case (回避), and why."""

    member: str
    kind: RecusalKind
    reason: str


@dataclass(frozen=True)
class Vote:
    """One member's vote with the written opinion (书面意见)."""

    member: str
    choice: Choice
    opinion: str
    conditions: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class QuorumCheck:
    """The quorum test (法定人数核对) of a meeting."""

    voting_members: int  # voting members of the committee at the meeting
    present: int  # voting members present
    recused: int  # of those present, recused
    eligible: int  # present and not recused: the voters
    required: int  # eligible voters the rule requires

    @property
    def met(self) -> bool:
        return self.eligible >= self.required


@dataclass(frozen=True)
class Tally:
    """The count of the votes and the resolution it gives (表决结果)."""

    approve: int
    conditions: int
    reject: int
    eligible: int
    threshold: Fraction
    chair_vetoed: bool
    resolution: Resolution
    conditions_text: tuple[str, ...]

    @property
    def in_favour(self) -> int:
        return self.approve + self.conditions

    @property
    def share(self) -> Fraction:
        return Fraction(self.in_favour, self.eligible) if self.eligible else Fraction(0)


@dataclass(frozen=True)
class Outcome:
    """What :func:`decide` returns: the quorum check and the tally."""

    quorum: QuorumCheck
    tally: Tally

    @property
    def resolution(self) -> Resolution:
        return self.tally.resolution


@dataclass(frozen=True)
class CommitteeCase:
    """A case before the committee (上会项目) and everything recorded on it."""

    id: int
    application_id: str
    borrower: str
    proposal: Proposal
    investigated_by: str
    referred_by: str
    status: CaseStatus
    opened_by: str
    opened_at: datetime
    memo_path: str | None = None
    memo_sha256: str | None = None
    decision_id: int | None = None
    meeting_date: date | None = None
    rule: VotingRule | None = None
    seats: tuple[Seat, ...] = ()
    recusals: tuple[Recusal, ...] = ()
    votes: tuple[Vote, ...] = ()
    resolution: Resolution | None = None
    conditions: tuple[str, ...] = ()
    decided_by: str | None = None
    decided_at: datetime | None = None
    version: int = 1

    @property
    def number(self) -> str:
        return case_number(self.id)

    def seat(self, member: str) -> Seat | None:
        return next((s for s in self.seats if s.member == member), None)

    def recusal(self, member: str) -> Recusal | None:
        return next((r for r in self.recusals if r.member == member), None)

    def vote_of(self, member: str) -> Vote | None:
        return next((v for v in self.votes if v.member == member), None)


def case_number(case_id: int) -> str:
    """The case number printed on the resolution form (上会编号), e.g. ``CC-0007``."""
    return f"CC-{case_id:04d}"


def required_quorum(voting_members: int, rule: VotingRule) -> int:
    """Eligible voters a meeting needs: ``max(min_present, ceil(quorum_share × members))``."""
    return max(rule.min_present, math.ceil(rule.quorum_share * voting_members))


def mandatory_recusals(
    investigated_by: str, referred_by: str, members: Iterable[str]
) -> tuple[Recusal, ...]:
    """The members who must not vote: the investigator (调查人) and the referrer (推荐人)."""
    out: list[Recusal] = []
    names = set(members)
    if investigated_by in names:
        out.append(
            Recusal(
                investigated_by,
                RecusalKind.INVESTIGATED,
                "investigated the application 调查人",
            )
        )
    if referred_by in names and referred_by != investigated_by:
        out.append(Recusal(referred_by, RecusalKind.REFERRED, "referred the application 推荐人"))
    return tuple(out)


def eligible_voters(seats: Sequence[Seat], recusals: Sequence[Recusal]) -> tuple[str, ...]:
    """Voting members present and not recused, in seat order."""
    recused = {r.member for r in recusals}
    return tuple(s.member for s in seats if s.present and s.role.votes and s.member not in recused)


def check_quorum(
    seats: Sequence[Seat], recusals: Sequence[Recusal], rule: VotingRule
) -> QuorumCheck:
    """Count the meeting against the rule (法定人数)."""
    voting = [s for s in seats if s.role.votes]
    present = [s for s in voting if s.present]
    recused = {r.member for r in recusals}
    eligible = [s for s in present if s.member not in recused]
    return QuorumCheck(
        voting_members=len(voting),
        present=len(present),
        recused=len(present) - len(eligible),
        eligible=len(eligible),
        required=required_quorum(len(voting), rule),
    )


def _quorum_text(q: QuorumCheck) -> str:
    return (
        f"{q.eligible} eligible voter(s) present ({q.present} of {q.voting_members} voting "
        f"members present, {q.recused} recused), {q.required} required"
    )


def check_recusal(case: CommitteeCase, members: Sequence[Member], recusal: Recusal) -> None:
    """Refuse a declared conflict that cannot be recorded (the case is decided, the person is
    not a voting member, already recused, or already voted)."""
    if case.status is CaseStatus.DECIDED:
        raise InvalidState(f"case {case.number} is decided; a conflict can no longer be declared")
    if not recusal.reason.strip():
        raise InvalidInput("reason", "the reason for the recusal is required")
    known = {m.name: m for m in members}
    member = known.get(recusal.member)
    if case.status is CaseStatus.IN_MEETING:
        seat = case.seat(recusal.member)
        if seat is None:
            raise InvalidState(f"{recusal.member} is not a member of the committee of this meeting")
        role = seat.role
    else:
        if member is None or not member.active:
            raise InvalidState(f"{recusal.member} is not an active member of the committee")
        role = member.role
    if not role.votes:
        raise InvalidState(f"{recusal.member} is the secretary (秘书), who does not vote")
    existing = case.recusal(recusal.member)
    if existing is not None:
        raise InvalidState(
            f"{recusal.member} is already recused from case {case.number} ({existing.kind.value})"
        )
    if case.vote_of(recusal.member) is not None:
        raise InvalidState(
            f"{recusal.member} has already voted on case {case.number}; a vote stands once cast"
        )


def convene(
    case: CommitteeCase, members: Sequence[Member], present: Sequence[str], rule: VotingRule
) -> tuple[tuple[Seat, ...], tuple[Recusal, ...], QuorumCheck]:
    """Open the meeting on ``case`` (上会审议): the seats of every active member with their
    presence, the recusals (declared ones and the investigator's and referrer's), and the
    quorum check; a meeting without quorum is refused."""
    if case.status is not CaseStatus.OPEN:
        raise InvalidState(
            f"case {case.number} is {case.status.value}; only an open case can be convened"
        )
    active = [m for m in members if m.active]
    known = {m.name for m in active}
    names = [n.strip() for n in present if n.strip()]
    if not names:
        raise InvalidInput("present", "name the members present")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInput("present", f"named twice: {', '.join(duplicates)}")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InvalidState(f"not active members of the committee: {', '.join(unknown)}")
    attending = set(names)
    seats = tuple(Seat(m.name, m.role, m.name in attending) for m in active)
    voting = [s.member for s in seats if s.role.votes]
    recusals = list(case.recusals)
    for r in mandatory_recusals(case.investigated_by, case.referred_by, voting):
        if case.recusal(r.member) is None:
            recusals.append(r)
    quorum = check_quorum(seats, recusals, rule)
    if not quorum.met:
        raise InvalidState(
            f"no quorum (法定人数不足) for case {case.number}: {_quorum_text(quorum)}; "
            "the meeting cannot be held"
        )
    return seats, tuple(recusals), quorum


def check_vote(case: CommitteeCase, vote: Vote) -> Vote:
    """The vote as it will be recorded, or the reason it is refused (a clear error)."""
    if case.status is CaseStatus.OPEN:
        raise InvalidState(f"case {case.number} has not been convened; convene the meeting first")
    if case.status is CaseStatus.DECIDED:
        raise InvalidState(f"case {case.number} is already decided; no more votes")
    seat = case.seat(vote.member)
    if seat is None:
        raise InvalidState(f"{vote.member} is not a member of the committee of this meeting")
    if not seat.role.votes:
        raise InvalidState(f"{vote.member} is the secretary (秘书): the secretary does not vote")
    if not seat.present:
        raise InvalidState(f"{vote.member} is not present at the meeting and cannot vote")
    recusal = case.recusal(vote.member)
    if recusal is not None:
        raise InvalidState(
            f"{vote.member} is recused from case {case.number} (回避: "
            f"{recusal.kind.name_zh}, {recusal.reason}) and cannot vote"
        )
    if case.vote_of(vote.member) is not None:
        raise InvalidState(f"{vote.member} has already voted on case {case.number}")
    choice = Choice(vote.choice)
    opinion = _text(vote.opinion, "opinion", required=True)
    conditions = _text(vote.conditions, "conditions", required=choice is Choice.CONDITIONS)
    if conditions and choice is not Choice.CONDITIONS:
        raise InvalidInput("conditions", "only an approval with conditions carries conditions")
    return Vote(vote.member, choice, opinion, conditions, vote.at)


def _split_conditions(text: str) -> list[str]:
    parts = [p.strip() for chunk in text.splitlines() for p in chunk.split(";")]
    return [p for p in parts if p]


def tally(
    votes: Sequence[Vote], eligible: int, rule: VotingRule, chair: str | None = None
) -> Tally:
    """Count ``votes`` of ``eligible`` voters under ``rule``; ``chair`` names the chair, if
    the chair is among the voters (the veto needs a vote)."""
    approve = sum(v.choice is Choice.APPROVE for v in votes)
    conds = sum(v.choice is Choice.CONDITIONS for v in votes)
    reject = sum(v.choice is Choice.REJECT for v in votes)
    in_favour = approve + conds
    passed = eligible > 0 and Fraction(in_favour, eligible) >= rule.threshold
    vetoed = (
        passed
        and rule.chair_veto
        and chair is not None
        and any(v.member == chair and v.choice is Choice.REJECT for v in votes)
    )
    conditions: list[str] = []
    for v in votes:
        if v.choice is Choice.CONDITIONS:
            for c in _split_conditions(v.conditions):
                if c not in conditions:
                    conditions.append(c)
    if not passed or vetoed:
        resolution = Resolution.REJECTED
        conditions = []
    elif conditions:
        resolution = Resolution.CONDITIONAL
    else:
        resolution = Resolution.APPROVED
    return Tally(
        approve=approve,
        conditions=conds,
        reject=reject,
        eligible=eligible,
        threshold=rule.threshold,
        chair_vetoed=bool(vetoed),
        resolution=resolution,
        conditions_text=tuple(conditions),
    )


def decide(case: CommitteeCase) -> Outcome:
    """The resolution of a convened case, or the reason the committee cannot decide yet."""
    if case.status is CaseStatus.OPEN:
        raise InvalidState(f"case {case.number} has not been convened; convene the meeting first")
    if case.status is CaseStatus.DECIDED:
        raise InvalidState(f"case {case.number} is already decided ({case.resolution})")
    if case.rule is None:
        raise InvalidState(f"case {case.number} has no voting rule recorded")
    quorum = check_quorum(case.seats, case.recusals, case.rule)
    if not quorum.met:
        raise InvalidState(
            f"no quorum (法定人数不足) for case {case.number}: {_quorum_text(quorum)}; "
            "the committee cannot decide"
        )
    voters = eligible_voters(case.seats, case.recusals)
    missing = [m for m in voters if case.vote_of(m) is None]
    if missing:
        raise InvalidState(
            f"case {case.number} waits for the vote of {', '.join(missing)}; every eligible "
            "member present votes before the committee decides"
        )
    return Outcome(quorum, tally_case(case, case.rule))


def tally_case(case: CommitteeCase, rule: VotingRule) -> Tally:
    """:func:`tally` of the votes cast so far by the eligible voters of a convened case, the
    chair's veto applying when the chair is among them (what :func:`decide` resolves on, and
    what the resolution form shows while votes are still coming in)."""
    voters = eligible_voters(case.seats, case.recusals)
    chair = next((s.member for s in case.seats if s.role is Role.CHAIR), None)
    counted = [v for v in case.votes if v.member in voters]
    return tally(counted, len(voters), rule, chair if chair in voters else None)
