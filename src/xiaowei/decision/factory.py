"""The credit factory (信贷工厂): an assembly line of stations (工位) with separated roles.

A factory case (进件) — one loan application — moves along the line

    intake 受理 → verification 核查 → analysis 分析 → approval 审批 → contract 签约

and at each station it waits in the station's queue (队列), is claimed (领取) by a staff member
(人员) assigned to that station on that day, and is completed with an outcome:

* ``pass`` (通过): on to the next station; at the contract station the contract is signed and
  the case ends (签约);
* ``return`` (退回补件/返工): back to an *earlier* station, counted as rework;
* ``decline`` (拒绝): the case ends;
* ``approve`` (批准): at the approval station only, on to the contract station (approval
  takes ``approve``, ``decline`` or ``return``, never a bare ``pass``).

Rules the line enforces (each refusal raises and returns nothing new):

* only someone assigned to a station works it (the station's role: intake clerk 受理员,
  verifier 核查员, analyst 分析员, approver 审批人, contract officer 签约专员);
* separation of duties (maker-checker 双人复核): whoever worked the verification or the
  analysis of a case (investigated it, 调查人) may not approve it;
* a claimed case cannot be claimed again; only its holder completes it; a claimed case can be
  reassigned (改派) to another eligible person, with a reason;
* timestamps never go backwards: each step records enqueued, claimed and completed times, from
  which waiting time (等待时间) and service time (处理时间) per station follow.

Assignments are history: an :class:`Assignment` holds a staff member at a station from a date
(inclusive) to a date (exclusive, open when ``None``). Job rotation (轮岗) is a schedule that
produces the assignments for a date (:class:`CycleRotation`: every N weeks each member moves to
the next station of a cycle; :class:`ExplicitPlan`: dated entries); applying it appends history.

:func:`factory_metrics` computes what a factory manager reads from the step records alone:
throughput per day and week, cycle time (进件到签约 lead time) p50/p90, waiting and service
time per station, the rework rate (返工率) and returns per station, queue lengths and per-staff
volume.

Pure: dataclasses and functions; storage is ``adapters.factory_store``, the use cases
``services.factory``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from xiaowei.core.errors import InvalidInput, InvalidState
from xiaowei.core.money import parse_amount

__all__ = [
    "Assignment",
    "AssignmentChange",
    "CaseStatus",
    "CycleRotation",
    "ExplicitPlan",
    "FactoryCase",
    "FactoryMetrics",
    "Outcome",
    "PlanEntry",
    "Role",
    "Staff",
    "StaffVolume",
    "Station",
    "StationMetrics",
    "Step",
    "assignment_change",
    "claim",
    "complete",
    "cycle_rotation",
    "factory_metrics",
    "new_case",
    "parse_plan",
    "parse_stations",
    "quantile",
    "reassign",
    "staff_on",
    "stations_on",
]


class Role(StrEnum):
    """The role that works a station (岗位)."""

    INTAKE_CLERK = "intake-clerk"
    VERIFIER = "verifier"
    ANALYST = "analyst"
    APPROVER = "approver"
    CONTRACT_OFFICER = "contract-officer"

    @property
    def name_zh(self) -> str:
        return _ROLE_ZH[self]


_ROLE_ZH = {
    Role.INTAKE_CLERK: "受理员",
    Role.VERIFIER: "核查员",
    Role.ANALYST: "分析员",
    Role.APPROVER: "审批人",
    Role.CONTRACT_OFFICER: "签约专员",
}


class Station(StrEnum):
    """A station (工位) of the line, in line order."""

    INTAKE = "intake"
    VERIFICATION = "verification"
    ANALYSIS = "analysis"
    APPROVAL = "approval"
    CONTRACT = "contract"

    @property
    def order(self) -> int:
        return _ORDER.index(self)

    @property
    def name_zh(self) -> str:
        return _STATION_ZH[self]

    @property
    def role(self) -> Role:
        return _ROLE_OF[self]

    @property
    def next(self) -> Station | None:
        i = self.order + 1
        return _ORDER[i] if i < len(_ORDER) else None

    @classmethod
    def parse(cls, text: str, field: str = "station") -> Station:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise InvalidInput(field, f"{text!r} is not a station ({names})") from None


_ORDER: tuple[Station, ...] = tuple(Station)
_STATION_ZH = {
    Station.INTAKE: "受理",
    Station.VERIFICATION: "核查",
    Station.ANALYSIS: "分析",
    Station.APPROVAL: "审批",
    Station.CONTRACT: "签约",
}
_ROLE_OF = {
    Station.INTAKE: Role.INTAKE_CLERK,
    Station.VERIFICATION: Role.VERIFIER,
    Station.ANALYSIS: Role.ANALYST,
    Station.APPROVAL: Role.APPROVER,
    Station.CONTRACT: Role.CONTRACT_OFFICER,
}
#: The stations whose workers investigated a case (调查) and so may not approve it.
INVESTIGATION: frozenset[Station] = frozenset({Station.VERIFICATION, Station.ANALYSIS})


def parse_stations(text: str | Iterable[str], field: str = "stations") -> frozenset[Station]:
    """``"verification,analysis"`` (or a list of names) → the set of stations; at least one."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    names = [p.strip() for p in parts if p.strip()]
    if not names:
        raise InvalidInput(field, "name at least one station")
    return frozenset(Station.parse(n, field) for n in names)


