"""``xiaowei factory …``: the credit factory (信贷工厂) line, its staff, job rotation (轮岗),
the manager's metrics and the teaching simulation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from xiaowei.entrypoints.cli_common import (
    YES,
    ApplicationArg,
    AtOpt,
    ByOpt,
    DbOpt,
    JsonOpt,
    TermOpt,
)
from xiaowei.entrypoints.cli_common import parse_at as _at

factory_app = typer.Typer(
    help="Credit factory (信贷工厂): stations, staff, rotation, cases, metrics, simulation.",
    no_args_is_help=True,
)
staff_app = typer.Typer(help="Factory staff (人员) and their stations.", no_args_is_help=True)
factory_app.add_typer(staff_app, name="staff")

CaseArg = Annotated[int, typer.Argument(help="The factory case number.")]


def _day(value: str | None, field: str) -> date | None:
    from xiaowei.entrypoints.cli import _date

    return None if value is None else _date(value, field)


def _hm(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _short(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(UTC).strftime("%m-%d %H:%M")


def _st(station: Any) -> str:
    return "—" if station is None else f"{station.value} {station.name_zh}"


def _stations_text(stations: frozenset[Any]) -> str:
    ordered = sorted(stations, key=lambda s: s.order)
    return ", ".join(f"{s.value} {s.name_zh}" for s in ordered) or "— (off the line)"


def _case_json(case: Any) -> dict[str, Any]:
    return {
        "id": case.id,
        "application_id": case.application_id,
        "borrower": case.borrower,
        "amount": str(case.amount),
        "term_months": case.term_months,
        "decision_id": case.decision_id,
        "status": case.status.value,
        "station": None if case.station is None else case.station.value,
        "opened_by": case.opened_by,
        "opened_at": case.opened_at.isoformat(),
        "closed_at": None if case.closed_at is None else case.closed_at.isoformat(),
        "investigators": sorted(case.investigators),
        "returns": case.returns,
        "steps": [
            {
                "seq": s.seq,
                "station": s.station.value,
                "rework": s.rework,
                "staff": s.staff,
                "reassigned_from": list(s.reassigned_from),
                "enqueued_at": s.enqueued_at.isoformat(),
                "claimed_at": None if s.claimed_at is None else s.claimed_at.isoformat(),
                "completed_at": None if s.completed_at is None else s.completed_at.isoformat(),
                "waiting_hours": None if s.waiting_hours is None else round(s.waiting_hours, 2),
                "service_hours": None if s.service_hours is None else round(s.service_hours, 2),
                "outcome": None if s.outcome is None else s.outcome.value,
                "note": s.note,
            }
            for s in case.steps
        ],
    }


def _where(case: Any) -> str:
    if case.station is None:
        status = {"signed": "signed 已签约", "declined": "declined 已拒绝"}[case.status.value]
        return status
    step = case.current
    held = f", held by {step.staff}" if step.staff else ", waiting 待领取"
    return f"at {_st(case.station)}{held}"


def _say(case: Any, verb: str) -> None:
    from xiaowei.entrypoints.cli import console

    console.print(f"case {case.id} {verb}: {_where(case)}", highlight=False, soft_wrap=True)


# --------------------------------------------------------------------------- staff
@staff_app.command("add")
def staff_add(
    name: Annotated[str, typer.Argument(help="The staff member's name (unique).")],
    stations: Annotated[
        str,
        typer.Option(
            "--stations",
            help="Stations held, comma-separated (intake, "
            "verification, analysis, approval, contract).",
        ),
    ],
    from_: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD; default today).")
    ] = None,
    by: ByOpt = "factory-manager",
    at: AtOpt = None,
    db: DbOpt = None,
) -> None:
    """Register a staff member (登记人员) with the stations they hold."""
    from xiaowei.entrypoints.cli import console, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.factory import add_staff

        when = _at(at)
        view = add_staff(
            engine_for(db),
            name,
            stations=stations,
            by=by,
            from_date=_day(from_, "from"),
            at=when,
        )
        console.print(
            f"staff {view.name} added 已登记: {_stations_text(view.stations)} "
            f"from {view.on.isoformat()}",
            highlight=False,
        )

    guarded(run)


@staff_app.command("list")
def staff_list(
    on: Annotated[
        str | None, typer.Option("--on", help="Assignments on this day (default today).")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Everyone and the stations they hold on a day (岗位表)."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from rich.table import Table

        from xiaowei.bootstrap import engine_for
        from xiaowei.services.factory import list_staff

        views = list_staff(engine_for(db), on=_day(on, "on"))
        if as_json:
            _print_json(
                [
                    {
                        "name": v.name,
                        "on": v.on.isoformat(),
                        "stations": [s.value for s in sorted(v.stations, key=lambda s: s.order)],
                        "history": [
                            {
                                "station": a.station.value,
                                "from": a.valid_from.isoformat(),
                                "to": None if a.valid_to is None else a.valid_to.isoformat(),
                            }
                            for a in v.history
                        ],
                    }
                    for v in views
                ]
            )
            return
        day = views[0].on.isoformat() if views else "—"
        table = Table(title=f"staff on {day} 岗位表")
        for column in ("name 姓名", "stations 工位", "history 轮岗记录"):
            table.add_column(column)
        for v in views:
            history = "; ".join(
                f"{a.station.value} {a.valid_from.isoformat()}→"
                f"{'' if a.valid_to is None else a.valid_to.isoformat()}"
                for a in v.history
                if a.valid_to is None or a.valid_to > a.valid_from
            )
            table.add_row(v.name, _stations_text(v.stations), history)
        console.print(table)

    guarded(run)


@factory_app.command("assign")
def factory_assign(
    name: Annotated[str, typer.Argument(help="The staff member.")],
    stations: Annotated[str, typer.Option("--stations", help="Stations held, comma-separated.")],
    from_: Annotated[str, typer.Option("--from", help="First day of the new assignment.")],
    note: Annotated[str, typer.Option("--note", help="Why (recorded).")] = "",
    by: ByOpt = "factory-manager",
    at: AtOpt = None,
    db: DbOpt = None,
) -> None:
    """Hold a staff member at exactly these stations from a date on (岗位调整)."""
    from xiaowei.entrypoints.cli import console, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.factory import assign

        day = _day(from_, "from")
        assert day is not None
        change = assign(
            engine_for(db), name, stations=stations, from_date=day, by=by, note=note, at=_at(at)
        )
        console.print(
            f"{name}: {_stations_text(change.before)} → {_stations_text(change.after)} "
            f"from {day.isoformat()}",
            highlight=False,
        )

    guarded(run)


@factory_app.command("rotate")
def factory_rotate(
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan", help="A rotation plan (JSON or YAML list of {from, staff, stations})."
        ),
    ] = None,
    every_weeks: Annotated[
        int | None, typer.Option("--every-weeks", help="Rotate every K weeks along a cycle.")
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="First rotation day (plan: entries from it).")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", help="Store the rotations through this day (default: only the first)."
        ),
    ] = None,
    stations: Annotated[
        str, typer.Option("--stations", help="The cycle, in order (with --every-weeks).")
    ] = "verification,analysis",
    by: ByOpt = "factory-manager",
    at: AtOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply job rotation (轮岗): a cycle every K weeks, or a written plan."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        import json

        import yaml

        from xiaowei.bootstrap import engine_for
        from xiaowei.core.errors import InvalidInput
        from xiaowei.decision.factory import parse_plan, parse_stations
        from xiaowei.services.factory import rotate, rotate_every

        engine = engine_for(db)
        start, last = _day(from_, "from"), _day(until, "until")
        if (plan is None) == (every_weeks is None):
            raise InvalidInput("rotate", "give either --plan FILE or --every-weeks K --from DATE")
        if every_weeks is not None:
            if start is None:
                raise InvalidInput("from", "--every-weeks needs --from DATE")
            order = [s.strip() for s in stations.split(",") if s.strip()]
            parse_stations(order)
            _, changes = rotate_every(
                engine,
                every_weeks=every_weeks,
                start=start,
                until=last,
                cycle=order,
                by=by,
                at=_at(at),
            )
        else:
            assert plan is not None
            if not plan.is_file():
                raise InvalidInput("plan", f"{plan} is not a file")
            text = plan.read_text(encoding="utf-8")
            data = json.loads(text) if plan.suffix == ".json" else yaml.safe_load(text)
            changes = rotate(engine, parse_plan(data), by=by, start=start, until=last, at=_at(at))
        if as_json:
            _print_json(
                [
                    {
                        "staff": c.staff,
                        "from": c.from_date.isoformat(),
                        "before": sorted(s.value for s in c.before),
                        "after": sorted(s.value for s in c.after),
                    }
                    for c in changes
                ]
            )
            return
        for c in changes:
            console.print(
                f"{c.from_date.isoformat()} {c.staff}: {_stations_text(c.before)} → "
                f"{_stations_text(c.after)}",
                highlight=False,
            )
        console.print(f"rotated 已轮岗: {len(changes)} changes", highlight=False)

    guarded(run)


# --------------------------------------------------------------------------- cases
@factory_app.command("open")
def factory_open(
    application_id: ApplicationArg,
    borrower: Annotated[str, typer.Option("--borrower", help="The borrower's name.")],
    amount: Annotated[str, typer.Option("--amount", help="Amount applied for (CNY).")],
    term: TermOpt,
    by: ByOpt,
    decision: Annotated[
        int | None, typer.Option("--decision", help="The automated decision record, if any.")
    ] = None,
    at: AtOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Receive an application at intake (受理进件)."""
    from xiaowei.entrypoints.cli import _print_json, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.core.money import parse_amount
        from xiaowei.services.factory import open_case

        case = open_case(
            engine_for(db),
            application_id=application_id,
            borrower=borrower,
            amount=parse_amount(amount),
            term_months=term,
            decision_id=decision,
            by=by,
            at=_at(at),
        )
        if as_json:
            _print_json(_case_json(case))
        else:
            _say(case, f"opened 已受理 ({case.application_id}, {case.amount} CNY)")

    guarded(run)


