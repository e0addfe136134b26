"""A seeded teaching simulation of the credit factory (信贷工厂) with and without job rotation
(轮岗制).

**What it is.** A discrete-event simulation of one factory line over ``days`` working days.
Every case goes through the *pure domain rules* of :mod:`xiaowei.decision.factory` —
:func:`~xiaowei.decision.factory.new_case`, :func:`~xiaowei.decision.factory.claim`,
:func:`~xiaowei.decision.factory.complete` with each person's stations of the day, so wrong
stations and maker-checker breaches are refused exactly as in the service — and the figures are
the same :func:`~xiaowei.decision.factory.factory_metrics` the manager reads from the database.
It does not go through the database or ``services.factory`` (no transactions, no events): it is
fast enough to compare scenarios in a second. The rotation is a
:class:`~xiaowei.decision.factory.CycleRotation` between verification and analysis, as
``xiaowei factory rotate --every-weeks K`` would store it.

**Assumptions (a teaching model, not a calibrated one):**

* Time is counted in working hours, 8 a day (09:00–17:00), every calendar day a working day;
  a step started late finishes the next morning. Cycle times are calendar days, nights
  included.
* Applications arrive as a Poisson process (``arrivals_per_day``), uniformly over the working
  day, from ``markets`` borrower clusters (regions or trade markets 商圈) of equal size.
* Verification and analysis are territorial: the market's case goes to the person who covers
  that market at the station (markets dealt round-robin over the people at the station, the
  deal shifting by one at each rotation). Intake, approval and contract take cases from one
  shared queue, first come first served. Idle people take work at once.
* Service times are lognormal (coefficient of variation ``service_cv``) around a base mean
  per station, multiplied by a learning curve: ``1 + novice_slowdown × exp(−experience /
  learning_days)``, experience being days worked at that station. Experience at a station one
  has left fades with a half-life of ``forget_half_life_days``: someone coming back is a little
  slower than when they left. Initially everyone has ``initial_experience_days`` at their own
  station and ``cross_training_days`` at the other station of the cycle.
* Errors follow the same curve (base rate × ``1 + novice_errors × exp(−experience /
  learning_days)``); an error made at intake, verification or analysis is caught by the next
  station, which returns the case for rework (返工) to where the error was made. Verification
  declines a share of cases (``verification_decline``: fraud, false documents), approval
  declines ``approval_decline``; declines do not depend on who works.
* The integrity measure is *relationship capture* (关系固化): for each market, the longest run
  of consecutive verifications of that market by one and the same verifier (in days, first to
  last case of the run), and the share of the market's cases verified by its most frequent
  verifier. Long runs and high shares are what lets a verifier and borrowers of a market come
  to an arrangement (串通, 骗贷); the model does not simulate fraud itself, only the exposure
  to it. A step claimed before a rotation date is finished by its holder (in the service, it
  would be reassigned).

Seeded: arrivals come from ``SeedSequence(seed)`` stream 0 and each case's own draws (service
times, errors, declines) from a stream keyed by the case number, so both scenarios see the
same applications and the same luck per case (common random numbers): differences come from
who works them.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from xiaowei.core.errors import InvalidInput, InvalidState
from xiaowei.decision import factory as line
from xiaowei.decision.factory import (
    CaseStatus,
    CycleRotation,
    FactoryCase,
    FactoryMetrics,
    Outcome,
    Staff,
    Station,
)

__all__ = ["ScenarioResult", "SimConfig", "SimulationResult", "run_scenario", "simulate"]

HOURS_PER_DAY = 8.0
_OPEN_HOUR = 9
_CYCLE = (Station.VERIFICATION, Station.ANALYSIS)
_TERRITORIAL = frozenset(_CYCLE)
_DRAWS = 24
#: Names of the simulated people: their first station's letter and a number (V2: verifier 2).
_PREFIX = {
    Station.INTAKE: "I",
    Station.VERIFICATION: "V",
    Station.ANALYSIS: "A",
    Station.APPROVAL: "P",
    Station.CONTRACT: "C",
}  # per case: service-time normals and uniforms for errors/declines, per visit


@dataclass(frozen=True, slots=True)
class SimConfig:
    """The simulation's parameters (see the module docstring for their meaning)."""

    days: int = 56
    arrivals_per_day: float = 6.0
    markets: int = 6
    seed: int = 2025
    start: date = date(2025, 3, 3)
    staff_per_station: tuple[tuple[Station, int], ...] = (
        (Station.INTAKE, 1),
        (Station.VERIFICATION, 3),
        (Station.ANALYSIS, 3),
        (Station.APPROVAL, 2),
        (Station.CONTRACT, 1),
    )
    base_service_hours: tuple[tuple[Station, float], ...] = (
        (Station.INTAKE, 0.5),
        (Station.VERIFICATION, 2.4),
        (Station.ANALYSIS, 2.0),
        (Station.APPROVAL, 0.6),
        (Station.CONTRACT, 0.5),
    )
    base_error: tuple[tuple[Station, float], ...] = (
        (Station.INTAKE, 0.05),
        (Station.VERIFICATION, 0.04),
        (Station.ANALYSIS, 0.05),
    )
    service_cv: float = 0.4
    novice_slowdown: float = 0.8
    novice_errors: float = 2.0
    learning_days: float = 15.0
    forget_half_life_days: float = 90.0
    initial_experience_days: float = 120.0
    cross_training_days: float = 10.0
    verification_decline: float = 0.05
    approval_decline: float = 0.12

    def __post_init__(self) -> None:
        if self.days < 1:
            raise InvalidInput("days", "simulate at least one day")
        if not 0 < self.arrivals_per_day <= 200:
            raise InvalidInput("arrivals_per_day", "between 0 and 200 a day")
        if self.markets < 1:
            raise InvalidInput("markets", "at least one market")
        staffed = dict(self.staff_per_station)
        for station in Station:
            if staffed.get(station, 0) < 1:
                raise InvalidInput("staff", f"station {station.value} needs at least one person")

    def to_json(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "arrivals_per_day": self.arrivals_per_day,
            "markets": self.markets,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "staff": {s.value: n for s, n in self.staff_per_station},
            "base_service_hours": {s.value: h for s, h in self.base_service_hours},
            "base_error": {s.value: p for s, p in self.base_error},
            "novice_slowdown": self.novice_slowdown,
            "novice_errors": self.novice_errors,
            "learning_days": self.learning_days,
            "forget_half_life_days": self.forget_half_life_days,
        }


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """One scenario: fixed assignment (``rotation_weeks`` None) or rotation every K weeks."""

    rotation_weeks: int | None
    metrics: FactoryMetrics
    longest_run_days: float  # relationship capture: the longest same-verifier run of a market
    top_verifier_share: float  # mean over markets of the most frequent verifier's share
    verified_and_analysed_share: float  # cases one person both verified and analysed
    cases: tuple[FactoryCase, ...] = field(repr=False, default=())

    @property
    def label(self) -> str:
        return "fixed" if self.rotation_weeks is None else f"rotation {self.rotation_weeks}w"

    def to_json(self) -> dict[str, Any]:
        m = self.metrics
        return {
            "scenario": self.label,
            "rotation_weeks": self.rotation_weeks,
            "opened": m.opened,
            "signed": m.signed,
            "declined": m.declined,
            "open_at_end": m.open_at_end,
            "throughput_per_week": round(m.throughput_per_week, 2),
            "cycle_p50_days": None if m.cycle_p50_days is None else round(m.cycle_p50_days, 2),
            "cycle_p90_days": None if m.cycle_p90_days is None else round(m.cycle_p90_days, 2),
            "rework_rate": None if m.rework_rate is None else round(m.rework_rate, 4),
            "longest_run_days": round(self.longest_run_days, 1),
            "top_verifier_share": round(self.top_verifier_share, 4),
            "verified_and_analysed_share": round(self.verified_and_analysed_share, 4),
            "metrics": m.to_json(),
        }