class Outcome(StrEnum):
    """How a step ends (处理结果)."""

    PASS = "pass"  # 通过
    RETURN = "return"  # 退回补件/返工
    DECLINE = "decline"  # 拒绝
    APPROVE = "approve"  # 批准 (approval station only)


_ALLOWED: dict[Station, frozenset[Outcome]] = {
    Station.INTAKE: frozenset({Outcome.PASS, Outcome.DECLINE}),
    Station.VERIFICATION: frozenset({Outcome.PASS, Outcome.RETURN, Outcome.DECLINE}),
    Station.ANALYSIS: frozenset({Outcome.PASS, Outcome.RETURN, Outcome.DECLINE}),
    Station.APPROVAL: frozenset({Outcome.APPROVE, Outcome.RETURN, Outcome.DECLINE}),
    Station.CONTRACT: frozenset({Outcome.PASS, Outcome.RETURN, Outcome.DECLINE}),
}


class CaseStatus(StrEnum):
    """Where a case stands (进件状态)."""

    OPEN = "open"  # 处理中
    SIGNED = "signed"  # 已签约
    DECLINED = "declined"  # 已拒绝


@dataclass(frozen=True, slots=True)
class Staff:
    """A staff member (人员) and the stations assigned to them on the day they act."""

    name: str
    stations: frozenset[Station]


@dataclass(frozen=True, slots=True)
class Assignment:
    """One staff member at one station from ``valid_from`` (inclusive) to ``valid_to``
    (exclusive; ``None``: open). A row of the assignment history (岗位分配记录)."""

    staff: str
    station: Station
    valid_from: date
    valid_to: date | None = None
    id: int | None = None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


def stations_on(assignments: Iterable[Assignment], staff: str, day: date) -> frozenset[Station]:
    """The stations ``staff`` is assigned to on ``day``."""
    return frozenset(a.station for a in assignments if a.staff == staff and a.covers(day))


def staff_on(assignments: Iterable[Assignment], day: date) -> dict[str, frozenset[Station]]:
    """Everyone assigned somewhere on ``day`` → their stations."""
    found: dict[str, set[Station]] = defaultdict(set)
    for a in assignments:
        if a.covers(day):
            found[a.staff].add(a.station)
    return {name: frozenset(found[name]) for name in sorted(found)}


