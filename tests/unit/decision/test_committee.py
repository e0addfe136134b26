"""The credit committee's rules (信贷审批委员会): quorum, the ⅔ rule, the chair's veto, recusal,
conditions, with worked examples and invariants."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaowei.core.errors import InvalidInput, InvalidState
from xiaowei.decision.committee import (
    CaseStatus,
    Choice,
    CommitteeCase,
    Member,
    Proposal,
    Recusal,
    RecusalKind,
    Resolution,
    Role,
    Vote,
    VotingRule,
    check_quorum,
    check_recusal,
    check_vote,
    convene,
    decide,
    required_quorum,
    tally,
)

T0 = datetime(2025, 5, 8, 9, 0, tzinfo=UTC)
RULE = VotingRule()
SEVEN = [Member("chair", Role.CHAIR)] + [Member(f"m{i}", Role.MEMBER) for i in range(1, 7)]
SECRETARY = Member("sec", Role.SECRETARY)


def _case(investigated_by: str = "officer", referred_by: str = "referrer") -> CommitteeCase:
    return CommitteeCase(
        id=7,
        application_id="APP-1",
        borrower="台州市安泰副食品商行",
        proposal=Proposal(Decimal("200000"), 12, Decimal("0.0865"), "equal-installment"),
        investigated_by=investigated_by,
        referred_by=referred_by,
        status=CaseStatus.OPEN,
        opened_by="officer",
        opened_at=T0,
    )


def _meeting(present: list[str], *, case: CommitteeCase | None = None) -> CommitteeCase:
    case = case or _case()
    seats, recusals, _ = convene(case, [*SEVEN, SECRETARY], present, RULE)
    return CommitteeCase(
        **{
            **case.__dict__,
            "status": CaseStatus.IN_MEETING,
            "seats": seats,
            "recusals": recusals,
            "rule": RULE,
        }
    )


def _with_votes(case: CommitteeCase, votes: list[tuple[str, Choice, str]]) -> CommitteeCase:
    for member, choice, conditions in votes:
        vote = check_vote(case, Vote(member, choice, "opinion 意见", conditions))
        case = CommitteeCase(**{**case.__dict__, "votes": (*case.votes, vote)})
    return case


def test_quorum_of_seven_is_five() -> None:
    assert required_quorum(7, RULE) == 5  # ceil(2/3 × 7) = ceil(4.67)
    assert required_quorum(3, RULE) == 3  # never fewer than 3
    assert required_quorum(9, RULE) == 6
    assert required_quorum(4, VotingRule(min_present=1)) == 3


def test_four_of_five_present_approve() -> None:
    """7 members, 5 present, 4 approve: 4/5 = 80 % ≥ 2/3, approved."""
    case = _meeting(["chair", "m1", "m2", "m3", "m4"])
    case = _with_votes(
        case,
        [
            ("chair", Choice.APPROVE, ""),
            ("m1", Choice.APPROVE, ""),
            ("m2", Choice.APPROVE, ""),
            ("m3", Choice.APPROVE, ""),
            ("m4", Choice.REJECT, ""),
        ],
    )
    outcome = decide(case)
    assert outcome.quorum.eligible == 5
    assert outcome.quorum.required == 5
    assert (outcome.tally.in_favour, outcome.tally.eligible) == (4, 5)
    assert outcome.resolution is Resolution.APPROVED


def test_three_of_five_is_a_rejection() -> None:
    """3/5 = 60 % < 66.7 %: rejected, although a majority approves."""
    case = _meeting(["chair", "m1", "m2", "m3", "m4"])
    case = _with_votes(
        case,
        [
            ("chair", Choice.APPROVE, ""),
            ("m1", Choice.APPROVE, ""),
            ("m2", Choice.CONDITIONS, "spouse guarantees"),
            ("m3", Choice.REJECT, ""),
            ("m4", Choice.REJECT, ""),
        ],
    )
    outcome = decide(case)
    assert outcome.tally.share == Fraction(3, 5)
    assert outcome.resolution is Resolution.REJECTED
    assert outcome.tally.conditions_text == ()


def test_exactly_two_thirds_passes() -> None:
    """6 present, 4 in favour: 4/6 = 2/3 exactly, which meets 'at least two-thirds'."""
    case = _meeting(["chair", "m1", "m2", "m3", "m4", "m5"])
    votes = [("chair", Choice.APPROVE, ""), ("m1", Choice.APPROVE, "")]
    votes += [("m2", Choice.APPROVE, ""), ("m3", Choice.APPROVE, "")]
    votes += [("m4", Choice.REJECT, ""), ("m5", Choice.REJECT, "")]
    assert decide(_with_votes(case, votes)).resolution is Resolution.APPROVED


def test_the_chair_vetoes_an_approval_but_cannot_overturn_a_rejection() -> None:
    present = ["chair", "m1", "m2", "m3", "m4"]
    vetoed = _with_votes(
        _meeting(present),
        [("chair", Choice.REJECT, "")] + [(m, Choice.APPROVE, "") for m in present[1:]],
    )
    outcome = decide(vetoed)
    assert outcome.tally.share == Fraction(4, 5)
    assert outcome.tally.chair_vetoed
    assert outcome.resolution is Resolution.REJECTED
    # without the veto in the charter, the same votes approve
    no_veto = VotingRule(chair_veto=False)
    votes = list(vetoed.votes)
    assert tally(votes, 5, no_veto, "chair").resolution is Resolution.APPROVED
    # the chair approving a majority reject does not save it
    overruled = _with_votes(
        _meeting(present),
        [("chair", Choice.APPROVE, ""), ("m1", Choice.APPROVE, "")]
        + [(m, Choice.REJECT, "") for m in present[2:]],
    )
    assert decide(overruled).resolution is Resolution.REJECTED


def test_conditions_are_the_union_in_voting_order() -> None:
    present = ["chair", "m1", "m2", "m3", "m4"]
    case = _with_votes(
        _meeting(present),
        [
            ("chair", Choice.CONDITIONS, "spouse co-signs; monthly statements"),
            ("m1", Choice.APPROVE, ""),
            ("m2", Choice.CONDITIONS, "monthly statements\nmortgage on the shop"),
            ("m3", Choice.APPROVE, ""),
            ("m4", Choice.REJECT, ""),
        ],
    )
    outcome = decide(case)
    assert outcome.resolution is Resolution.CONDITIONAL
    assert outcome.tally.conditions_text == (
        "spouse co-signs",
        "monthly statements",
        "mortgage on the shop",
    )


def test_investigator_and_referrer_are_recused_and_do_not_count_for_quorum() -> None:
    case = _meeting(
        ["chair", "m1", "m2", "m3", "m4", "m5", "m6"],
        case=_case(investigated_by="m5", referred_by="m6"),
    )
    assert {(r.member, r.kind) for r in case.recusals} == {
        ("m5", RecusalKind.INVESTIGATED),
        ("m6", RecusalKind.REFERRED),
    }
    q = check_quorum(case.seats, case.recusals, RULE)
    assert (q.present, q.recused, q.eligible, q.required, q.met) == (7, 2, 5, 5, True)
    with pytest.raises(InvalidState, match=r"m5 is recused .*调查人.* cannot vote"):
        check_vote(case, Vote("m5", Choice.APPROVE, "my own case is fine"))
    with pytest.raises(InvalidState, match="m6 is recused"):
        check_vote(case, Vote("m6", Choice.APPROVE, "fine"))


def test_no_quorum_refuses_the_meeting() -> None:
    with pytest.raises(InvalidState, match=r"no quorum .*4 eligible voter\(s\).* 5 required"):
        convene(_case(), SEVEN, ["chair", "m1", "m2", "m3"], RULE)
    # five present, but one is the investigator: four eligible, still no quorum
    with pytest.raises(InvalidState, match="no quorum"):
        convene(_case(investigated_by="m4"), SEVEN, ["chair", "m1", "m2", "m3", "m4"], RULE)


def test_a_declared_conflict_can_break_the_quorum_and_stops_the_decision() -> None:
    case = _meeting(["chair", "m1", "m2", "m3", "m4"])
    recusal = Recusal("m4", RecusalKind.DECLARED, "the borrower is my cousin")
    check_recusal(case, SEVEN, recusal)
    case = CommitteeCase(**{**case.__dict__, "recusals": (*case.recusals, recusal)})
    case = _with_votes(case, [(m, Choice.APPROVE, "") for m in ("chair", "m1", "m2", "m3")])
    with pytest.raises(InvalidState, match="no quorum"):
        decide(case)


def test_vote_refusals() -> None:
    case = _meeting(["chair", "m1", "m2", "m3", "m4", "sec"])
    with pytest.raises(InvalidState, match="secretary"):
        check_vote(case, Vote("sec", Choice.APPROVE, "ok"))
    with pytest.raises(InvalidState, match="not present"):
        check_vote(case, Vote("m5", Choice.APPROVE, "ok"))
    with pytest.raises(InvalidState, match="not a member"):
        check_vote(case, Vote("stranger", Choice.APPROVE, "ok"))
    with pytest.raises(InvalidInput, match="opinion: is required"):
        check_vote(case, Vote("m1", Choice.REJECT, "  "))
    with pytest.raises(InvalidInput, match="conditions: is required"):
        check_vote(case, Vote("m1", Choice.CONDITIONS, "ok with conditions"))
    with pytest.raises(InvalidInput, match="only an approval with conditions"):
        check_vote(case, Vote("m1", Choice.APPROVE, "ok", "a condition"))
    voted = _with_votes(case, [("m1", Choice.APPROVE, "")])
    with pytest.raises(InvalidState, match="already voted"):
        check_vote(voted, Vote("m1", Choice.REJECT, "changed my mind"))
    with pytest.raises(InvalidState, match="waits for the vote of chair, m2, m3, m4"):
        decide(voted)
    with pytest.raises(InvalidState, match="has not been convened"):
        check_vote(_case(), Vote("m1", Choice.APPROVE, "ok"))


def test_proposal_validation_names_the_field() -> None:
    with pytest.raises(InvalidInput, match="amount"):
        Proposal(Decimal("100.001"), 12, Decimal("0.08"), "equal-installment")
    with pytest.raises(InvalidInput, match="annual_rate"):
        Proposal(Decimal("100"), 12, Decimal("0.0800001"), "equal-installment")
    with pytest.raises(InvalidInput, match="term_months"):
        Proposal(Decimal("100"), 0, Decimal("0.08"), "equal-installment")
    with pytest.raises(InvalidInput, match="method"):
        Proposal(Decimal("100"), 12, Decimal("0.08"), "whenever")
    with pytest.raises(InvalidInput, match="threshold"):
        VotingRule(threshold=Fraction(3, 2))
    with pytest.raises(InvalidInput, match="role"):
        Member("x", "boss")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- invariants
choices = st.sampled_from(list(Choice))
ballots = st.lists(choices, min_size=3, max_size=12)


def _votes(ballot: list[Choice]) -> list[Vote]:
    return [
        Vote(f"v{i}", c, "opinion", "condition" if c is Choice.CONDITIONS else "")
        for i, c in enumerate(ballot)
    ]


@given(ballots, st.integers(min_value=0, max_value=11), st.booleans())
def test_more_support_never_hurts(ballot: list[Choice], index: int, veto: bool) -> None:
    """Turning one reject into an approval never turns an approval into a rejection (the chair's
    veto included: the chair changing to approve only lifts it)."""
    rule = VotingRule(chair_veto=veto)
    index %= len(ballot)
    before = tally(_votes(ballot), len(ballot), rule, chair="v0")
    changed = list(ballot)
    if changed[index] is Choice.REJECT:
        changed[index] = Choice.APPROVE
    after = tally(_votes(changed), len(ballot), rule, chair="v0")
    if before.resolution is not Resolution.REJECTED:
        assert after.resolution is not Resolution.REJECTED
    assert after.in_favour >= before.in_favour


@given(ballots, st.randoms(use_true_random=False))
def test_order_of_non_chair_votes_does_not_matter(ballot: list[Choice], rnd: object) -> None:
    votes = _votes(ballot)
    rest = votes[1:]
    rnd.shuffle(rest)  # type: ignore[attr-defined]
    a = tally(votes, len(votes), RULE, chair="v0")
    b = tally([votes[0], *rest], len(votes), RULE, chair="v0")
    assert (a.resolution, a.in_favour, a.chair_vetoed) == (
        b.resolution,
        b.in_favour,
        b.chair_vetoed,
    )


@given(ballots)
def test_resolution_matches_the_threshold(ballot: list[Choice]) -> None:
    t = tally(_votes(ballot), len(ballot), RULE, chair="v0")
    passed = Fraction(t.in_favour, len(ballot)) >= Fraction(2, 3)
    vetoed = ballot[0] is Choice.REJECT
    assert (t.resolution is not Resolution.REJECTED) == (passed and not vetoed)
    assert (t.resolution is Resolution.CONDITIONAL) == (
        passed and not vetoed and Choice.CONDITIONS in ballot
    )