@dataclass(frozen=True, slots=True)
class SimulationResult:
    config: SimConfig
    fixed: ScenarioResult
    rotation: ScenarioResult

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config.to_json(),
            "fixed": self.fixed.to_json(),
            "rotation": self.rotation.to_json(),
        }


# --------------------------------------------------------------------------- the model
class _People:
    """Who holds which station on a day, and their experience."""

    def __init__(self, config: SimConfig, rotation: CycleRotation | None) -> None:
        self.config = config
        self.rotation = rotation
        self.base: dict[str, Station] = {}
        for station, n in config.staff_per_station:
            for i in range(1, n + 1):
                self.base[f"{_PREFIX[station]}{i}"] = station
        # experience (days) per person and station, and when it was last updated
        self.experience: dict[str, dict[Station, float]] = {}
        for name, station in self.base.items():
            exp = {station: config.initial_experience_days}
            if station in _CYCLE:
                for other in _CYCLE:
                    exp.setdefault(other, config.cross_training_days)
            self.experience[name] = exp
        self.station_on_day: dict[str, Station] = dict(self.base)

    def stations_on(self, day: date) -> dict[str, Station]:
        moved = self.rotation.assignments_on(day) if self.rotation else {}
        return {
            name: next(iter(moved[name])) if name in moved else base
            for name, base in self.base.items()
        }

    def end_of_day(self, worked: dict[str, Station]) -> None:
        """A day passes: a day of experience where one worked, fading elsewhere."""
        fade = 0.5 ** (1.0 / self.config.forget_half_life_days)
        for name, station in worked.items():
            exp = self.experience[name]
            for st in list(exp):
                exp[st] = exp[st] * fade if st != station else exp[st]
            exp[station] = exp.get(station, 0.0) + 1.0

    def factor(self, name: str, station: Station, novice: float) -> float:
        exp = self.experience[name].get(station, 0.0)
        return 1.0 + novice * math.exp(-exp / self.config.learning_days)