@dataclass(frozen=True, slots=True)
class AssignmentChange:
    """What setting a staff member's stations from a date does to the history: rows closed
    on that date (their ``valid_to`` set) and rows opened from it."""

    staff: str
    from_date: date
    before: frozenset[Station]
    after: frozenset[Station]
    close: tuple[Assignment, ...]
    open: tuple[Assignment, ...]

    @property
    def empty(self) -> bool:
        return not self.close and not self.open


def assignment_change(
    assignments: Iterable[Assignment],
    staff: str,
    stations: frozenset[Station],
    from_date: date,
) -> AssignmentChange:
    """Assign ``staff`` to exactly ``stations`` from ``from_date`` on (改派岗位).

    Stations kept stay on their running row (a continuous tenure); stations dropped are
    closed on ``from_date``; stations added open there. History is never rewritten: a change
    dated before one already recorded for the same person is refused. An empty set takes the
    person off the line.
    """
    rows = [a for a in assignments if a.staff == staff]
    later = [
        a
        for a in rows
        if a.valid_from > from_date or (a.valid_to is not None and a.valid_to > from_date)
    ]
    if later:
        last = max(max(a.valid_from, a.valid_to or a.valid_from) for a in later)
        raise InvalidInput(
            "from",
            f"{staff} has an assignment change on {last.isoformat()}, after "
            f"{from_date.isoformat()}; history is not rewritten",
        )
    current = [a for a in rows if a.covers(from_date)]
    before = frozenset(a.station for a in current)
    close = tuple(replace(a, valid_to=from_date) for a in current if a.station not in stations)
    opened = tuple(
        Assignment(staff=staff, station=s, valid_from=from_date)
        for s in sorted(stations - before, key=lambda s: s.order)
    )
    return AssignmentChange(staff, from_date, before, frozenset(stations), close, opened)


def apply_change(assignments: Sequence[Assignment], change: AssignmentChange) -> list[Assignment]:
    """The history after ``change`` (rows closed replaced, rows opened appended)."""
    closed = {(a.staff, a.station, a.valid_from): a for a in change.close}
    out = [closed.get((a.staff, a.station, a.valid_from), a) for a in assignments]
    return out + list(change.open)


# --------------------------------------------------------------------------- job rotation
@dataclass(frozen=True, slots=True)
class CycleRotation:
    """Every ``every_weeks`` weeks each member moves to the next station of ``cycle`` (轮岗).

    ``members`` pairs each rotating person with the station they hold before the first move;
    the first move is on ``start``, the next ``every_weeks`` weeks later, and so on.
    """

    start: date
    every_weeks: int
    cycle: tuple[Station, ...]
    members: tuple[tuple[str, Station], ...]

    def __post_init__(self) -> None:
        if self.every_weeks < 1:
            raise InvalidInput("every_weeks", "rotate every 1 week or more")
        if len(self.cycle) < 2 or len(set(self.cycle)) != len(self.cycle):
            raise InvalidInput("stations", "a rotation cycle needs two or more distinct stations")
        for name, station in self.members:
            if station not in self.cycle:
                raise InvalidInput("stations", f"{name} is at {station}, outside the cycle")

    def period(self, day: date) -> int:
        """The number of moves made by ``day`` minus one (−1 before ``start``)."""
        if day < self.start:
            return -1
        return (day - self.start).days // (7 * self.every_weeks)

    def change_dates(self, until: date | None = None) -> list[date]:
        """The dates of the moves from ``start`` through ``until`` (only ``start`` if None)."""
        if until is None:
            return [self.start]
        step = timedelta(weeks=self.every_weeks)
        out, day = [], self.start
        while day <= until:
            out.append(day)
            day += step
        return out

    def assignments_on(self, day: date) -> dict[str, frozenset[Station]]:
        moves = self.period(day) + 1
        n = len(self.cycle)
        return {
            name: frozenset({self.cycle[(self.cycle.index(base) + moves) % n]})
            for name, base in self.members
        }


@dataclass(frozen=True, slots=True)
class PlanEntry:
    day: date
    staff: str
    stations: frozenset[Station]