@factory_app.command("claim")
def factory_claim(case: CaseArg, by: ByOpt, at: AtOpt = None, db: DbOpt = None) -> None:
    """Take a case from its station's queue (领取)."""
    from xiaowei.entrypoints.cli import guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.factory import claim

        _say(claim(engine_for(db), case, by=by, at=_at(at)), "claimed 已领取")

    guarded(run)


@factory_app.command("complete")
def factory_complete(
    case: CaseArg,
    by: ByOpt,
    outcome: Annotated[
        str, typer.Option("--outcome", help="pass | return | decline | approve (at approval).")
    ],
    to: Annotated[
        str | None, typer.Option("--to", help="With return: the earlier station to redo.")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="Remark (required with return).")] = "",
    at: AtOpt = None,
    db: DbOpt = None,
) -> None:
    """Finish the claimed step (完成): pass, return for rework, decline, approve."""
    from xiaowei.entrypoints.cli import guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.factory import complete

        done = complete(engine_for(db), case, by=by, outcome=outcome, to=to, note=note, at=_at(at))
        _say(done, f"{outcome.strip().lower()}")

    guarded(run)


@factory_app.command("reassign")
def factory_reassign(
    case: CaseArg,
    to: Annotated[str, typer.Option("--to", help="The new holder.")],
    by: ByOpt,
    reason: Annotated[str, typer.Option("--reason", help="Why (改派原因).")],
    at: AtOpt = None,
    db: DbOpt = None,
) -> None:
    """Hand a claimed case to another eligible person (改派)."""
    from xiaowei.entrypoints.cli import guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.factory import reassign

        _say(
            reassign(engine_for(db), case, to=to, by=by, reason=reason, at=_at(at)),
            "reassigned 已改派",
        )

    guarded(run)


