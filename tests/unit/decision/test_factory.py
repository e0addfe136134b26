"""The credit factory's pure rules (信贷工厂): stations, roles, maker-checker, rework, rotation
and the manager's metrics, on worked examples."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.core.errors import InvalidInput, InvalidState
from xiaowei.decision import factory as line
from xiaowei.decision.factory import (
    Assignment,
    CaseStatus,
    CycleRotation,
    Outcome,
    Staff,
    Station,
)

V, A, P = Station.VERIFICATION, Station.ANALYSIS, Station.APPROVAL


def t(day: int, hour: float) -> datetime:
    return datetime(2025, 3, day, tzinfo=UTC) + timedelta(hours=hour)


CLERK = Staff("zhang", frozenset({Station.INTAKE}))
VERIFIER = Staff("li", frozenset({V}))
ANALYST = Staff("wang", frozenset({A}))
APPROVER = Staff("zhao", frozenset({P}))
OFFICER = Staff("chen", frozenset({Station.CONTRACT}))
SUN = Staff("sun", frozenset({V, P}))  # verifier and approver at once


def opened(day: int = 3, hour: float = 9) -> line.FactoryCase:
    return line.new_case(
        application_id="APP-1",
        borrower="台州市安泰副食品商行",
        amount=Decimal("200000"),
        term_months=12,
        by="zhang",
        at=t(day, hour),
    )


def through(
    case: line.FactoryCase,
    staff: Staff,
    outcome: Outcome,
    start: datetime,
    work_h: float,
    wait_h: float = 0.0,
    **kw: object,
) -> line.FactoryCase:
    claimed = line.claim(case, staff, start + timedelta(hours=wait_h))
    return line.complete(claimed, staff, outcome, start + timedelta(hours=wait_h + work_h), **kw)  # type: ignore[arg-type]


def signed_case() -> line.FactoryCase:
    """The worked example: intake 1 h, verification 2 h after 1 h waiting, analysis returns it
    to verification (1 h), verification again (1 h), analysis (2 h after 16 h overnight),
    approval, contract."""
    c = opened()
    c = through(c, CLERK, Outcome.PASS, t(3, 9), 1)  # 09–10
    c = through(c, VERIFIER, Outcome.PASS, t(3, 10), 2, wait_h=1)  # wait 10–11, work 11–13
    c = through(c, ANALYST, Outcome.RETURN, t(3, 13), 1, note="no bank statement")  # 13–14
    c = through(c, VERIFIER, Outcome.PASS, t(3, 14), 1)  # 14–15
    c = through(c, ANALYST, Outcome.PASS, t(3, 15), 2, wait_h=18)  # wait to 09 next day, 09–11
    c = through(c, APPROVER, Outcome.APPROVE, t(4, 11), 1)  # 11–12
    return through(c, OFFICER, Outcome.PASS, t(4, 12), 1, wait_h=2)  # 14–15


def test_a_case_walks_the_line_with_its_times() -> None:
    c = signed_case()
    assert c.status is CaseStatus.SIGNED
    assert c.closed_at == t(4, 15)
    assert [s.station for s in c.steps] == [Station.INTAKE, V, A, V, A, P, Station.CONTRACT]
    assert [s.rework for s in c.steps] == [False, False, False, True, False, False, False]
    assert [s.waiting_hours for s in c.steps] == [0, 1, 0, 0, 18, 0, 2]
    assert [s.service_hours for s in c.steps] == [1, 2, 1, 1, 2, 1, 1]
    assert c.investigators == {"li", "wang"}
    assert c.returns == 1
    assert c.current is None


def test_wrong_role_is_refused() -> None:
    c = opened()
    with pytest.raises(InvalidState, match="not assigned to intake"):
        line.claim(c, VERIFIER, t(3, 9))


def test_maker_checker_investigator_may_not_approve() -> None:
    c = opened()
    c = through(c, CLERK, Outcome.PASS, t(3, 9), 1)
    c = through(c, SUN, Outcome.PASS, t(3, 10), 1)  # sun verifies
    c = through(c, ANALYST, Outcome.PASS, t(3, 11), 1)
    with pytest.raises(InvalidState, match="maker-checker"):
        line.claim(c, SUN, t(3, 12))
    assert line.claim(c, APPROVER, t(3, 12)).current.staff == "zhao"  # type: ignore[union-attr]


def test_a_reassigned_investigator_still_may_not_approve() -> None:
    c = opened()
    c = through(c, CLERK, Outcome.PASS, t(3, 9), 1)
    c = line.claim(c, SUN, t(3, 10))
    c = line.reassign(c, VERIFIER, reason="sun on leave", at=t(3, 11))
    assert c.current.reassigned_from == ("sun",)  # type: ignore[union-attr]
    with pytest.raises(InvalidState, match="claimed by li, not sun"):
        line.complete(c, SUN, Outcome.PASS, t(3, 12))
    c = line.complete(c, VERIFIER, Outcome.PASS, t(3, 12))
    c = through(c, ANALYST, Outcome.PASS, t(3, 12), 1)
    assert "sun" in c.investigators
    with pytest.raises(InvalidState, match="maker-checker"):
        line.claim(c, SUN, t(3, 14))


def test_claim_twice_and_complete_unclaimed_are_refused() -> None:
    c = opened()
    with pytest.raises(InvalidState, match="not claimed"):
        line.complete(c, CLERK, Outcome.PASS, t(3, 10))
    c = line.claim(c, CLERK, t(3, 9))
    other = Staff("qian", frozenset({Station.INTAKE}))
    with pytest.raises(InvalidState, match="already claimed by zhang"):
        line.claim(c, other, t(3, 9))


def test_outcomes_per_station_and_returns_only_backwards() -> None:
    c = through(opened(), CLERK, Outcome.PASS, t(3, 9), 1)
    c = line.claim(c, VERIFIER, t(3, 10))
    with pytest.raises(InvalidInput, match="approve is not an outcome at verification"):
        line.complete(c, VERIFIER, Outcome.APPROVE, t(3, 11))
    with pytest.raises(InvalidInput, match="not before verification"):
        line.complete(c, VERIFIER, Outcome.RETURN, t(3, 11), to=A, note="x")
    with pytest.raises(InvalidInput, match="退回原因"):
        line.complete(c, VERIFIER, Outcome.RETURN, t(3, 11))
    back = line.complete(c, VERIFIER, Outcome.RETURN, t(3, 11), note="ID copy missing")
    assert back.station is Station.INTAKE
    assert back.current.rework
    intake_c = line.claim(opened(), CLERK, t(3, 9))
    with pytest.raises(InvalidInput, match="return is not an outcome at intake"):
        line.complete(intake_c, CLERK, Outcome.RETURN, t(3, 10), note="x")


def test_decline_closes_and_a_closed_case_refuses_everything() -> None:
    c = through(opened(), CLERK, Outcome.PASS, t(3, 9), 1)
    c = through(c, VERIFIER, Outcome.DECLINE, t(3, 10), 1, note="false lease")
    assert c.status is CaseStatus.DECLINED
    assert c.closed_at == t(3, 11)
    with pytest.raises(InvalidState, match="closed"):
        line.claim(c, ANALYST, t(3, 12))


def test_time_never_goes_backwards_and_needs_a_zone() -> None:
    c = opened(hour=9)
    with pytest.raises(InvalidInput, match="before the time it was queued"):
        line.claim(c, CLERK, t(3, 8))
    with pytest.raises(InvalidInput, match="time zone"):
        line.claim(c, CLERK, datetime(2025, 3, 3, 10))


def test_new_case_validates() -> None:
    with pytest.raises(InvalidInput, match="amount"):
        line.new_case(
            application_id="A",
            borrower="b",
            amount=Decimal("1.001"),
            term_months=12,
            by="x",
            at=t(3, 9),
        )
    with pytest.raises(InvalidInput, match="term_months"):
        line.new_case(
            application_id="A", borrower="b", amount=Decimal(1), term_months=0, by="x", at=t(3, 9)
        )


# --------------------------------------------------------------------------- assignments
def test_assignment_history_keeps_running_rows_and_refuses_rewrites() -> None:
    rows: list[Assignment] = []
    first = line.assignment_change(rows, "li", frozenset({V}), date(2025, 3, 1))
    rows = line.apply_change(rows, first)
    change = line.assignment_change(rows, "li", frozenset({V, A}), date(2025, 3, 10))
    assert change.close == ()
    assert [a.station for a in change.open] == [A]
    rows = line.apply_change(rows, change)
    change = line.assignment_change(rows, "li", frozenset({A}), date(2025, 3, 20))
    rows = line.apply_change(rows, change)
    assert line.stations_on(rows, "li", date(2025, 3, 9)) == {V}
    assert line.stations_on(rows, "li", date(2025, 3, 15)) == {V, A}
    assert line.stations_on(rows, "li", date(2025, 3, 20)) == {A}
    assert line.stations_on(rows, "li", date(2025, 2, 28)) == frozenset()
    with pytest.raises(InvalidInput, match="history is not rewritten"):
        line.assignment_change(rows, "li", frozenset({P}), date(2025, 3, 15))


def test_cycle_rotation_moves_each_member_every_k_weeks() -> None:
    rows = [
        Assignment("li", V, date(2025, 1, 1)),
        Assignment("wang", A, date(2025, 1, 1)),
        Assignment("sun", V, date(2025, 1, 1)),
        Assignment("sun", P, date(2025, 1, 1)),  # two stations: not rotated
    ]
    rot = line.cycle_rotation(rows, start=date(2025, 3, 3), every_weeks=2)
    assert rot.members == (("li", V), ("wang", A))
    assert rot.assignments_on(date(2025, 3, 2)) == {"li": {V}, "wang": {A}}
    assert rot.assignments_on(date(2025, 3, 3)) == {"li": {A}, "wang": {V}}
    assert rot.assignments_on(date(2025, 3, 16)) == {"li": {A}, "wang": {V}}
    assert rot.assignments_on(date(2025, 3, 17)) == {"li": {V}, "wang": {A}}
    assert rot.change_dates(date(2025, 3, 31)) == [
        date(2025, 3, 3),
        date(2025, 3, 17),
        date(2025, 3, 31),
    ]
    with pytest.raises(InvalidInput, match="1 week or more"):
        CycleRotation(date(2025, 3, 3), 0, (V, A), ())


def test_explicit_plan() -> None:
    plan = line.parse_plan(
        [
            {"from": "2025-03-03", "staff": "li", "stations": ["analysis"]},
            {"from": "2025-03-03", "staff": "wang", "stations": "verification"},
            {"from": "2025-04-01", "staff": "li", "stations": "approval,verification"},
        ]
    )
    assert plan.change_dates() == [date(2025, 3, 3), date(2025, 4, 1)]
    assert plan.assignments_on(date(2025, 4, 2)) == {"li": {P, V}, "wang": {V}}
    with pytest.raises(InvalidInput, match="more than one entry"):
        line.parse_plan([{"from": "2025-03-03", "staff": "li", "stations": "analysis"}] * 2)
    with pytest.raises(InvalidInput, match="not a station"):
        line.parse_plan([{"from": "2025-03-03", "staff": "li", "stations": "teller"}])


# --------------------------------------------------------------------------- metrics
def test_metrics_of_the_worked_example() -> None:
    c = signed_case()
    declined = through(
        through(opened(day=4), CLERK, Outcome.PASS, t(4, 9), 1),
        VERIFIER,
        Outcome.DECLINE,
        t(4, 10),
        2,
    )
    waiting = opened(day=5, hour=10)
    m = line.factory_metrics([c, declined, waiting], start=t(3, 0), end=t(6, 0))
    assert (m.opened, m.signed, m.declined, m.open_at_end) == (3, 1, 1, 1)
    assert m.throughput_per_day == pytest.approx(1 / 3)
    assert m.throughput_per_week == pytest.approx(7 / 3)
    assert m.weekly == ((date(2025, 3, 3), 1),)
    assert m.cycle_time_days == (pytest.approx(30 / 24),)  # 3 Mar 09:00 → 4 Mar 15:00
    assert m.rework_rate == pytest.approx(0.5)  # 1 of 2 closed cases was returned
    by = {s.station: s for s in m.stations}
    # verification: waits 1, 0 and 0 h; works 2, 1 and 2 h (the declined case's 2 h)
    assert by[V].completed == 3
    assert by[V].waiting_mean_h == pytest.approx(1 / 3)
    assert by[V].service_mean_h == pytest.approx(5 / 3)
    assert by[V].service_p90_h == pytest.approx(2.0)
    assert by[A].waiting_mean_h == pytest.approx(9.0)  # 0 and 18 h
    assert by[A].waiting_p90_h == pytest.approx(16.2)  # 0 + 0.9 × 18
    assert (by[A].returns_from, by[V].returns_to) == (1, 1)
    assert by[Station.INTAKE].queue_waiting == 1
    volume = {(v.staff, v.station): (v.steps, v.service_hours) for v in m.staff}
    assert volume[("li", V)] == (3, 5.0)
    assert volume[("wang", A)] == (2, 3.0)


def test_queue_lengths_at_the_end_of_a_period() -> None:
    c = line.claim(opened(), CLERK, t(3, 10))
    m = line.factory_metrics([c], start=t(3, 0), end=t(3, 9.5))
    assert by_station(m, Station.INTAKE) == (1, 0)
    m = line.factory_metrics([c], start=t(3, 0), end=t(3, 11))
    assert by_station(m, Station.INTAKE) == (0, 1)


def by_station(m: line.FactoryMetrics, station: Station) -> tuple[int, int]:
    s = next(x for x in m.stations if x.station is station)
    return s.queue_waiting, s.queue_in_service


def test_quantile_is_numpy_linear() -> None:
    import numpy as np

    values = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6]
    for q in (0.0, 0.1, 0.5, 0.9, 1.0):
        assert line.quantile(values, q) == pytest.approx(float(np.quantile(values, q)))
    assert line.quantile([], 0.5) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["pass", "return", "decline"]), min_size=1, max_size=25))
def test_any_walk_keeps_the_invariants(moves: list[str]) -> None:
    """Whatever the outcomes, timestamps are ordered, returns go backwards, a closed case has
    no current step, and approval is never worked by an investigator."""
    everyone = {s: Staff(f"p-{s.value}", frozenset({s})) for s in Station}
    c, now = opened(), t(3, 9)
    for move in moves:
        if c.status is not CaseStatus.OPEN:
            break
        station = c.station
        assert station is not None
        who = everyone[station]
        c = line.claim(c, who, now)
        outcome = Outcome(move)
        if station is P and outcome is Outcome.PASS:
            outcome = Outcome.APPROVE
        if station is Station.INTAKE and outcome is Outcome.RETURN:
            outcome = Outcome.PASS
        c = line.complete(c, who, outcome, now + timedelta(hours=1), note="redo")
        now += timedelta(hours=2)
    for a, b in zip(c.steps, c.steps[1:], strict=False):
        assert a.completed_at is not None
        assert a.completed_at <= b.enqueued_at
        if b.rework:
            assert b.station.order < a.station.order
    for s in c.steps:
        if s.station is P and s.staff:
            assert s.staff not in c.investigators
    assert (c.current is None) == (c.status is not CaseStatus.OPEN)