@dataclass(frozen=True, slots=True)
class ExplicitPlan:
    """A written rotation plan (轮岗计划): from each entry's date on, that person holds those
    stations."""

    entries: tuple[PlanEntry, ...]

    def __post_init__(self) -> None:
        seen = Counter((e.day, e.staff) for e in self.entries)
        twice = [f"{s} on {d.isoformat()}" for (d, s), n in seen.items() if n > 1]
        if twice:
            raise InvalidInput("plan", "more than one entry for " + ", ".join(sorted(twice)))

    def change_dates(self, start: date | None = None, until: date | None = None) -> list[date]:
        days = sorted({e.day for e in self.entries})
        return [d for d in days if (start is None or d >= start) and (until is None or d <= until)]

    def assignments_on(self, day: date) -> dict[str, frozenset[Station]]:
        latest: dict[str, PlanEntry] = {}
        for e in sorted(self.entries, key=lambda e: e.day):
            if e.day <= day:
                latest[e.staff] = e
        return {name: latest[name].stations for name in sorted(latest)}

    def changes_on(self, day: date) -> dict[str, frozenset[Station]]:
        return {e.staff: e.stations for e in self.entries if e.day == day}


def parse_plan(data: Any) -> ExplicitPlan:
    """A plan read from JSON/YAML: a list of ``{from: DATE, staff: NAME, stations: [..] | "a,b"}``
    (or a mapping with such a list under ``plan``)."""
    if isinstance(data, Mapping):
        data = data.get("plan")
    if not isinstance(data, list) or not data:
        raise InvalidInput("plan", "expected a non-empty list of {from, staff, stations} entries")
    entries = []
    for i, item in enumerate(data, start=1):
        if not isinstance(item, Mapping):
            raise InvalidInput("plan", f"entry {i} is not a mapping")
        raw_day, staff, stations = item.get("from"), item.get("staff"), item.get("stations")
        if isinstance(raw_day, datetime):
            raw_day = raw_day.date()
        if isinstance(raw_day, str):
            try:
                raw_day = date.fromisoformat(raw_day)
            except ValueError:
                raise InvalidInput("plan", f"entry {i}: {raw_day!r} is not a date") from None
        if not isinstance(raw_day, date):
            raise InvalidInput("plan", f"entry {i}: 'from' (a date) is required")
        if not isinstance(staff, str) or not staff.strip():
            raise InvalidInput("plan", f"entry {i}: 'staff' (a name) is required")
        if not isinstance(stations, str | list):
            raise InvalidInput("plan", f"entry {i}: 'stations' is required")
        entries.append(PlanEntry(raw_day, staff.strip(), parse_stations(stations, "plan")))
    return ExplicitPlan(tuple(entries))


def cycle_rotation(
    assignments: Iterable[Assignment],
    *,
    start: date,
    every_weeks: int,
    cycle: Sequence[Station] = (Station.VERIFICATION, Station.ANALYSIS),
) -> CycleRotation:
    """The rotation of everyone who, the day before ``start``, holds exactly one station of
    ``cycle`` (people on several stations, or outside the cycle, are not rotated)."""
    before = start - timedelta(days=1)
    members = tuple(
        (name, next(iter(stations)))
        for name, stations in staff_on(assignments, before).items()
        if len(stations) == 1 and next(iter(stations)) in cycle
    )
    if not members:
        names = ", ".join(s.value for s in cycle)
        raise InvalidInput("stations", f"nobody holds exactly one of {names} to rotate")
    return CycleRotation(start, every_weeks, tuple(cycle), members)


# --------------------------------------------------------------------------- cases and steps
def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600.0