def _clock(start: date, hours: float) -> datetime:
    day = int(hours // HOURS_PER_DAY)
    within = hours - day * HOURS_PER_DAY
    base = datetime(start.year, start.month, start.day, _OPEN_HOUR, tzinfo=UTC)
    return base + timedelta(days=day, hours=within)


def run_scenario(config: SimConfig, rotation_weeks: int | None) -> ScenarioResult:
    """Simulate ``config.days`` days with fixed assignment (None) or rotation every K weeks."""
    if rotation_weeks is not None and rotation_weeks < 1:
        raise InvalidInput("rotation_weeks", "rotate every 1 week or more")
    start = config.start
    people = _People(config, None)
    rotation = None
    if rotation_weeks is not None:
        members = tuple((n, s) for n, s in people.base.items() if s in _CYCLE)
        rotation = CycleRotation(
            start=start + timedelta(weeks=rotation_weeks),
            every_weeks=rotation_weeks,
            cycle=_CYCLE,
            members=members,
        )
        people.rotation = rotation
    service_mean = dict(config.base_service_hours)
    base_error = dict(config.base_error)
    sigma = math.sqrt(math.log(1.0 + config.service_cv**2))

    # arrivals (stream 0): the same applications whatever the scenario
    arrival_rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(0,)))
    counts = arrival_rng.poisson(config.arrivals_per_day, size=config.days)
    arrivals: list[tuple[float, int]] = []
    for d, n in enumerate(counts):
        times = np.sort(arrival_rng.uniform(0.0, HOURS_PER_DAY, size=int(n)))
        markets = arrival_rng.integers(0, config.markets, size=int(n))
        arrivals.extend(
            (d * HOURS_PER_DAY + float(t), int(m)) for t, m in zip(times, markets, strict=True)
        )
    horizon = config.days * HOURS_PER_DAY

    cases: dict[int, FactoryCase] = {}
    market: dict[int, int] = {}
    draws: dict[int, np.ndarray[Any, Any]] = {}  # per case: (visit, [normal, u1, u2])
    visits: dict[int, int] = defaultdict(int)
    defect: dict[int, Station | None] = {}
    shared: dict[Station, list[int]] = {s: [] for s in Station if s not in _TERRITORIAL}
    personal: dict[str, list[int]] = defaultdict(list)
    busy: dict[str, int] = {}  # person → case in hand
    verifier_of: dict[int, list[str]] = defaultdict(list)
    analyst_of: dict[int, list[str]] = defaultdict(list)
    events: list[tuple[float, int, str, int, str]] = []
    seq = 0

    def push(t: float, kind: str, case_no: int = -1, who: str = "") -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, case_no, who))

    for i, (t, m) in enumerate(arrivals):
        push(t, "arrive", i)
        market[i] = m
    for d in range(1, config.days + 1):
        push(d * HOURS_PER_DAY, "day")

    day_index = 0
    on_station = people.stations_on(start)

    def staff_now(name: str) -> Staff:
        return Staff(name, frozenset({on_station[name]}))

    def owner(station: Station, m: int) -> str:
        names = sorted(n for n, s in on_station.items() if s is station)
        shift = 0 if rotation is None else rotation.period(start + timedelta(days=day_index)) + 1
        return names[(m + shift) % len(names)]

    def enqueue(case_no: int) -> None:
        station = cases[case_no].station
        assert station is not None
        if station in _TERRITORIAL:
            personal[owner(station, market[case_no])].append(case_no)
        else:
            shared[station].append(case_no)

    def draw(case_no: int) -> tuple[float, float, float]:
        k = visits[case_no]
        visits[case_no] = k + 1
        z, u1, u2 = draws[case_no][k % _DRAWS]
        return float(z), float(u1), float(u2)

    def try_start(name: str, now: float) -> None:
        station = on_station[name]
        pool = personal[name] if station in _TERRITORIAL else shared[station]
        for pos, case_no in enumerate(pool):
            try:
                claimed = line.claim(cases[case_no], staff_now(name), _clock(start, now))
            except InvalidState:
                continue  # e.g. maker-checker: someone else takes it
            del pool[pos]
            cases[case_no] = claimed
            busy[name] = case_no
            z, _, _ = draw(case_no)
            mean = service_mean[station] * people.factor(name, station, config.novice_slowdown)
            hours = math.exp(math.log(mean) - sigma**2 / 2 + sigma * z)
            push(now + hours, "done", case_no, name)
            return

    def finish(case_no: int, name: str, now: float) -> None:
        case = cases[case_no]
        station = case.station
        assert station is not None
        _, u, u_error = draw(case_no)
        found = defect.get(case_no)
        at = _clock(start, now)
        who = Staff(name, frozenset({station}))  # finishes what was claimed (see docstring)
        if station is Station.VERIFICATION:
            verifier_of[case_no].append(name)
        elif station is Station.ANALYSIS:
            analyst_of[case_no].append(name)
        if found is not None and found.order < station.order:
            defect[case_no] = None
            cases[case_no] = line.complete(
                case, who, Outcome.RETURN, at, to=found, note=f"error at {found.value}"
            )
        elif station is Station.VERIFICATION and u < config.verification_decline:
            cases[case_no] = line.complete(case, who, Outcome.DECLINE, at, note="fraud found")
        elif station is Station.APPROVAL and u < config.approval_decline:
            cases[case_no] = line.complete(case, who, Outcome.DECLINE, at, note="credit risk")
        else:
            rate = base_error.get(station, 0.0) * people.factor(name, station, config.novice_errors)
            if station in base_error and u_error < rate:
                defect[case_no] = station
            outcome = Outcome.APPROVE if station is Station.APPROVAL else Outcome.PASS
            cases[case_no] = line.complete(case, who, outcome, at)
        if cases[case_no].status is CaseStatus.OPEN:
            enqueue(case_no)

    while events:
        now, _, kind, case_no, who = heapq.heappop(events)
        if now >= horizon and kind != "day":
            break
        if kind == "arrive":
            case_rng = np.random.default_rng(
                np.random.SeedSequence(config.seed, spawn_key=(1, case_no))
            )
            draws[case_no] = np.column_stack(
                [case_rng.standard_normal(_DRAWS), case_rng.uniform(size=(_DRAWS, 2))]
            )
            amount = Decimal(int(case_rng.integers(5, 51)) * 10_000)
            cases[case_no] = line.new_case(
                application_id=f"SIM-{case_no + 1:05d}",
                borrower=f"market-{market[case_no] + 1}",
                amount=amount,
                term_months=12,
                by="sim",
                at=_clock(start, now),
            )
            enqueue(case_no)
        elif kind == "done":
            del busy[who]
            finish(case_no, who, now)
        elif kind == "day":
            people.end_of_day(on_station)
            day_index = round(now / HOURS_PER_DAY)
            if day_index >= config.days:
                break
            before = on_station
            on_station = people.stations_on(start + timedelta(days=day_index))
            if on_station != before:
                # re-deal the territorial queues to the people now covering each market
                waiting = sorted(
                    (c for n in list(personal) for c in personal.pop(n)),
                    key=lambda c: cases[c].steps[-1].enqueued_at,
                )
                for c in waiting:
                    enqueue(c)
        for name in sorted(on_station):
            if name not in busy:
                try_start(name, now)

    all_cases = tuple(cases[i] for i in sorted(cases))
    end = _clock(start, 0.0).replace(hour=0) + timedelta(days=config.days)
    begin = _clock(start, 0.0).replace(hour=0)
    metrics = line.factory_metrics(all_cases, start=begin, end=end)
    run_days, share = _capture(cases, market)
    both = sum(1 for c in verifier_of if set(verifier_of[c]) & set(analyst_of.get(c, [])))
    return ScenarioResult(
        rotation_weeks=rotation_weeks,
        metrics=metrics,
        longest_run_days=run_days,
        top_verifier_share=share,
        verified_and_analysed_share=both / len(verifier_of) if verifier_of else 0.0,
        cases=all_cases,
    )


def _capture(cases: dict[int, FactoryCase], market: dict[int, int]) -> tuple[float, float]:
    """The longest same-verifier run of a market (days) and the mean top-verifier share."""
    by_market: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for i, case in cases.items():
        for step in case.steps:
            if step.station is Station.VERIFICATION and step.completed_at and step.staff:
                by_market[market[i]].append((step.completed_at, step.staff))
    longest, shares = 0.0, []
    for records in by_market.values():
        records.sort()
        run_start, run_who = records[0]
        for t, who in records[1:]:
            if who != run_who:
                run_start, run_who = t, who
            longest = max(longest, (t - run_start).total_seconds() / 86400.0)
        counts = Counter(who for _, who in records)
        shares.append(max(counts.values()) / len(records))
    return longest, (sum(shares) / len(shares) if shares else 0.0)


def simulate(config: SimConfig, rotation_weeks: int) -> SimulationResult:
    """Fixed assignment against rotation every ``rotation_weeks`` weeks, same applications."""
    return SimulationResult(
        config=config,
        fixed=run_scenario(config, None),
        rotation=run_scenario(config, rotation_weeks),
    )