@factory_app.command("queue")
def factory_queue(
    station: Annotated[str, typer.Argument(help="The station.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The cases at a station (队列), oldest first: waiting and in service."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from rich.table import Table

        from xiaowei.bootstrap import engine_for
        from xiaowei.decision.factory import Station
        from xiaowei.services.factory import queue

        where = Station.parse(station)
        cases = queue(engine_for(db), where)
        if as_json:
            _print_json([_case_json(c) for c in cases])
            return
        table = Table(title=f"queue 队列: {_st(where)}")
        for column in ("case", "application 申请", "borrower 借款人", "amount 金额"):
            table.add_column(column, justify="right" if column.startswith("amount") else "left")
        for column in ("queued 排队", "holder 处理人", "rework 返工"):
            table.add_column(column, no_wrap=True)
        for c in cases:
            step = c.steps[-1]
            table.add_row(
                str(c.id),
                c.application_id,
                c.borrower,
                f"{c.amount:,}",
                _hm(step.enqueued_at),
                step.staff or "—",
                YES if step.rework else "",
            )
        console.print(table)

    guarded(run)


@factory_app.command("show")
def factory_show(case: CaseArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """A case and its steps: who, when, waiting and service time, outcome."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from rich.table import Table

        from xiaowei.bootstrap import engine_for
        from xiaowei.services.factory import get_case

        c = get_case(engine_for(db), case)
        if as_json:
            _print_json(_case_json(c))
            return
        console.print(
            f"case {c.id} 进件: {c.application_id} · {c.borrower} · {c.amount:,} CNY · "
            f"{c.term_months} months · {_where(c)}",
            highlight=False,
            soft_wrap=True,
        )
        table = Table()
        for column in ("#", "station 工位", "staff 人员", "queued 排队", "claimed 领取"):
            table.add_column(column, no_wrap=True)
        for column in ("wait h", "work h"):
            table.add_column(column, justify="right")
        table.add_column("outcome 结果")
        for s in c.steps:
            outcome = "" if s.outcome is None else s.outcome.value
            if s.note:
                outcome += f": {s.note}"
            staff = s.staff or "—"
            if s.reassigned_from:
                staff = "→".join((*s.reassigned_from, staff))
            table.add_row(
                f"{s.seq}{'*' if s.rework else ''}",
                s.station.value,
                staff,
                _short(s.enqueued_at),
                _short(s.claimed_at),
                "" if s.waiting_hours is None else f"{s.waiting_hours:.1f}",
                "" if s.service_hours is None else f"{s.service_hours:.1f}",
                outcome,
            )
        console.print(table)

    guarded(run)


@factory_app.command("events")
def factory_events(case: CaseArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The audit trail of a case (审计记录)."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from rich.table import Table

        from xiaowei.bootstrap import engine_for
        from xiaowei.services.factory import events

        rows = events(engine_for(db), case)
        if as_json:
            _print_json([{**r, "at": r["at"].isoformat()} for r in rows])
            return
        table = Table()
        for column in ("at 时间", "action 动作", "by 操作人", "station 工位", "from → to", "note"):
            table.add_column(column)
        for r in rows:
            move = f"{r['from_state'] or ''} → {r['to_state'] or ''}".strip(" →")
            table.add_row(_hm(r["at"]), r["action"], r["by"], r["station"] or "", move, r["note"])
        console.print(table)

    guarded(run)


# --------------------------------------------------------------------------- metrics
def _f(value: float | None, fmt: str = ".1f") -> str:
    return "—" if value is None else format(value, fmt)


def _metrics_tables(m: Any) -> None:
    from rich.table import Table

    from xiaowei.entrypoints.cli import console

    rework = "—" if m.rework_rate is None else f"{m.rework_rate:.1%}"
    console.print(
        f"{m.start:%Y-%m-%d} – {m.end:%Y-%m-%d}: opened 进件 {m.opened}, signed 签约 {m.signed}, "
        f"declined 拒绝 {m.declined}, open at end 在途 {m.open_at_end}\n"
        f"throughput 产能 {m.throughput_per_day:.2f}/day, {m.throughput_per_week:.1f}/week · "
        f"cycle time 周期 p50 {_f(m.cycle_p50_days, '.2f')} d, p90 {_f(m.cycle_p90_days, '.2f')} d"
        f" · rework rate 返工率 {rework} ({m.reworked} of {m.closed} closed)",
        highlight=False,
        soft_wrap=True,
    )
    table = Table(title="stations 工位 (hours 小时)")
    table.add_column("station 工位")
    for column in ("done", "wait", "wait p90", "work", "work p90", "returned", "queue", "busy"):
        table.add_column(column, justify="right")
    for s in m.stations:
        table.add_row(
            f"{s.station.value} {s.station.name_zh}",
            str(s.completed),
            _f(s.waiting_mean_h),
            _f(s.waiting_p90_h),
            _f(s.service_mean_h),
            _f(s.service_p90_h),
            str(s.returns_from),
            str(s.queue_waiting),
            str(s.queue_in_service),
        )
    console.print(table)
    if m.staff:
        people = Table(title="per staff 人员工作量")
        for column in ("staff 人员", "station 工位"):
            people.add_column(column)
        for column in ("steps 件数", "hours 小时"):
            people.add_column(column, justify="right")
        for v in m.staff:
            people.add_row(v.staff, v.station.value, str(v.steps), f"{v.service_hours:.1f}")
        console.print(people)


@factory_app.command("metrics")
def factory_metrics(
    from_: Annotated[
        str | None, typer.Option("--from", help="First day (default: the first case's).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Day after the period (default: after the last).")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Write a PNG: time per station, cycle times.")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What a factory manager reads: throughput, cycle time, per-station waiting and service
    time, rework rate, queues, per-staff volume."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.factory import metrics

        m = metrics(engine_for(db), start=_day(from_, "from"), end=_day(to, "to"))
        if chart is not None:
            from xiaowei.reports.factory_charts import metrics_chart

            metrics_chart(m, chart)
        if as_json:
            _print_json(m.to_json())
            return
        _metrics_tables(m)
        if chart is not None:
            console.print(f"chart: {chart}", highlight=False)

    guarded(run)


@factory_app.command("simulate")
def factory_simulate(
    days: Annotated[int, typer.Option("--days", help="Working days to simulate.")] = 56,
    rotation_weeks: Annotated[
        int, typer.Option("--rotation-weeks", help="Rotate every K weeks (against fixed).")
    ] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 2025,
    arrivals: Annotated[
        float, typer.Option("--arrivals", help="Applications per day (Poisson).")
    ] = 6.0,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Write a PNG comparing the two scenarios.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Teaching simulation (教学模拟): fixed assignment against rotation every K weeks, the
    same applications; throughput, cycle time, rework and relationship capture."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from rich.table import Table

        from xiaowei.decision.factory_sim import SimConfig, simulate

        result = simulate(
            SimConfig(days=days, seed=seed, arrivals_per_day=arrivals), rotation_weeks
        )
        if chart is not None:
            from xiaowei.reports.factory_charts import simulation_chart

            simulation_chart(result, chart)
        if as_json:
            _print_json(result.to_json())
            return
        f, r = result.fixed, result.rotation
        table = Table(title=f"{days} days, seed {seed}, {arrivals:g} applications a day")
        table.add_column("measure 指标")
        table.add_column("fixed 固定岗位", justify="right")
        table.add_column(f"rotation 轮岗 {rotation_weeks}w", justify="right")

        def row(label: str, get: Any) -> None:
            table.add_row(label, get(f), get(r))

        row("applications 进件", lambda s: str(s.metrics.opened))
        row("signed 签约", lambda s: str(s.metrics.signed))
        row("declined 拒绝", lambda s: str(s.metrics.declined))
        row("open at end 在途", lambda s: str(s.metrics.open_at_end))
        row("signed per week 周产能", lambda s: f"{s.metrics.throughput_per_week:.1f}")
        row("cycle p50 days 周期中位数", lambda s: _f(s.metrics.cycle_p50_days, ".2f"))
        row("cycle p90 days 周期90分位", lambda s: _f(s.metrics.cycle_p90_days, ".2f"))
        row("rework rate 返工率", lambda s: _f(s.metrics.rework_rate, ".1%"))
        for station in ("verification", "analysis"):
            row(
                f"{station} wait h",
                lambda s, st=station: _f(
                    next(x for x in s.metrics.stations if x.station.value == st).waiting_mean_h
                ),
            )
        row("longest same-verifier run, days 最长连续核查", lambda s: f"{s.longest_run_days:.0f}")
        row("top verifier share of a market 单人占比", lambda s: f"{s.top_verifier_share:.0%}")
        console.print(table)
        if chart is not None:
            console.print(f"chart: {chart}", highlight=False)

    guarded(run)