@dataclass(frozen=True, slots=True)
class Step:
    """One visit of a case to a station (工序记录)."""

    seq: int
    station: Station
    enqueued_at: datetime
    rework: bool = False  # entered by a return (返工)
    staff: str | None = None
    claimed_at: datetime | None = None
    completed_at: datetime | None = None
    outcome: Outcome | None = None
    note: str = ""
    reassigned_from: tuple[str, ...] = ()

    @property
    def waiting_hours(self) -> float | None:
        return None if self.claimed_at is None else _hours(self.claimed_at - self.enqueued_at)

    @property
    def service_hours(self) -> float | None:
        if self.claimed_at is None or self.completed_at is None:
            return None
        return _hours(self.completed_at - self.claimed_at)

    @property
    def handlers(self) -> tuple[str, ...]:
        """Everyone who held this step: earlier holders (reassigned away) and the last."""
        return self.reassigned_from + ((self.staff,) if self.staff else ())


@dataclass(frozen=True, slots=True)
class FactoryCase:
    """A case (进件) on the line: one application and its steps."""

    application_id: str
    borrower: str
    amount: Decimal
    term_months: int
    opened_by: str
    opened_at: datetime
    decision_id: int | None = None
    status: CaseStatus = CaseStatus.OPEN
    closed_at: datetime | None = None
    steps: tuple[Step, ...] = ()
    id: int | None = None
    version: int = 1

    @property
    def current(self) -> Step | None:
        """The step the case is at (None once closed)."""
        if self.status is not CaseStatus.OPEN or not self.steps:
            return None
        return self.steps[-1]

    @property
    def station(self) -> Station | None:
        step = self.current
        return None if step is None else step.station

    @property
    def investigators(self) -> frozenset[str]:
        """Everyone who worked verification or analysis of this case (调查人)."""
        return frozenset(
            name for s in self.steps if s.station in INVESTIGATION for name in s.handlers
        )

    @property
    def returns(self) -> int:
        return sum(s.outcome is Outcome.RETURN for s in self.steps)

    @property
    def label(self) -> str:
        return f"case {self.id}" if self.id is not None else f"case {self.application_id}"


def _aware(at: datetime, field: str = "at") -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(field, "a timestamp needs a time zone")
    return at.astimezone(UTC)


def _who(name: str, field: str = "by") -> str:
    who = name.strip()
    if not who:
        raise InvalidInput(field, "the name of the person acting is required")
    return who


def new_case(
    *,
    application_id: str,
    borrower: str,
    amount: Decimal,
    term_months: int,
    by: str,
    at: datetime,
    decision_id: int | None = None,
) -> FactoryCase:
    """A case received at intake (受理): its first step waits in the intake queue."""
    if not application_id.strip():
        raise InvalidInput("application_id", "is required")
    if not borrower.strip():
        raise InvalidInput("borrower", "is required")
    if not isinstance(amount, Decimal):
        raise InvalidInput("amount", "must be a Decimal")
    money = parse_amount(amount, field="amount")
    if not 1 <= term_months <= 360:
        raise InvalidInput("term_months", f"{term_months} is not between 1 and 360 months")
    when = _aware(at)
    return FactoryCase(
        application_id=application_id.strip(),
        borrower=borrower.strip(),
        amount=money,
        term_months=term_months,
        opened_by=_who(by),
        opened_at=when,
        decision_id=decision_id,
        steps=(Step(seq=1, station=Station.INTAKE, enqueued_at=when),),
    )


def _open_step(case: FactoryCase) -> Step:
    step = case.current
    if step is None:
        raise InvalidState(f"{case.label} is closed ({case.status.value}); nothing to do")
    return step


def _not_before(at: datetime, earlier: datetime, what: str) -> datetime:
    when = _aware(at)
    if when < earlier:
        raise InvalidInput(
            "at", f"{when:%Y-%m-%d %H:%M} is before {what} ({earlier:%Y-%m-%d %H:%M})"
        )
    return when


def check_eligible(case: FactoryCase, step: Step, staff: Staff) -> None:
    """Refuse ``staff`` at ``step`` unless assigned to its station and, at approval, not an
    investigator of the case (maker-checker)."""
    if step.station not in staff.stations:
        held = ", ".join(s.value for s in sorted(staff.stations, key=lambda s: s.order)) or "none"
        raise InvalidState(
            f"{staff.name} is not assigned to {step.station.value} "
            f"({step.station.name_zh}, role {step.station.role.value}); assigned: {held}"
        )
    if step.station is Station.APPROVAL and staff.name in case.investigators:
        raise InvalidState(
            f"maker-checker (双人复核): {staff.name} investigated {case.label} "
            "(verification or analysis) and may not approve it"
        )


def claim(case: FactoryCase, staff: Staff, at: datetime) -> FactoryCase:
    """Take the case from its station's queue (领取)."""
    step = _open_step(case)
    if step.staff is not None:
        raise InvalidState(
            f"{case.label} at {step.station.value} is already claimed by {step.staff}"
        )
    check_eligible(case, step, staff)
    when = _not_before(at, step.enqueued_at, "the time it was queued")
    claimed = replace(step, staff=staff.name, claimed_at=when)
    return replace(case, steps=(*case.steps[:-1], claimed))


def complete(
    case: FactoryCase,
    staff: Staff,
    outcome: Outcome,
    at: datetime,
    *,
    to: Station | None = None,
    note: str = "",
) -> FactoryCase:
    """Finish the step the holder claimed (完成): pass on, return for rework to an earlier
    station (``to``, default the previous one), decline, or approve at approval."""
    step = _open_step(case)
    if step.staff is None:
        raise InvalidState(f"{case.label} at {step.station.value} is not claimed; claim it first")
    if step.staff != staff.name:
        raise InvalidState(
            f"{case.label} at {step.station.value} is claimed by {step.staff}, not {staff.name}"
        )
    if outcome not in _ALLOWED[step.station]:
        allowed = ", ".join(sorted(o.value for o in _ALLOWED[step.station]))
        raise InvalidInput(
            "outcome", f"{outcome.value} is not an outcome at {step.station.value} ({allowed})"
        )
    if to is not None and outcome is not Outcome.RETURN:
        raise InvalidInput("to", "a target station is given only with outcome return")
    check_eligible(case, step, staff)
    assert step.claimed_at is not None
    when = _not_before(at, step.claimed_at, "the claim")
    done = replace(step, completed_at=when, outcome=outcome, note=note.strip())
    steps = (*case.steps[:-1], done)
    nxt: Station | None
    if outcome is Outcome.DECLINE:
        return replace(case, steps=steps, status=CaseStatus.DECLINED, closed_at=when)
    if outcome is Outcome.RETURN:
        target = to if to is not None else _ORDER[step.station.order - 1]
        if target.order >= step.station.order:
            raise InvalidInput(
                "to",
                f"a case is returned to an earlier station; {target.value} is not before "
                f"{step.station.value}",
            )
        if not note.strip():
            raise InvalidInput("note", "say what is to be reworked (退回原因)")
        nxt, rework = target, True
    else:
        nxt, rework = step.station.next, False
        if nxt is None:  # contract signed
            return replace(case, steps=steps, status=CaseStatus.SIGNED, closed_at=when)
    following = Step(seq=step.seq + 1, station=nxt, enqueued_at=when, rework=rework)
    return replace(case, steps=(*steps, following))


def reassign(case: FactoryCase, to: Staff, *, reason: str, at: datetime) -> FactoryCase:
    """Hand a claimed case to another eligible person (改派); the earlier holder is kept."""
    step = _open_step(case)
    if step.staff is None:
        raise InvalidState(
            f"{case.label} at {step.station.value} is not claimed; nothing to reassign"
        )
    if not reason.strip():
        raise InvalidInput("reason", "a reassignment needs a reason (改派原因)")
    if to.name == step.staff:
        raise InvalidState(f"{case.label} is already held by {to.name}")
    check_eligible(case, step, to)
    assert step.claimed_at is not None
    _not_before(at, step.claimed_at, "the claim")
    moved = replace(step, staff=to.name, reassigned_from=(*step.reassigned_from, step.staff))
    return replace(case, steps=(*case.steps[:-1], moved))


# --------------------------------------------------------------------------- metrics
def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile with linear interpolation between order statistics (NumPy's default,
    Hyndman & Fan type 7); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass(frozen=True, slots=True)
class StationMetrics:
    station: Station
    completed: int  # steps completed in the period
    waiting_mean_h: float | None
    waiting_p90_h: float | None
    service_mean_h: float | None
    service_p90_h: float | None
    returns_from: int  # returns sent back from this station in the period
    returns_to: int  # of which (from any station) came back here
    queue_waiting: int  # at the end of the period: queued, not claimed
    queue_in_service: int  # claimed, not completed


@dataclass(frozen=True, slots=True)
class StaffVolume:
    staff: str
    station: Station
    steps: int
    service_hours: float


@dataclass(frozen=True, slots=True)
class FactoryMetrics:
    """What a factory manager reads (工厂管理指标) over ``[start, end)``."""

    start: datetime
    end: datetime
    opened: int
    signed: int
    declined: int
    open_at_end: int
    throughput_per_day: float
    throughput_per_week: float
    weekly: tuple[tuple[date, int], ...]  # (Monday, contracts signed that week)
    cycle_time_days: tuple[float, ...]  # of the cases signed in the period, sorted
    cycle_p50_days: float | None
    cycle_p90_days: float | None
    closed: int
    reworked: int  # closed cases returned at least once
    rework_rate: float | None
    stations: tuple[StationMetrics, ...]
    staff: tuple[StaffVolume, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        def r(x: float | None, n: int = 2) -> float | None:
            return None if x is None else round(x, n)

        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "opened": self.opened,
            "signed": self.signed,
            "declined": self.declined,
            "open_at_end": self.open_at_end,
            "throughput_per_day": r(self.throughput_per_day, 3),
            "throughput_per_week": r(self.throughput_per_week, 3),
            "weekly": [{"week": d.isoformat(), "signed": n} for d, n in self.weekly],
            "cycle_time_days": {
                "p50": r(self.cycle_p50_days, 3),
                "p90": r(self.cycle_p90_days, 3),
                "values": [round(v, 3) for v in self.cycle_time_days],
            },
            "closed": self.closed,
            "reworked": self.reworked,
            "rework_rate": r(self.rework_rate, 4),
            "stations": [
                {
                    "station": s.station.value,
                    "completed": s.completed,
                    "waiting_mean_h": r(s.waiting_mean_h),
                    "waiting_p90_h": r(s.waiting_p90_h),
                    "service_mean_h": r(s.service_mean_h),
                    "service_p90_h": r(s.service_p90_h),
                    "returns_from": s.returns_from,
                    "returns_to": s.returns_to,
                    "queue_waiting": s.queue_waiting,
                    "queue_in_service": s.queue_in_service,
                }
                for s in self.stations
            ],
            "staff": [
                {
                    "staff": v.staff,
                    "station": v.station.value,
                    "steps": v.steps,
                    "service_hours": round(v.service_hours, 2),
                }
                for v in self.staff
            ],
        }


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def factory_metrics(
    cases: Iterable[FactoryCase], *, start: datetime, end: datetime
) -> FactoryMetrics:
    """The factory's figures over ``[start, end)`` from the cases' step records.

    * throughput: contracts signed in the period per day (and per 7 days), and per week
      (Monday to Sunday, weeks touching the period);
    * cycle time (进件到签约): opened → signed, in days, of the cases signed in the period;
    * per station, over the steps completed in the period: waiting time (queued → claimed)
      and service time (claimed → completed), mean and p90 in hours; returns sent back from
      the station and returns received;
    * rework rate (返工率): of the cases closed (signed or declined) in the period, the share
      returned at least once;
    * queue lengths at ``end``: steps queued but not claimed, and claimed but not completed;
    * per-staff volume: steps completed per person and station, and their service hours.
    """
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        raise InvalidInput("end", "the period must end after it starts")
    all_cases = list(cases)

    def inside(t: datetime | None) -> bool:
        return t is not None and start <= t < end

    signed = [c for c in all_cases if c.status is CaseStatus.SIGNED and inside(c.closed_at)]
    declined = [c for c in all_cases if c.status is CaseStatus.DECLINED and inside(c.closed_at)]
    closed = signed + declined
    reworked = sum(1 for c in closed if c.returns > 0)
    days = (end - start).total_seconds() / 86400.0
    cycle = sorted(
        (c.closed_at - c.opened_at).total_seconds() / 86400.0
        for c in signed
        if c.closed_at is not None
    )
    weeks: Counter[date] = Counter()
    monday = _monday(start.date())
    while datetime.combine(monday, time(), UTC) < end:
        weeks[monday] = 0
        monday += timedelta(days=7)
    for c in signed:
        assert c.closed_at is not None
        weeks[_monday(c.closed_at.date())] += 1

    waiting: dict[Station, list[float]] = defaultdict(list)
    service: dict[Station, list[float]] = defaultdict(list)
    completed: Counter[Station] = Counter()
    returns_from: Counter[Station] = Counter()
    returns_to: Counter[Station] = Counter()
    queued: Counter[Station] = Counter()
    in_service: Counter[Station] = Counter()
    volume: Counter[tuple[str, Station]] = Counter()
    volume_hours: dict[tuple[str, Station], float] = defaultdict(float)
    for c in all_cases:
        for i, s in enumerate(c.steps):
            if inside(s.completed_at):
                completed[s.station] += 1
                w, v = s.waiting_hours, s.service_hours
                if w is not None and v is not None and s.staff is not None:
                    waiting[s.station].append(w)
                    service[s.station].append(v)
                    volume[(s.staff, s.station)] += 1
                    volume_hours[(s.staff, s.station)] += v
                if s.outcome is Outcome.RETURN:
                    returns_from[s.station] += 1
                    if i + 1 < len(c.steps):
                        returns_to[c.steps[i + 1].station] += 1
            if s.enqueued_at < end:
                if s.claimed_at is None or s.claimed_at >= end:
                    queued[s.station] += 1
                elif s.completed_at is None or s.completed_at >= end:
                    in_service[s.station] += 1
    stations = tuple(
        StationMetrics(
            station=st,
            completed=completed[st],
            waiting_mean_h=_mean(waiting[st]),
            waiting_p90_h=quantile(waiting[st], 0.9),
            service_mean_h=_mean(service[st]),
            service_p90_h=quantile(service[st], 0.9),
            returns_from=returns_from[st],
            returns_to=returns_to[st],
            queue_waiting=queued[st],
            queue_in_service=in_service[st],
        )
        for st in _ORDER
    )
    staff = tuple(
        StaffVolume(name, st, n, volume_hours[(name, st)])
        for (name, st), n in sorted(volume.items(), key=lambda kv: (kv[0][0], kv[0][1].order))
    )
    open_at_end = sum(
        1 for c in all_cases if c.opened_at < end and (c.closed_at is None or c.closed_at >= end)
    )
    return FactoryMetrics(
        start=start,
        end=end,
        opened=sum(1 for c in all_cases if inside(c.opened_at)),
        signed=len(signed),
        declined=len(declined),
        open_at_end=open_at_end,
        throughput_per_day=len(signed) / days,
        throughput_per_week=len(signed) / days * 7.0,
        weekly=tuple(sorted(weeks.items())),
        cycle_time_days=tuple(cycle),
        cycle_p50_days=quantile(cycle, 0.5),
        cycle_p90_days=quantile(cycle, 0.9),
        closed=len(closed),
        reworked=reworked,
        rework_rate=reworked / len(closed) if closed else None,
        stations=stations,
        staff=staff,
    )
